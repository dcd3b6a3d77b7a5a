// Our client's multichannel aggregate and failover in the multi-link lab (test/harness/lab.ts),
// against smb3d and against Samba's smbd in the same run, servers alternating per round:
// - 1 channel and N channels over N links rate-limited with tc tbf: write (put) and read (get) of
//   one file, as a share of the sum of the link rates;
// - failover: an N-channel put and get of one large file while one link is cut with an nftables
//   drop rule (link 2 at 30% of the put, restored when the put is done; link 3 at 30% of the get):
//   SHA-256 of what was read back and of the file on the server's disk, the longest stall, and
//   whether any WRITE ran twice on the server. smb3d logs each open's executed WRITEs and their
//   bytes when it closes (debug line "open closed"); smbd is run with vfs_full_audit logging every
//   pwrite/pwrite_send it makes, counted for the file. `--failover-cut replies` drops only what
//   the server sends on the cut link: requests still arrive and run, their answers are lost, so
//   the client replays WRITEs that did run (more of them with a smaller --chunk).
// Medians over the rounds.
//
//   npx tsc -p tsconfig.json && node --import tsx bench/multichannel.ts [--links 4] [--rate 200]
//        [--size 32] [--rounds 5] [--failover-size 1024] [--failover-rounds 3]
//        [--failover-cut both|replies] [--chunk KiB] [--sign on|off] [--servers smb3d,smbd] [--markdown out.md]
//        [--json figures.json]
//
// Root only (network namespaces; smbd needs Debian's samba). --failover-size 0 skips failover.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, type Lab } from '../test/harness/lab.js';
import { smbdAvailable } from '../test/harness/smbd.js';
import { runClient, runClientLive, smb3dWrites, smbdWrites, startSmb3dInLab, startSmbdInLab, SMBD_LAB_PORT } from '../test/harness/mc-run.js';
import type { McClientArgs, McClientResult } from '../test/harness/mc-client.js';
import type { MultichannelFigures } from './figures.js';

const { values } = parseArgs({
  options: {
    links: { type: 'string', default: '4' },
    rate: { type: 'string', default: '200' },
    size: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '5' },
    'failover-size': { type: 'string', default: '1024' },
    'failover-rounds': { type: 'string', default: '3' },
    servers: { type: 'string', default: 'smb3d,smbd' },
    'failover-cut': { type: 'string', default: 'both' },
    chunk: { type: 'string', default: '1024' },
    sign: { type: 'string', default: 'on' },
    markdown: { type: 'string' },
    json: { type: 'string' },
  },
});
const links = Number(values.links);
const rate = Number(values.rate);
const sizeMiB = Number(values.size);
const rounds = Number(values.rounds);
const foSizeMiB = Number(values['failover-size']);
const foRounds = foSizeMiB > 0 ? Number(values['failover-rounds']) : 0;
const serverNames = values.servers.split(',').filter(Boolean);
const foCut = values['failover-cut'] as 'both' | 'replies';
if (foCut !== 'both' && foCut !== 'replies') throw new Error('--failover-cut is both or replies');
const chunkKiB = Number(values.chunk);
if (values.sign !== 'on' && values.sign !== 'off') throw new Error('--sign is on or off');
/** Signing costs the client CPU on every READ/WRITE; off leaves it to the server's requirement (neither here requires it). */
const sign = values.sign === 'on';
if (serverNames.includes('smbd') && !smbdAvailable()) throw new Error('smbd is not installed (Debian samba) or this is not root');
if (links < 3 && foRounds) throw new Error('failover cuts links 2 and 3: --links 3 at least, or --failover-size 0');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (mib: number, ms: number) => (mib * 1024 * 1024 * 8) / (ms / 1000) / 1e6;
const sha256File = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
// Other work may share the machine: every run records the load it met.
const uptime = () => execFileSync('uptime').toString().trim();

/** How many WRITEs the server executed for one file, from its own account of them. */
interface Executed {
  writes: number;
  bytes?: number;
  /** Replayed WRITEs the server received, and those it answered without writing (smb3d only). */
  replays?: number;
  replaysSkipped?: number;
}

interface Target {
  name: string;
  port: number;
  user: string;
  password: string;
  shareDir: string;
  executed(file: string): Executed;
  stop(): Promise<void>;
}

const linkSpeed = (rate || 1000) * 1e6;

