// A CREATE replayed after a lost channel, from inside a lab's client namespace (see lab.ts and
// mc-run.ts): connects with N channels, prints "mark create" and waits for "ack" on stdin (the
// parent cuts the replies of link 1 then), creates `path` with disposition CREATE (which fails
// with STATUS_OBJECT_NAME_COLLISION if the server runs it twice), writes `content` through the
// handle and closes it, prints "io done", waits for the ack again (the parent restores the
// link), and prints one JSON line of what happened.
// Usage: node --import tsx test/harness/mc-create.ts '<json McCreateArgs>'
import { createInterface } from 'node:readline';
import { connect } from '../../src/client/index.js';
import { jsonMain } from './json-main.js';
import type { McClientArgs } from './mc-client.js';
import { Access, CreateDisposition } from '../../src/protocol/constants.js';

export type McCreateArgs = Pick<McClientArgs, 'host' | 'port' | 'share' | 'user' | 'password' | 'channels' | 'path'> & { content: string };

export interface McCreateResult {
  /** The address of the channel the CREATE went out on. */
  createdOn: string;
  losses: Array<{ address: string; reason: string }>;
  replays: number;
  notAvailable: number;
  createMs: number;
  /** The error the CREATE (or the write after it) ended with, if any. */
  error?: string;
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ack = async (mark: string) => {
  console.log(mark);
  await lines.next();
};

async function main(a: McCreateArgs): Promise<McCreateResult> {
  const c = await connect({ host: a.host, port: a.port, share: a.share, user: a.user, password: a.password });
  try {
    if (a.channels > 1) await c.addChannels(a.channels - 1);
    const cs = c.session.channels;
    // With nothing in flight, a request goes to the first channel: the one to `host`.
    const createdOn = cs.pick(0)!.connection.remoteAddress;
    await ack('mark create');
    const t = Date.now();
    let error: string | undefined;
    try {
      const f = await c.tree.open(a.path, { access: Access.GENERIC_WRITE | Access.GENERIC_READ, disposition: CreateDisposition.CREATE });
      await f.write(0, Buffer.from(a.content));
      await f.close();
    } catch (e) {
      error = (e as Error).message;
    }
    const createMs = Date.now() - t;
    await ack('io done');
    return {
      createdOn,
      losses: cs.losses.map((l) => ({ address: l.channel.connection.remoteAddress, reason: l.reason.message })),
      replays: cs.replays,
      notAvailable: cs.notAvailable,
      createMs,
      error,
    };
  } finally {
    await c.close();
  }
}

jsonMain(main);
