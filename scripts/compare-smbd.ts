// Runs smbtorture suites against smb3d and against Samba's smbd (two configurations) and
// reports, per suite, which tests each passes and where smb3d and smbd differ.
//
//   node --import tsx scripts/compare-smbd.ts [--suites a,b,c] [--markdown FILE] [--check]
//        [--timeout SECONDS] [--parallel]
//
// A report, not a test: exits 0 unless --check is given and smb3d misses a test that smbd
// passes in either configuration. Needs root and /usr/sbin/smbd (Debian package `samba`).
// --parallel runs the three servers of a suite at the same time (faster, a little noisier).
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../test/harness/server.js';
import { runSuite } from '../test/harness/torture.js';
import {
  incompleteReasons,
  probeSmbd,
  runSuiteOnSmbd,
  smbdAvailable,
  vfsModuleAvailable,
  type SmbdOptions,
  type TargetRun,
} from '../test/harness/smbd.js';

const DEFAULT_SUITES = [
  'smb2.connect', 'smb2.read', 'smb2.rw', 'smb2.session', 'smb2.credits', 'smb2.dir', 'smb2.getinfo',
  'smb2.lock', 'smb2.compound', 'smb2.compound_find', 'smb2.compound_async', 'smb2.notify', 'smb2.create',
  'smb2.oplock', 'smb2.lease', 'smb2.durable-open', 'smb2.durable-v2-open', 'smb2.setinfo', 'smb2.rename',
  'smb2.sharemode', 'smb2.delete-on-close-perms', 'smb2.timestamps', 'smb2.fileid', 'smb2.maximum_allowed',
  'smb2.ioctl', 'smb2.streams', 'smb2.replay',
];

interface Args {
  suites: string[];
  markdown?: string;
  check: boolean;
  timeoutMs: number;
  parallel: boolean;
}

function usage(): never {
  console.log('usage: node --import tsx scripts/compare-smbd.ts [--suites a,b,c] [--markdown FILE] [--check] [--timeout SECONDS] [--parallel]');
  process.exit(0);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { suites: [...DEFAULT_SUITES], check: false, timeoutMs: 300_000, parallel: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--suites') a.suites = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (arg === '--markdown') a.markdown = path.resolve(value());
    else if (arg === '--check') a.check = true;
    else if (arg === '--timeout') a.timeoutMs = Number(value()) * 1000;
    else if (arg === '--parallel') a.parallel = true;
    else if (arg === '--help' || arg === '-h') usage();
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!(a.timeoutMs > 0)) throw new Error('--timeout must be a positive number of seconds');
  return a;
}

interface SmbdConfig {
  key: string;
  label: string;
  opts: SmbdOptions;
}

async function smbdConfigs(notes: string[]): Promise<SmbdConfig[]> {
  const multichannel = 'server multi channel support = yes';
  const tunedShare = ['posix locking = no', 'kernel oplocks = no', 'kernel share modes = no'];
  let vfs = ['acl_xattr', 'streams_xattr', 'io_uring'];
  if (!vfsModuleAvailable('io_uring')) {
    notes.push('io_uring VFS module not installed: smbd-B runs without it.');
    vfs = vfs.filter((m) => m !== 'io_uring');
  } else {
    // The module loads but the kernel (or a seccomp filter) may refuse io_uring_setup.
    const err = await probeSmbd({ global: [multichannel], share: [`vfs objects = ${vfs.join(' ')}`, ...tunedShare] });
    if (err) {
      notes.push(`io_uring VFS module present but unusable (${err}): smbd-B runs without it.`);
      vfs = vfs.filter((m) => m !== 'io_uring');
    }
  }
  return [
    { key: 'smbd-A', label: `defaults + ${multichannel}`, opts: { global: [multichannel] } },
    {
      key: 'smbd-B',
      label: `tuned: vfs objects = ${vfs.join(' ')}; ${tunedShare.join('; ')}; ${multichannel}`,
      opts: { global: [multichannel], share: [`vfs objects = ${vfs.join(' ')}`, ...tunedShare] },
    },
  ];
}

interface SuiteReport {
  suite: string;
  tests: string[];
  runs: Record<string, TargetRun>;
  smbdUnion: Set<string>;
  smb3dOnly: string[];
  smbdOnly: string[];
}

const passed = (r: TargetRun): Set<string> => new Set(r.results.filter((t) => t.outcome === 'success').map((t) => t.name));

async function runSmb3d(suite: string, timeoutMs: number): Promise<TargetRun> {
  const r = await runSuite(suite, { timeoutMs });
  const signal = r.exitCode === -1 && !r.timedOut ? 'SIGKILL' : null;
  return {
    results: r.results,
    incomplete: incompleteReasons({ timedOut: r.timedOut, signal, output: r.output, results: r.results }, r.serverExit),
    elapsedMs: r.elapsedMs,
    output: r.output,
  };
}

/** A run that could not start at all still gets a row, with the error as the reason. */
async function guarded(p: () => Promise<TargetRun>): Promise<TargetRun> {
  const t0 = performance.now();
  try {
    return await p();
  } catch (err) {
    return { results: [], incomplete: [`could not run: ${String(err).split('\n')[0]}`], elapsedMs: performance.now() - t0, output: String(err) };
  }
}

