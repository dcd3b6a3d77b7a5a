// Runs our client inside a lab's client namespace (see lab.ts): connects with N channels, writes
// a file of random bytes, reads it back, and prints one JSON line of what happened. The parent
// test checks the server's side (its log, the file on disk, the links' byte counters).
// Usage: node --import tsx test/harness/mc-client.ts '<json McClientArgs>'
// With `markAt`, it prints "mark write" / "mark read" when that share of a phase is done (the
// parent cuts a link then), "done write" / "done read" when a phase ends, and "io done" at the
// end, after which it waits up to `waitChannelsMs` for the session to have all its channels
// again (the parent restores the links then). mc-run.ts starts it from a test or the bench.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from '../../src/client/index.js';
import { jsonMain } from './json-main.js';

export interface McClientArgs {
  host: string;
  port: number;
  share: string;
  user: string;
  password: string;
  channels: number;
  sizeMiB: number;
  path: string;
  encrypt?: boolean;
  /** false: requests go unsigned where the server does not require signing (binds are signed all the same). */
  sign?: boolean;
  markAt?: number;
  waitChannelsMs?: number;
  stallTimeoutMs?: number;
  /** Bytes per READ/WRITE in KiB; default 1024. */
  chunkKiB?: number;
}

export interface McClientResult {
  channels: Array<{ address: string; bytes: number }>;
  failed: string[];
  written: string;
  read: string;
  writeMs: number;
  readMs: number;
  /** Longest time without a completed READ/WRITE, per phase: the stall a failover costs. */
  writeMaxGapMs: number;
  readMaxGapMs: number;
  losses: Array<{ address: string; reason: string; sequence: number }>;
  replays: number;
  /** Replays the server first answered STATUS_FILE_NOT_AVAILABLE (channel sequence barrier). */
  notAvailable: number;
  /** Channels alive at the end (after waiting for rebinds, if asked). */
  aliveAtEnd: number;
  reboundMs?: number;
  /** How long binding the extra channels took (addChannels). */
  bindMs: number;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function main(a: McClientArgs): Promise<McClientResult> {
  const c = await connect({ host: a.host, port: a.port, share: a.share, user: a.user, password: a.password, encrypt: a.encrypt, sign: a.sign, stallTimeoutMs: a.stallTimeoutMs });
  try {
    const bindStart = Date.now();
    const report = a.channels > 1 ? await c.addChannels(a.channels - 1) : { failed: [] };
    const bindMs = Date.now() - bindStart;
    const data = randomBytes(a.sizeMiB * 1024 * 1024);
    const phase = async (name: string, run: (io: object) => Promise<unknown>) => {
      let done = 0;
      let marked = false;
      let last = Date.now();
      let maxGap = 0;
      const onProgress = (n: number) => {
        const now = Date.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        done += n;
        if (a.markAt !== undefined && !marked && done >= a.markAt * data.length) {
          marked = true;
          console.log(`mark ${name}`);
        }
      };
      const t = Date.now();
      // Enough requests in flight to fill every channel's pipe.
      const result = await run({ chunkSize: (a.chunkKiB ?? 1024) * 1024, depth: 8 * a.channels, onProgress });
      if (a.markAt !== undefined) console.log(`done ${name}`);
      return { ms: Date.now() - t, maxGap, result };
    };
    const w = await phase('write', (io) => c.tree.writeFile(a.path, data, io));
    // The read-back buffer is allocated and touched before the clock starts, as `data` is: first
    // touches of fresh memory cost this VM ~2.5 s/GiB (free page reporting), which would otherwise
    // be most of what the read phase measures.
    const back = Buffer.allocUnsafe(data.length).fill(0);
    const r = await phase('read', (io) => c.tree.readFile(a.path, { ...io, into: back }));
    let reboundMs: number | undefined;
    if (a.waitChannelsMs) {
      console.log('io done');
      const t = Date.now();
      while (c.session.channels.alive.length < a.channels && Date.now() - t < a.waitChannelsMs) await new Promise((ok) => setTimeout(ok, 50));
      if (c.session.channels.alive.length >= a.channels) reboundMs = Date.now() - t;
    }
    const cs = c.session.channels;
    return {
      writeMaxGapMs: w.maxGap,
      readMaxGapMs: r.maxGap,
      losses: cs.losses.map((l) => ({ address: l.channel.connection.remoteAddress, reason: l.reason.message, sequence: l.sequence })),
      replays: cs.replays,
      notAvailable: cs.notAvailable,
      aliveAtEnd: cs.alive.length,
      reboundMs,
      bindMs,
      channels: c.session.channels.list.map((ch) => ({ address: ch.connection.remoteAddress, bytes: ch.bytes })),
      failed: report.failed.map((f) => `${f.address}: ${f.error.message}`),
      written: sha(data),
      read: sha(back),
      writeMs: w.ms,
      readMs: r.ms,
    };
  } finally {
    await c.close();
  }
}

jsonMain(main);
