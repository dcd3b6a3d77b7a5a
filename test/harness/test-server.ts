// An smb3d in this process on a loopback port, with one share 'data' in a temp directory and one
// user, for unit tests that drive it with our client. Tests that need the CLI use server.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createServer, type SmbServer } from '../../src/index.js';
import { ntHashFromPassword } from '../../src/auth/index.js';
import type { ConnectOptions } from '../../src/client/index.js';

export interface TestServer {
  server: SmbServer;
  /** The share's directory. */
  dir: string;
  port: number;
  /** Connect options for the share and user, with `extra` on top. */
  opts(extra?: Partial<ConnectOptions>): ConnectOptions;
  /** Closes the server and removes the share's directory. */
  stop(): Promise<void>;
}

export const TEST_USER = 'alice';
export const TEST_PASSWORD = 'Secret-123';

export async function startTestServer(o: { prefix: string; logger?: Logger; interfaces?: Parameters<typeof createServer>[0]['interfaces'] }): Promise<TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), o.prefix));
  const ntHash = await ntHashFromPassword(TEST_PASSWORD);
  const server = createServer({
    shares: [{ name: 'data', path: dir, readOnly: false, guestOk: false, browseable: true, encrypt: 'if_required' }],
    users: { get: async (n) => (n.toLowerCase() === TEST_USER ? { name: TEST_USER, ntHash } : undefined) },
    port: 0,
    listen: ['127.0.0.1'],
    ...(o.interfaces ? { interfaces: o.interfaces } : {}),
    logger: o.logger ?? pino({ level: 'silent' }),
  });
  await server.listen();
  const port = server.addresses()[0]!.port;
  return {
    server,
    dir,
    port,
    opts: (extra = {}) => ({ host: '127.0.0.1', port, share: 'data', user: TEST_USER, password: TEST_PASSWORD, ...extra }),
    stop: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
