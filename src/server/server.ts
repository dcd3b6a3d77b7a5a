import net from 'node:net';
import type { ServerOptions } from './options.js';

/** API placeholder: the real implementation replaces this file. */
export class SmbServer {
  constructor(readonly options: ServerOptions) {}
  /** Starts listening on every configured address; resolves when all are bound. */
  async listen(): Promise<void> {}
  /** Bound addresses (useful with port 0). */
  addresses(): net.AddressInfo[] {
    return [];
  }
  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {}
}

export function createServer(options: ServerOptions): SmbServer {
  return new SmbServer(options);
}
