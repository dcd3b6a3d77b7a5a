// A loopback TCP proxy for one client connection that can hold back what the client sends: the
// test sees what the server does with a request that has only partly arrived. While it holds,
// the client's hang-up is held too, as a dead link would; release() then delivers the late
// bytes and the hang-up, as a link that comes back.
import net from 'node:net';

export class HoldingProxy {
  private readonly server: net.Server;
  private client?: net.Socket;
  private upstream?: net.Socket;
  /** Client bytes that may still pass before the rest is held; Infinity when not holding. */
  private allowance = Infinity;
  private held: Buffer[] = [];
  private clientGone = false;

  private constructor(private readonly targetPort: number) {
    this.server = net.createServer((sock) => this.accept(sock));
  }

  static async start(targetPort: number): Promise<HoldingProxy> {
    const p = new HoldingProxy(targetPort);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    return p;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(sock: net.Socket): void {
    if (this.client) {
      sock.destroy();
      return;
    }
    this.client = sock;
    const up = net.connect(this.targetPort, '127.0.0.1');
    this.upstream = up;
    up.on('data', (d: Buffer) => sock.write(d));
    sock.on('data', (d: Buffer) => this.forward(d));
    const end = () => this.cut();
    up.on('close', end);
    up.on('error', end);
    const clientEnd = () => {
      this.clientGone = true;
      if (this.allowance === Infinity) this.cut();
    };
    sock.on('close', clientEnd);
    sock.on('error', clientEnd);
  }

  private forward(d: Buffer): void {
    if (this.held.length) {
      this.held.push(d);
      return;
    }
    const pass = Math.min(d.length, this.allowance);
    if (pass > 0) this.upstream!.write(d.subarray(0, pass));
    if (this.allowance !== Infinity) this.allowance -= pass;
    if (pass < d.length) this.held.push(d.subarray(pass));
  }

  /** From now on, let `bytes` more of the client's bytes through and hold the rest. */
  holdAfter(bytes: number): void {
    this.allowance = bytes;
  }

  /** Sends what was held and stops holding. */
  release(): void {
    this.allowance = Infinity;
    const held = this.held.splice(0);
    for (const d of held) this.upstream!.write(d);
    if (this.clientGone) this.upstream!.end();
  }

  /** Drops both sides of the connection at once. */
  cut(): void {
    this.client?.destroy();
    this.upstream?.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
