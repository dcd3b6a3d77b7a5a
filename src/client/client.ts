import { randomBytes } from 'node:crypto';
import { Connection } from './connection.js';
import { negotiate, type NegotiateOptions, type NegotiateResult } from './negotiate.js';
import { Session, type Credentials, type SessionOptions } from './session.js';
import { chooseChannelTargets, type ServerInterface } from './interfaces.js';
import type { ChannelLoss, SessionChannel } from './channels.js';
import type { Tree } from './tree.js';

export interface ConnectOptions extends NegotiateOptions, SessionOptions, Credentials {
  host: string;
  port?: number;
  share: string;
  /**
   * Channels wanted in all (multichannel, SMB 3.x): after the session is up, the client asks the
   * server for its interfaces and binds up to `channels - 1` more connections. Default 1.
   */
  channels?: number;
  /**
   * After losing a channel, try to bind a new one to the same address this often until it works
   * (the link came back) or the client closes. Default 1000 ms; 0 never.
   */
  rebindIntervalMs?: number;
  /** Give up on the first TCP connect after this long (default 0: the operating system's timeout, minutes). */
  connectTimeoutMs?: number;
}

export interface ChannelReport {
  /** The channels bound by this call (not the first one). */
  added: SessionChannel[];
  /** Addresses that were tried and could not be bound, with why ('' when the interface query failed). */
  failed: Array<{ address: string; error: Error }>;
  /** What the server advertised. */
  interfaces: ServerInterface[];
}

export interface SmbClient {
  connection: Connection;
  negotiated: NegotiateResult;
  session: Session;
  tree: Tree;
  /** Binds up to `extra` more channels to advertised server addresses (none twice). */
  addChannels(extra: number): Promise<ChannelReport>;
  /** Tree disconnect, logoff, close the sockets. */
  close(): Promise<void>;
}

/** Connect, negotiate, authenticate and connect to one share: the common path in one call. */
export async function connect(o: ConnectOptions): Promise<SmbClient> {
  const port = o.port ?? 445;
  const connection = await Connection.connect(o.host, port, o.connectTimeoutMs ?? 0);
  let closing = false;
  const rebindMs = o.rebindIntervalMs ?? 1000;
  // Rebinding runs in the background: IO goes on over the channels left meanwhile.
  const rebind = (loss: ChannelLoss) => {
    const { connection: lostConn, speed } = loss.channel;
    const address = lostConn.remoteAddress;
    if (!rebindMs || !address) return;
    const attempt = () => {
      if (closing) return;
      session.bindChannel(address, speed).then(
        () => undefined,
        () => setTimeout(attempt, rebindMs).unref(),
      );
    };
    setTimeout(attempt, rebindMs).unref();
  };
  const onChannelLoss = (loss: ChannelLoss) => {
    o.onChannelLoss?.(loss);
    rebind(loss);
  };
  let session: Session;
  try {
    const negotiated = await negotiate(connection, randomBytes(16), o);
    session = await Session.setup(connection, negotiated, o, { ...o, onChannelLoss }, port);
    const tree = await session.connectTree(o.host, o.share);
    const client: SmbClient = {
      connection,
      negotiated,
      session,
      tree,
      async addChannels(extra) {
        let interfaces: ServerInterface[];
        try {
          interfaces = await tree.queryNetworkInterfaces();
        } catch (error) {
          // A server without multichannel (or with it off) answers the FSCTL with an error: the
          // session goes on with the one channel it has.
          return { added: [], failed: [{ address: '', error: error as Error }], interfaces: [] };
        }
        const first = session.channels.list[0]!;
        const mine = interfaces.find((i) => sameAddress(i.address, connection.remoteAddress));
        if (mine && !first.speed) first.speed = mine.speed;
        const used = session.channels.alive.map((c) => c.connection.remoteAddress);
        const report: ChannelReport = { added: [], failed: [], interfaces };
        // All at once: an advertised address this client cannot reach costs its connect timeout
        // once, not once per address after it.
        const targets = chooseChannelTargets(interfaces, extra, used);
        const results = await Promise.allSettled(targets.map((t) => session.bindChannel(t.address, t.speed)));
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') report.added.push(r.value);
          else report.failed.push({ address: targets[i]!.address, error: r.reason as Error });
        });
        return report;
      },
      async close() {
        closing = true;
        await tree.disconnect().catch(() => undefined);
        await session.logoff();
        connection.close();
      },
    };
    if ((o.channels ?? 1) > 1) await client.addChannels(o.channels! - 1);
    return client;
  } catch (e) {
    connection.close();
    throw e;
  }
}

const sameAddress = (a: string, b: string): boolean => a.replace(/^::ffff:/i, '') === b.replace(/^::ffff:/i, '');
