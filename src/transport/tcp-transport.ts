import type net from 'node:net';
import { Framer, FrameError, framePrefix } from './framer.js';
import { AckTracker, type AckOutcome } from './ack-tracker.js';

export interface TransportEvents {
  onFrame(frame: Buffer): void;
  onClose(reason: string): void;
  /** Memory for a frame of `len` bytes that does not arrive in one socket read (a pool); default allocUnsafe. */
  allocFrame?(len: number): Buffer;
}

/**
 * One TCP connection: framing in, vectored writes out, with flow control both ways.
 * Knows nothing about SMB. Counts the bytes handed to the kernel, which the break-ack logic
 * of multichannel (R6) compares with what the peer has acknowledged.
 */
export class TcpTransport {
  private readonly framer: Framer;
  private closed = false;
  /** Application bytes written to the socket so far (prefixes included). */
  bytesWritten = 0;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Which written bytes the peer's TCP has acknowledged (break delivery, R6). */
  readonly ack: AckTracker;

  constructor(
    readonly socket: net.Socket,
    maxFrameSize: number,
    private readonly events: TransportEvents,
  ) {
    this.framer = new Framer(maxFrameSize, events.allocFrame ? (len) => events.allocFrame!(len) : undefined);
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.ack = new AckTracker(() => (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => {
      if (!this.closed) socket.resume();
    });
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('peer closed'));
    socket.on('end', () => this.close('peer ended'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (err) {
      this.close(err instanceof FrameError ? `framing: ${err.message}` : String(err));
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.events.onFrame(f);
    }
  }

  /**
   * Sends one message made of several buffers, without concatenating them. Returns bytes queued.
   * `onSent` runs once the kernel has the bytes (or the socket failed): then the buffers may be reused.
   */
  send(parts: Buffer[], onSent?: () => void): number {
    if (this.closed) {
      onSent?.();
      return 0;
    }
    let len = 0;
    for (const p of parts) len += p.length;
    const s = this.socket;
    s.cork();
    s.write(framePrefix(len));
    let ok = true;
    for (let i = 0; i < parts.length; i++) ok = s.write(parts[i]!, i === parts.length - 1 && onSent ? () => onSent() : undefined);
    s.uncork();
    this.bytesWritten += len + 4;
    // Stop reading requests while the peer is not reading responses: bounds our memory.
    if (!ok) s.pause();
    return len + 4;
  }

  /**
   * Sends a message and resolves when the peer's TCP acknowledged all of it ('acked'), when 6×RTO
   * passed without that ('timeout'), or when the connection ended first ('closed').
   */
  sendAcknowledged(parts: Buffer[]): Promise<AckOutcome> {
    if (this.closed) return Promise.resolve('closed');
    this.send(parts);
    return this.ack.waitFor(this.bytesWritten);
  }

  /**
   * `abort` resets the connection (RST) instead of closing it: a channel given up as dead still has
   * unacknowledged bytes queued, and a FIN would wait behind them; a peer that can still hear us
   * learns at once that the channel is gone and fails what it had pending there.
   */
  close(reason: string, abort = false): void {
    if (this.closed) return;
    this.closed = true;
    this.ack.close();
    if (abort) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.events.onClose(reason);
  }
}
