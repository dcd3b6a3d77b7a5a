import { randomBytes } from 'node:crypto';
import { Connection } from './connection.js';
import { negotiate, type NegotiateOptions, type NegotiateResult } from './negotiate.js';
import { Session, type Credentials, type SessionOptions } from './session.js';
import type { Tree } from './tree.js';

export interface ConnectOptions extends NegotiateOptions, SessionOptions, Credentials {
  host: string;
  port?: number;
  share: string;
}

export interface SmbClient {
  connection: Connection;
  negotiated: NegotiateResult;
  session: Session;
  tree: Tree;
  /** Tree disconnect, logoff, close the socket. */
  close(): Promise<void>;
}

/** Connect, negotiate, authenticate and connect to one share: the common path in one call. */
export async function connect(o: ConnectOptions): Promise<SmbClient> {
  const connection = await Connection.connect(o.host, o.port ?? 445);
  try {
    const negotiated = await negotiate(connection, randomBytes(16), o);
    const session = await Session.setup(connection, negotiated, o, o);
    const tree = await session.connectTree(o.host, o.share);
    return {
      connection,
      negotiated,
      session,
      tree,
      async close() {
        await tree.disconnect().catch(() => undefined);
        await session.logoff();
        connection.close();
      },
    };
  } catch (e) {
    connection.close();
    throw e;
  }
}