async function startTarget(name: string, lab: Lab): Promise<Target> {
  if (name === 'smb3d') {
    const s = await startSmb3dInLab(lab, linkSpeed);
    return { name, port: 445, user: s.user, password: s.password, shareDir: s.shareDir, executed: (file) => smb3dWrites(s, file), stop: () => s.stop() };
  }
  if (name === 'smbd') {
    const s = await startSmbdInLab(lab, linkSpeed);
    return { name, port: SMBD_LAB_PORT, user: s.user, password: s.password, shareDir: s.shareDir, executed: (file) => ({ writes: smbdWrites(s, file) }), stop: () => s.stop() };
  }
  throw new Error(`unknown server ${name} (smb3d, smbd)`);
}

interface Figures {
  write: Record<number, number[]>;
  read: Record<number, number[]>;
  failover: Array<{ writeMs: number; readMs: number; writeStallMs: number; readStallMs: number; givenUpMs: number; replays: number; executed: Executed; ok: boolean; note: string }>;
}

console.error(`uptime at start: ${uptime()}`);
const lab = await createLab({ links, rateMbit: rate || undefined, label: 'bench', prefix: 'mcb' });
const targets: Target[] = [];
// Ctrl-C (or a SIGTERM from bench/all.ts) must not leave servers or the lab's namespaces behind.
const stopAll = () =>
  void Promise.allSettled(targets.map((t) => t.stop()))
    .then(() => lab.destroy())
    .finally(() => process.exit(130));
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);
const figures: Record<string, Figures> = {};
try {
  for (const n of serverNames) {
    targets.push(await startTarget(n, lab));
    figures[n] = { write: { 1: [], [links]: [] }, read: { 1: [], [links]: [] }, failover: [] };
  }
  const args = (t: Target, channels: number, mib: number, file: string): McClientArgs => ({
    host: lab.links[0]!.serverAddr,
    port: t.port,
    share: 'share',
    user: t.user,
    password: t.password,
    channels,
    sizeMiB: mib,
    path: file,
    chunkKiB,
    sign,
  });
  for (let round = 0; round < Math.max(rounds, foRounds); round++) {
    // Alternate which server goes first, so neither always meets the machine in the same state.
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const f = figures[t.name]!;
      if (round < rounds) {
        for (const channels of [1, links]) {
          // Earlier rounds' files are written back now rather than during this one's put.
          execFileSync('sync');
          // A new file each time, removed after (untimed): overwriting last round's would time the
          // kernel freeing its gigabyte of page cache in the truncating open (~0.7 s here).
          const file = `bench-${channels}-${round}.bin`;
          const r = await runClient(lab, args(t, channels, sizeMiB, file), 600_000);
          await rm(path.join(t.shareDir, file), { force: true });
          if (r.read !== r.written) throw new Error(`${t.name}: SHA-256 of the read-back differs`);
          f.write[channels]!.push(r.writeMs);
          f.read[channels]!.push(r.readMs);
          console.error(`round ${round + 1} ${t.name}: ${channels} channel(s): write ${r.writeMs} ms, read ${r.readMs} ms`);
        }
      }
      if (round < foRounds) {
        execFileSync('sync');
        f.failover.push(await failover(t, args(t, links, foSizeMiB, `failover-${round}.bin`)));
      }
    }
  }
} finally {
  for (const t of targets) await t.stop();
  await lab.destroy();
}
console.error(`uptime at end: ${uptime()}`);

async function failover(t: Target, a: McClientArgs) {
  const cuts: Record<string, () => Promise<void>> = {
    'mark write': () => lab.cut(2, foCut),
    'done write': () => lab.restore(2),
    'mark read': () => lab.cut(3, foCut),
    'io done': () => lab.restore(3),
  };
  let r: McClientResult;
  try {
    r = await runClientLive(lab, { ...a, markAt: 0.3, waitChannelsMs: 5000 }, async (line) => cuts[line]?.(), 900_000);
  } finally {
    // A failed run must not leave a link cut for the next one.
    for (const k of [2, 3]) await lab.restore(k).catch(() => undefined); // not cut: nothing to do
  }
  const onDisk = await sha256File(path.join(t.shareDir, a.path));
  await rm(path.join(t.shareDir, a.path), { force: true });
  const executed = t.executed(a.path);
  const size = a.sizeMiB * 1024 * 1024;
  const notes: string[] = [];
  if (r.read !== r.written) notes.push('read-back SHA-256 differs');
  if (onDisk !== r.written) notes.push('SHA-256 on the server differs');
  if (r.losses.length !== 2) notes.push(`${r.losses.length} channel losses, not 2`);
  // One execution per chunk is "each exactly once".
  if (executed.bytes !== undefined ? executed.bytes !== size : executed.writes !== Math.ceil(size / (chunkKiB * 1024))) notes.push('a WRITE ran twice (or not at all)');
  const ok = notes.length === 0;
  // How long the client waited on a cut link before giving it up ("stalled for N ms").
  const givenUpMs = Math.max(0, ...r.losses.map((l) => Number(/stalled for (\d+) ms/.exec(l.reason)?.[1] ?? NaN)).filter((n) => !Number.isNaN(n)));
  console.error(`failover ${t.name}: ${JSON.stringify({ writeMs: r.writeMs, readMs: r.readMs, writeStall: r.writeMaxGapMs, readStall: r.readMaxGapMs, givenUpMs, replays: r.replays, notAvailable: r.notAvailable, executed, ok, notes })}`);
  return { writeMs: r.writeMs, readMs: r.readMs, writeStallMs: r.writeMaxGapMs, readStallMs: r.readMaxGapMs, givenUpMs, replays: r.replays, executed, ok, note: notes.join('; ') };
}

