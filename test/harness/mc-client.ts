// Runs our client inside a lab's client namespace (see lab.ts): connects with N channels, writes
// a file of random bytes, reads it back, and prints one JSON line of what happened. The parent
// test checks the server's side (its log, the file on disk, the links' byte counters).
// Usage: node --import tsx test/harness/mc-client.ts '<json McClientArgs>'
import { createHash, randomBytes } from 'node:crypto';
import { connect } from '../../src/client/index.js';

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
}

export interface McClientResult {
  channels: Array<{ address: string; bytes: number }>;
  failed: string[];
  written: string;
  read: string;
  writeMs: number;
  readMs: number;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function main(a: McClientArgs): Promise<McClientResult> {
  const c = await connect({ host: a.host, port: a.port, share: a.share, user: a.user, password: a.password, encrypt: a.encrypt });
  try {
    const report = a.channels > 1 ? await c.addChannels(a.channels - 1) : { failed: [] };
    const data = randomBytes(a.sizeMiB * 1024 * 1024);
    // Enough requests in flight to fill every channel's pipe.
    const io = { chunkSize: 1024 * 1024, depth: 8 * a.channels };
    let t = Date.now();
    await c.tree.writeFile(a.path, data, io);
    const writeMs = Date.now() - t;
    t = Date.now();
    const back = await c.tree.readFile(a.path, io);
    const readMs = Date.now() - t;
    return {
      channels: c.session.channels.list.map((ch) => ({ address: ch.connection.remoteAddress, bytes: ch.bytes })),
      failed: report.failed.map((f) => `${f.address}: ${f.error.message}`),
      written: sha(data),
      read: sha(back),
      writeMs,
      readMs,
    };
  } finally {
    await c.close();
  }
}

main(JSON.parse(process.argv[2]!) as McClientArgs).then(
  (r) => console.log(JSON.stringify(r)),
  (e: Error) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  },
);
