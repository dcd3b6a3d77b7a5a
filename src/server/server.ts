import net from 'node:net';
import pino from 'pino';
import type { ServerOptions, ShareConfig, UserStore } from './options.js';
import { ServerContext } from './context.js';
import { Share } from './shares.js';
import { Connection } from './connection.js';
import { PosixBackend } from '../vfs/posix.js';
import { AckTracker } from '../transport/ack-tracker.js';

const noUsers: UserStore = { get: async () => undefined };

/** An SMB 2/3 server: one instance owns its listeners, connections and state. */
export class SmbServer {
  readonly context: ServerContext;
  private readonly listeners: net.Server[] = [];
  private closing = false;

  constructor(readonly options: ServerOptions) {
    const logger = options.logger ?? pino({ level: 'silent' });
    this.context = new ServerContext(options, logger, options.users ?? noUsers);
  }

  private async prepareShares(): Promise<void> {
    const ctx = this.context;
    if (ctx.shares.size > 0) return;
    const ipc: ShareConfig = { name: 'IPC$', readOnly: false, guestOk: true, browseable: false, encrypt: 'off', comment: 'IPC Service' };
    ctx.addShare(new Share('IPC$', ipc, undefined));
    for (const cfg of this.options.shares) {
      if (cfg.name.toLowerCase() === 'ipc$') throw new Error('share name IPC$ is reserved');
      let backend = cfg.backend;
      if (!backend) {
        if (!cfg.path) throw new Error(`share ${cfg.name}: no path`);
        const posix = await PosixBackend.create(cfg.path, { readOnly: cfg.readOnly });
        if (!posix.capabilities.xattrs) {
          ctx.logger.warn({ share: cfg.name, path: cfg.path }, 'no user xattrs on this file system: DOS attributes fall back to permission bits, set creation times are not kept');
        }
        backend = posix;
      }
      ctx.addShare(new Share(cfg.name, cfg, backend));
    }
  }

  /** Starts listening on every configured address; resolves when all are bound. */
  async listen(): Promise<void> {
    await this.prepareShares();
    if (!AckTracker.available && this.options.multiChannel !== false) {
      this.context.logger.warn('TCP_INFO is not readable here: oplock and lease breaks count as delivered once written, a dead channel is noticed only when its socket fails');
    }
    const port = this.options.port ?? 445;
    const addrs = this.options.listen?.length ? this.options.listen : [undefined];
    let boundPort = port;
    for (const host of addrs) {
      // Paused: the transport moves the handle to a socket that reads into buffers it picks.
      const srv = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: boundPort, host }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      // With port 0 every address shares the port the first one got.
      boundPort = (srv.address() as net.AddressInfo).port;
      srv.on('error', (err) => this.context.logger.error({ err }, 'listener error'));
      this.listeners.push(srv);
    }
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Connection(this.context, socket);
    this.context.connections.add(conn);
  }

  /** Bound addresses (useful with port 0). */
  addresses(): net.AddressInfo[] {
    return this.listeners.map((l) => l.address() as net.AddressInfo);
  }

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every connection. */
  async close(graceMs = 5000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    const conns = [...this.context.connections];
    await Promise.race([
      Promise.all(conns.map((c) => c.whenIdle())),
      new Promise((r) => setTimeout(r, graceMs).unref()),
    ]);
    for (const c of conns) c.close('server shutting down');
  }
}

export function createServer(options: ServerOptions): SmbServer {
  return new SmbServer(options);
}