const sum = rate * links;
/** Share of the summed link rates N channels should carry (issue 5), in percent. */
const AGGREGATE_TARGET = 90;
const pct = (v: number) => (rate ? (100 * v) / sum : null);
const share = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)}%`);
const header = `${links} links at ${rate || 'unlimited'} Mbit/s each; ${chunkKiB} KiB READs/WRITEs, ${sign ? 'signed' : 'unsigned'}; ${sizeMiB} MiB file, median of ${rounds} rounds; failover: ${foSizeMiB} MiB, median of ${foRounds} rounds, cut ${foCut === 'both' ? 'both directions' : "the server's replies only"}; at the end: \`${uptime()}\``;
const aggregate = Object.entries(figures).flatMap(([name, f]) =>
  [1, links].map((ch) => {
    const putMbit = mbps(sizeMiB, median(f.write[ch]!));
    const getMbit = mbps(sizeMiB, median(f.read[ch]!));
    return { server: name, channels: ch, putMbit, getMbit, putShare: pct(putMbit), getShare: pct(getMbit), target: ch === links && rate ? AGGREGATE_TARGET : null };
  }),
);
const out: string[] = [];
out.push(
  header,
  '',
  `| server | channels | put Mbit/s | get Mbit/s | put, share of ${rate ? `${sum} Mbit/s` : 'the links'} | get, share |`,
  '| --- | ---: | ---: | ---: | ---: | ---: |',
);
for (const a of aggregate) {
  out.push(`| ${a.server} | ${a.channels} | ${a.putMbit.toFixed(0)} | ${a.getMbit.toFixed(0)} | ${share(a.putShare)} | ${share(a.getShare)} |`);
}
const failoverRows = foRounds
  ? Object.entries(figures).map(([name, f]) => {
      const fo = f.failover;
      return { name, fo, putMbit: mbps(foSizeMiB, median(fo.map((x) => x.writeMs))), getMbit: mbps(foSizeMiB, median(fo.map((x) => x.readMs))), roundsOk: fo.filter((x) => x.ok).length };
    })
  : [];
if (foRounds) {
  out.push(
    '',
    `| server | failover put Mbit/s | get Mbit/s | IO stall put / get (s) | cut link given up after (s) | WRITEs executed on the server | replays sent | rounds ok |`,
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  );
  for (const { name, fo, putMbit, getMbit, roundsOk } of failoverRows) {
    const e = fo.map((x) => x.executed);
    const exec = e
      .map((x) => (x.bytes !== undefined ? `${x.writes} WRITEs, ${x.bytes} B, ${x.replaysSkipped} of ${x.replays} replays skipped` : `${x.writes} pwrite`))
      .join('; ');
    out.push(
      `| ${name} | ${putMbit.toFixed(0)} | ${getMbit.toFixed(0)} | ${(median(fo.map((x) => x.writeStallMs)) / 1000).toFixed(2)} / ${(median(fo.map((x) => x.readStallMs)) / 1000).toFixed(2)} | ${(median(fo.map((x) => x.givenUpMs)) / 1000).toFixed(2)} | ${exec} | ${fo.map((x) => x.replays).join(', ')} | ${roundsOk} of ${fo.length}${fo.some((x) => !x.ok) ? ` (${fo.map((x) => x.note).filter(Boolean).join('; ')})` : ''} |`,
    );
  }
}
const table = `${out.join('\n')}\n`;
console.log(table);
if (values.markdown) await writeFile(values.markdown, table);
if (values.json) {
  const json: MultichannelFigures = {
    header,
    links,
    rateMbit: rate,
    aggregate,
    failover: failoverRows.map((r) => ({ server: r.name, putMbit: r.putMbit, getMbit: r.getMbit, roundsOk: r.roundsOk, rounds: r.fo.length })),
  };
  await writeFile(values.json, `${JSON.stringify(json, null, 2)}\n`);
}
