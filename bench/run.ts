// smb3d beside Samba's smbd, measured in the same run on the same machine (issue 5).
//
//   npx tsc -p tsconfig.json && node --import tsx bench/run.ts [--rounds 5] [--size 2048] [--files 10000]
//        [--markdown bench/results.md] [--json figures.json] [--smoke]
//
// Each figure is the median of --rounds rounds; within a round the two servers take turns, so
// drift on a shared machine hits both alike. Throughput comes from smbclient's own report of the
// transfer (KiloBytes/sec, without connection setup); the concurrent readers' figure is their bytes
// over the group's wall time; small-file rates are timed around one smbclient command (mput / ls)
// so both servers pay the same client cost.
// smbd runs as the issue asks: `vfs objects = acl_xattr streams_xattr io_uring` (io_uring left
// out, with a note, where the module is missing), posix locking/kernel oplocks/share modes off.
import { mkdir, rm, writeFile, open as openFile } from 'node:fs/promises';
import { chownSync, existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startSmb3d, type Smb3dHandle } from '../test/harness/server.js';
import { startSmbd, smbdAvailable, vfsModuleAvailable, type SmbdHandle } from '../test/harness/smbd.js';
import { runSmbclient } from '../test/harness/peers.js';
import { describeRun } from '../test/harness/proc.js';
import { finiteOrNull, type RunFigures } from './figures.js';

interface Target {
  name: 'smb3d' | 'smbd';
  port: number;
  user: string;
  password: string;
  shareDir: string;
  stop(): Promise<void>;
}

interface Figure {
  key: string;
  label: string;
  unit: 'MB/s' | 'files/s';
  /** Ratio smb3d/smbd the project aims for (issue 5). */
  target: number;
  measure(t: Target, round: number): Promise<number>;
}

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      size: { type: 'string', default: '2048' },
      files: { type: 'string', default: '10000' },
      markdown: { type: 'string' },
      json: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
  const smoke = values.smoke === true;
  const rounds = smoke ? 1 : Number(values.rounds);
  const sizeMiB = smoke ? 8 : Number(values.size);
  const fileCount = smoke ? 50 : Number(values.files);
  if (!Number.isInteger(rounds) || rounds < 1 || !(sizeMiB > 0) || !(fileCount > 0)) throw new Error('bad --rounds/--size/--files');
  if (!smbdAvailable()) throw new Error('Samba smbd is not installed (scripts/install-peers.sh installs it) or not running as root');

  const work = path.join(os.tmpdir(), `smb3d-bench-${process.pid}`);
  await mkdir(work, { recursive: true });
  const notes: string[] = [];
  const targets: Target[] = [];
  // Ctrl-C must not leave an smbd behind.
  const stopAll = () => void Promise.allSettled(targets.map((t) => t.stop())).then(() => process.exit(130));
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  try {
    const localBig = path.join(work, 'big.bin');
    await writeRandomFile(localBig, sizeMiB * MiB);
    const smallDir = path.join(work, 'small');
    await mkdir(smallDir);
    const chunk = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < fileCount; i++) await writeFile(path.join(smallDir, `f${i}.dat`), chunk);

    targets.push(await smb3dTarget());
    targets.push(await smbdTarget(notes));
    for (const t of targets) await seedShare(t, localBig, sizeMiB);
    // The seeds' gigabytes would otherwise be written back to disk during the first figures.
    execFileSync('sync');

    const figures = defineFigures(localBig, smallDir, fileCount, sizeMiB);
    const selected = values.only ? figures.filter((f) => values.only!.split(',').includes(f.key)) : figures;
    const samples = new Map<string, Record<string, number[]>>();
    for (const f of selected) samples.set(f.key, { smb3d: [], smbd: [] });
    for (let round = 0; round < rounds; round++) {
      for (const f of selected) {
        // Alternate which server goes first, so neither always meets a warmer cache.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) samples.get(f.key)![t.name]!.push(await f.measure(t, round));
      }
      process.stderr.write(`round ${round + 1}/${rounds} done\n`);
    }

    const rows = selected.map((f) => {
      const s = samples.get(f.key)!;
      const a = median(s.smb3d!);
      const b = median(s.smbd!);
      // The two servers of a round ran seconds apart: their ratio is spared the machine's drift between rounds.
      const roundRatios = s.smb3d!.map((x, i) => x / s.smbd![i]!);
      return { f, a, b, spreadA: spread(s.smb3d!), spreadB: spread(s.smbd!), ratio: a / b, roundRatios };
    });
    const header = `smb3d vs smbd, ${new Date().toISOString()}, ${os.cpus().length} cores, ${rounds} round(s), ${sizeMiB} MiB file, ${fileCount} small files${smoke ? ' (smoke)' : ''}`;
    const table = [
      ['figure', 'smb3d', 'smbd', 'ratio', 'rounds\' ratios', 'target', 'met'],
      ...rows.map((r) => [
        r.f.label,
        `${fmt(r.a)} ${r.f.unit} (±${fmt(r.spreadA)})`,
        `${fmt(r.b)} ${r.f.unit} (±${fmt(r.spreadB)})`,
        `${r.ratio.toFixed(2)}×`,
        ratioRange(r.roundRatios),
        `≥ ${r.f.target.toFixed(1)}×`,
        r.ratio >= r.f.target ? 'yes' : 'no',
      ]),
    ];
    console.log(header);
    for (const n of notes) console.log(`note: ${n}`);
    console.log(asText(table));
    if (values.markdown) {
      const md = [`# Benchmark`, '', `- ${header}`, ...notes.map((n) => `- ${n}`), '- medians; ± is half the range of the rounds; rounds\' ratios: each round\'s smb3d/smbd, lowest–median–highest', '', ...asMarkdown(table), ''].join('\n');
      await writeFile(values.markdown, md);
      console.log(`wrote ${values.markdown}`);
    }
    if (values.json) {
      const json: RunFigures = {
        header,
        notes,
        figures: rows.map((r) => ({
          key: r.f.key,
          label: r.f.label,
          unit: r.f.unit,
          smb3d: r.a,
          smbd: r.b,
          spreadSmb3d: r.spreadA,
          spreadSmbd: r.spreadB,
          ratio: finiteOrNull(r.ratio),
          roundRatios: r.roundRatios.map(finiteOrNull),
          target: r.f.target,
          met: r.ratio >= r.f.target,
        })),
      };
      await writeFile(values.json, `${JSON.stringify(json, null, 2)}\n`);
    }
    for (const r of rows) if (!(r.a > 0) || !(r.b > 0)) throw new Error(`${r.f.label}: no figure measured`);
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