async function runOne(suite: string, configs: SmbdConfig[], args: Args): Promise<SuiteReport> {
  const jobs: [string, () => Promise<TargetRun>][] = [
    ['smb3d', () => runSmb3d(suite, args.timeoutMs)],
    ...configs.map((c): [string, () => Promise<TargetRun>] => [c.key, () => runSuiteOnSmbd(suite, c.opts, { timeoutMs: args.timeoutMs })]),
  ];
  const runs: Record<string, TargetRun> = {};
  if (args.parallel) {
    const done = await Promise.all(jobs.map(([, f]) => guarded(f)));
    jobs.forEach(([k], i) => (runs[k] = done[i]!));
  } else {
    // smbd first: the server being measured runs last, on a machine no busier than for the reference.
    for (const [k, f] of [...jobs.slice(1), jobs[0]!]) runs[k] = await guarded(f);
  }
  const tests = [...new Set(Object.values(runs).flatMap((r) => r.results.map((t) => t.name)))].sort();
  const smbdUnion = new Set(configs.flatMap((c) => [...passed(runs[c.key]!)]));
  const mine = passed(runs.smb3d!);
  return {
    suite,
    tests,
    runs,
    smbdUnion,
    smb3dOnly: [...mine].filter((n) => !smbdUnion.has(n)).sort(),
    smbdOnly: [...smbdUnion].filter((n) => !mine.has(n)).sort(),
  };
}

function shortName(suite: string, name: string): string {
  return name.startsWith(`${suite}.`) ? name.slice(suite.length + 1) : name;
}

function namesCell(suite: string, names: string[], max = 4): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, max).map((n) => shortName(suite, n)).join(', ');
  return names.length > max ? `${shown}, … (+${names.length - max})` : shown;
}

const TARGETS = ['smbd-A', 'smbd-B'];

function countCell(rep: SuiteReport, key: string): string {
  const r = rep.runs[key]!;
  return `${passed(r).size}${r.incomplete.length ? '*' : ''}`;
}

function tableRows(reports: SuiteReport[]): string[][] {
  const header = ['suite', 'tests', 'smbd-A pass', 'smbd-B pass', 'smbd union', 'smb3d pass', 'smb3d passes, smbd fails', 'smbd passes, smb3d fails'];
  const rows = [header];
  const total = { tests: 0, a: 0, b: 0, u: 0, m: 0, mo: 0, so: 0 };
  for (const rep of reports) {
    const incompleteTargets = Object.entries(rep.runs).filter(([, r]) => r.incomplete.length).map(([k]) => k);
    const suiteCell = incompleteTargets.length ? `${rep.suite} (incomplete: ${incompleteTargets.join(', ')})` : rep.suite;
    rows.push([
      suiteCell,
      String(rep.tests.length),
      countCell(rep, 'smbd-A'),
      countCell(rep, 'smbd-B'),
      String(rep.smbdUnion.size),
      countCell(rep, 'smb3d'),
      rep.smb3dOnly.length ? `${rep.smb3dOnly.length}: ${namesCell(rep.suite, rep.smb3dOnly)}` : '0',
      rep.smbdOnly.length ? `${rep.smbdOnly.length}: ${namesCell(rep.suite, rep.smbdOnly)}` : '0',
    ]);
    total.tests += rep.tests.length;
    total.a += passed(rep.runs['smbd-A']!).size;
    total.b += passed(rep.runs['smbd-B']!).size;
    total.u += rep.smbdUnion.size;
    total.m += passed(rep.runs.smb3d!).size;
    total.mo += rep.smb3dOnly.length;
    total.so += rep.smbdOnly.length;
  }
  rows.push(['TOTAL', String(total.tests), String(total.a), String(total.b), String(total.u), String(total.m), String(total.mo), String(total.so)]);
  return rows;
}

function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 || c >= 6 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(rows[0]!), sep, ...rows.slice(1, -1).map(line), sep, line(rows[rows.length - 1]!)].join('\n');
}

function mdTable(rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const line = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  const align = rows[0]!.map((_, c) => (c === 0 || c >= 6 ? '---' : '---:'));
  const last = rows[rows.length - 1]!.map((c) => `**${c}**`);
  return [line(rows[0]!), `| ${align.join(' | ')} |`, ...rows.slice(1, -1).map(line), line(last)].join('\n');
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim())?.trim().slice(0, 200) ?? '';
}