function defineFigures(localBig: string, smallDir: string, fileCount: number, sizeMiB: number): Figure[] {
  const gcm = ['--client-protection=encrypt', '--option=client smb3 encryption algorithms=AES-128-GCM'];
  const get = (extra: string[]) => async (t: Target) => transferRate(t, extra, 'get big.bin /dev/null');
  return [
    { key: 'get', label: 'get, plain', unit: 'MB/s', target: 1.1, measure: get(['--client-protection=off']) },
    { key: 'get-signed', label: 'get, signed', unit: 'MB/s', target: 1.2, measure: get(['--client-protection=sign']) },
    { key: 'get-gcm', label: 'get, encrypted AES-128-GCM', unit: 'MB/s', target: 1.3, measure: get(gcm) },
    {
      key: 'get-4',
      label: `${READERS} clients, get of different files`,
      unit: 'MB/s',
      target: 1.1,
      measure: async (t) => {
        // Aggregate over the wall time of the group, connection setup included: each client's own
        // rate would count overlap it did not have.
        const t0 = process.hrtime.bigint();
        await Promise.all(partNames().map((name) => smbclient(t, ['--client-protection=off'], `get ${name} /dev/null`)));
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        return (READERS * partBytes(sizeMiB)) / secs / 1e6;
      },
    },
    {
      key: 'put',
      label: 'put, plain',
      unit: 'MB/s',
      target: 1.3,
      measure: async (t, round) => transferRate(t, ['--client-protection=off'], `put ${localBig} up-${round}.bin; del up-${round}.bin`),
    },
    {
      key: 'small-create',
      label: `create+write+close, ${fileCount} × 4 KiB`,
      unit: 'files/s',
      target: 1.0,
      measure: async (t, round) => {
        const dir = `small-${round}`;
        const secs = await timed(t, ['--client-protection=off'], `lcd ${smallDir}; mkdir ${dir}; cd ${dir}; prompt off; mput *`);
        const stored = readdirSync(path.join(t.shareDir, dir)).length;
        if (stored !== fileCount) throw new Error(`${t.name}: ${stored} of ${fileCount} files arrived`);
        return fileCount / secs;
      },
    },
    {
      key: 'small-list',
      label: `list+stat, ${fileCount} entries`,
      unit: 'files/s',
      target: 1.0,
      measure: async (t, round) => {
        await seedSmallDir(t, smallDir, `small-${round}`);
        return fileCount / (await timed(t, ['--client-protection=off'], `cd small-${round}; ls`));
      },
    },
  ];
}

/**
 * MB/s as smbclient reports its transfer: "(123456.7 KiloBytes/sec)" for get, "(123456.7 kb/s)"
 * for put, both bytes / 1.024 / milliseconds.
 */
async function transferRate(t: Target, extra: string[], command: string): Promise<number> {
  const r = await smbclient(t, extra, command);
  const m = /\(([\d.]+) (?:KiloBytes\/sec|kb\/s)\)/.exec(r.stdout + r.stderr);
  if (!m) throw new Error(`${t.name}: no rate in smbclient output\n${describeRun(command, r)}`);
  return (Number(m[1]) * 1024) / 1e6;
}

async function timed(t: Target, extra: string[], command: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await smbclient(t, extra, command);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function smbclient(t: Target, extra: string[], command: string) {
  const r = await runSmbclient([`//127.0.0.1/share`, '-p', String(t.port), '-U', `${t.user}%${t.password}`, '-m', 'SMB3_11', ...extra, '-c', command], {
    timeoutMs: 600_000,
  });
  if (r.code !== 0 || /NT_STATUS_/.test(r.stdout + r.stderr)) throw new Error(`${t.name}: ${describeRun(command, r)}`);
  return r;
}

async function smb3dTarget(): Promise<Target> {
  const h: Smb3dHandle = await startSmb3d({ startTimeoutMs: 30_000 });
  return { name: 'smb3d', port: h.port, user: h.user, password: h.password, shareDir: h.shareDir, stop: () => h.stop() };
}

async function smbdTarget(notes: string[]): Promise<Target> {
  const vfs = ['acl_xattr', 'streams_xattr'];
  if (vfsModuleAvailable('io_uring')) vfs.push('io_uring');
  else notes.push('smbd without io_uring: the VFS module is not installed');
  const h: SmbdHandle = await startSmbd({
    global: ['server multi channel support = yes'],
    share: [`vfs objects = ${vfs.join(' ')}`, 'posix locking = no', 'kernel oplocks = no', 'kernel share modes = no'],
  });
  notes.push(`smbd: vfs objects = ${vfs.join(' ')}`);
  return { name: 'smbd', port: h.port, user: h.user, password: h.password, shareDir: h.shareDir, stop: () => h.stop() };
}

/** Concurrent clients of the `get-4` figure, each reading its own quarter-size file. */
const READERS = 4;
const partNames = () => Array.from({ length: READERS }, (_, i) => `part${i}.bin`);
const partBytes = (sizeMiB: number) => Math.floor((sizeMiB * MiB) / READERS / 4096) * 4096;

/**
 * Puts the big file and the readers' parts into the share directly (not over SMB); writing them
 * leaves them in page cache, so the gets start from there.
 */
async function seedShare(t: Target, localBig: string, sizeMiB: number): Promise<void> {
  await copyRange(localBig, path.join(t.shareDir, 'big.bin'), 0, sizeMiB * MiB, t.shareDir);
  const part = partBytes(sizeMiB);
  for (const [i, name] of partNames().entries()) await copyRange(localBig, path.join(t.shareDir, name), i * part, part, t.shareDir);
}

/** The listing's directory, made over SMB (untimed) when small-create did not run first: files copied in directly would lack the xattrs each server keeps. */
async function seedSmallDir(t: Target, from: string, name: string): Promise<void> {
  if (existsSync(path.join(t.shareDir, name))) return;
  await smbclient(t, ['--client-protection=off'], `lcd ${from}; mkdir ${name}; cd ${name}; prompt off; mput *`);
}

async function copyRange(from: string, dest: string, start: number, length: number, shareDir: string): Promise<void> {
  const src = await openFile(from, 'r');
  const out = await openFile(dest, 'w');
  try {
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, length - done), start + done);
      if (bytesRead === 0) break;
      await out.write(buf, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await src.close();
    await out.close();
  }
  // smbd's share belongs to the account it maps the user to.
  const st = statSync(shareDir);
  chownSync(dest, st.uid, st.gid);
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const { randomFillSync } = await import('node:crypto');
  const fh = await openFile(file, 'w');
  try {
    const buf = Buffer.allocUnsafe(8 * MiB);
    for (let left = bytes; left > 0; left -= buf.length) {
      const n = Math.min(left, buf.length);
      randomFillSync(buf, 0, n);
      await fh.write(buf, 0, n);
    }
  } finally {
    await fh.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Each round's smb3d/smbd as lowest–median–highest (one value for one round). */
function ratioRange(ratios: number[]): string {
  if (ratios.length === 1) return ratios[0]!.toFixed(2);
  const s = [...ratios].sort((a, b) => a - b);
  return `${s[0]!.toFixed(2)}–${median(s).toFixed(2)}–${s[s.length - 1]!.toFixed(2)}`;
}

function spread(xs: number[]): number {
  return (Math.max(...xs) - Math.min(...xs)) / 2;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function asText(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
}

function asMarkdown(rows: string[][]): string[] {
  return [`| ${rows[0]!.join(' | ')} |`, `| ${rows[0]!.map(() => '---').join(' | ')} |`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)];
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