/** Full name lists and why each side failed, after the table. */
function details(reports: SuiteReport[], md: boolean): string {
  const out: string[] = [];
  const h = (s: string) => (md ? `### ${s}` : `== ${s}`);
  const item = (s: string) => (md ? `- ${s}` : `  ${s}`);
  const outcomeOf = (r: TargetRun, name: string) => {
    const t = r.results.find((x) => x.name === name);
    if (!t) return 'not reported';
    return `${t.outcome}${t.reason ? `: ${firstLine(t.reason)}` : ''}`;
  };
  const code = (s: string) => (md ? `\`${s}\`` : s);
  for (const rep of reports) {
    const inc = Object.entries(rep.runs).filter(([, r]) => r.incomplete.length);
    if (!rep.smb3dOnly.length && !rep.smbdOnly.length && !inc.length) continue;
    out.push('', h(rep.suite));
    for (const [k, r] of inc) out.push(item(`${k} incomplete: ${r.incomplete.join('; ')}`));
    if (rep.smbdOnly.length) {
      out.push(md ? '' : '', `smbd passes, smb3d fails (${rep.smbdOnly.length}):`);
      for (const n of rep.smbdOnly) out.push(item(`${code(n)} — smb3d ${outcomeOf(rep.runs.smb3d!, n)}`));
    }
    if (rep.smb3dOnly.length) {
      out.push(md ? '' : '', `smb3d passes, smbd fails (${rep.smb3dOnly.length}):`);
      for (const n of rep.smb3dOnly) {
        const why = TARGETS.map((k) => `${k} ${outcomeOf(rep.runs[k]!, n)}`).join('; ');
        out.push(item(`${code(n)} — ${why}`));
      }
    }
  }
  return out.join('\n');
}

function timings(reports: SuiteReport[]): string {
  return reports
    .map((rep) => `${rep.suite}: ${Object.entries(rep.runs).map(([k, r]) => `${k} ${(r.elapsedMs / 1000).toFixed(1)} s`).join(', ')}`)
    .join('\n');
}

function render(reports: SuiteReport[], header: string[], md: boolean, partial: string | undefined): string {
  const rows = tableRows(reports);
  const parts: string[] = [];
  if (md) parts.push('# smbtorture: smb3d vs Samba smbd', '');
  parts.push(...header.map((l) => (md ? `- ${l}` : l)));
  if (partial) parts.push(md ? `- **PARTIAL: ${partial}**` : `PARTIAL: ${partial}`);
  parts.push('', md ? mdTable(rows) : textTable(rows));
  parts.push('', '`*` after a count: that run did not report every test (timeout, crash or a dead server).'.replace(/`/g, md ? '`' : ''));
  const d = details(reports, md);
  if (d) parts.push('', md ? '## Differences' : 'Differences', d);
  parts.push('', md ? '## Time per run' : 'Time per run', ...(md ? ['```', timings(reports), '```'] : [timings(reports)]));
  return parts.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!smbdAvailable()) throw new Error('needs /usr/sbin/smbd (Debian package samba) and root');
  const started = new Date();
  const notes: string[] = [];
  const configs = await smbdConfigs(notes);
  const version = (file: string) => execFileSync(file, ['-V'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^\S*\s*/, '').trim();
  const built = statSync(path.join(REPO_ROOT, 'dist/cli/main.js'), { throwIfNoEntry: false })?.mtime.toISOString() ?? 'missing';
  const header = [
    `started ${started.toISOString()}; smbd ${version('/usr/sbin/smbd')}; smbtorture ${version('smbtorture')}; smb3d dist/ built ${built}`,
    `per-suite timeout ${args.timeoutMs / 1000} s; targets run ${args.parallel ? 'in parallel' : 'one after the other'}; a fresh server and share per suite and target`,
    ...configs.map((c) => `${c.key}: ${c.label}`),
    'smb3d: test harness defaults (startSmb3d)',
    ...notes,
  ];
  for (const l of header) console.log(l);

  const reports: SuiteReport[] = [];
  const writeMd = async (partial?: string) => {
    if (args.markdown) await writeFile(args.markdown, `${render(reports, header, true, partial)}\n`);
  };
  let interrupted = false;
  const onSignal = (sig: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`\n${sig}: printing what finished so far`);
    const partial = `interrupted after ${reports.length} of ${args.suites.length} suites`;
    console.log(render(reports, header, false, partial));
    void writeMd(partial).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  for (const suite of args.suites) {
    const rep = await runOne(suite, configs, args);
    reports.push(rep);
    const counts = Object.entries(rep.runs)
      .map(([k, r]) => `${k} ${passed(r).size}/${r.results.length}${r.incomplete.length ? ` (incomplete: ${r.incomplete.join('; ')})` : ''} ${(r.elapsedMs / 1000).toFixed(0)}s`)
      .join(', ');
    console.log(`# ${suite}: ${counts}`);
    if (interrupted) return;
    await writeMd(reports.length < args.suites.length ? `${reports.length} of ${args.suites.length} suites done` : undefined);
  }

  const elapsed = ((Date.now() - started.getTime()) / 60_000).toFixed(1);
  header.push(`finished in ${elapsed} min`);
  console.log(`\n${render(reports, header, false, undefined)}`);
  await writeMd();
  if (args.markdown) console.log(`\nwrote ${args.markdown}`);

  const missing = reports.flatMap((r) => r.smbdOnly);
  if (args.check && missing.length) {
    console.log(`\n--check: smb3d misses ${missing.length} test(s) that smbd passes:\n${missing.map((n) => `  ${n}`).join('\n')}`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error && /needs|unknown argument|must be/.test(err.message) ? `compare-smbd: ${err.message}` : err);
  process.exit(2);
});
