// smbtorture suites against smb3d and against Samba's smbd in two configurations, the same suite
// on all three servers at once: the reference for "smb3d passes at least what smbd passes"
// (issues 3 and 4). Used by the smbtorture interop test and by scripts/compare-smbd.ts.
import { readFile } from 'node:fs/promises';
import { runSuite, type SuiteRun } from './torture.js';
import { incompleteReasons, probeSmbd, runSuiteOnSmbd, vfsModuleAvailable, type SmbdOptions, type TargetRun } from './smbd.js';

/** The suites the semantics and multichannel issues name, plus the foundation's. */
export const COMPARE_SUITES = [
  'smb2.connect', 'smb2.read', 'smb2.rw', 'smb2.session', 'smb2.credits', 'smb2.dir', 'smb2.getinfo',
  'smb2.lock', 'smb2.compound', 'smb2.compound_find', 'smb2.compound_async', 'smb2.notify', 'smb2.create',
  'smb2.oplock', 'smb2.lease', 'smb2.durable-open', 'smb2.durable-v2-open', 'smb2.setinfo', 'smb2.rename',
  'smb2.sharemode', 'smb2.delete-on-close-perms', 'smb2.timestamps', 'smb2.fileid', 'smb2.maximum_allowed',
  'smb2.ioctl', 'smb2.streams', 'smb2.replay',
];

export interface SmbdConfig {
  key: string;
  label: string;
  opts: SmbdOptions;
}

/**
 * smbd-A: its defaults with multichannel on; smbd-B: tuned for metadata (acl_xattr,
 * streams_xattr, io_uring where the kernel allows it; no POSIX locks, kernel oplocks or kernel
 * share modes). Each passes tests the other fails. Why io_uring was left out goes to `notes`.
 */
export async function smbdConfigs(notes: string[]): Promise<SmbdConfig[]> {
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

export interface SuiteReport {
  suite: string;
  /** Every test any of the servers reported. */
  tests: string[];
  /** By target: 'smb3d' and each smbd configuration's key. */
  runs: Record<string, TargetRun>;
  /** smb3d's run with what only smb3d's harness knows (server exit, log tail). */
  smb3d: SuiteRun;
  smbdUnion: Set<string>;
  smb3dOnly: string[];
  smbdOnly: string[];
}

export const passed = (r: TargetRun): Set<string> => new Set(r.results.filter((t) => t.outcome === 'success').map((t) => t.name));

function asTargetRun(r: SuiteRun): TargetRun {
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

/**
 * One suite on smb3d and on each smbd configuration. `parallel` runs the three at once (a suite
 * then costs the time of its slowest server; the long suites mostly wait on timers); otherwise
 * smbd goes first, so smb3d runs on a machine no busier than the reference did.
 */
export async function runSideBySide(suite: string, configs: SmbdConfig[], opts: { timeoutMs: number; parallel: boolean }): Promise<SuiteReport> {
  const mine = () => runSuite(suite, { timeoutMs: opts.timeoutMs });
  const refs = configs.map((c) => () => guarded(() => runSuiteOnSmbd(suite, c.opts, { timeoutMs: opts.timeoutMs })));
  let smb3d: SuiteRun;
  let refRuns: TargetRun[];
  if (opts.parallel) {
    [smb3d, ...refRuns] = await Promise.all([mine(), ...refs.map((f) => f())]);
  } else {
    refRuns = [];
    for (const f of refs) refRuns.push(await f());
    smb3d = await mine();
  }
  const runs: Record<string, TargetRun> = { smb3d: asTargetRun(smb3d) };
  configs.forEach((c, i) => (runs[c.key] = refRuns[i]!));
  const tests = [...new Set(Object.values(runs).flatMap((r) => r.results.map((t) => t.name)))].sort();
  const smbdUnion = new Set(configs.flatMap((c) => [...passed(runs[c.key]!)]));
  const ours = passed(runs.smb3d!);
  return {
    suite,
    tests,
    runs,
    smb3d,
    smbdUnion,
    smb3dOnly: [...ours].filter((n) => !smbdUnion.has(n)).sort(),
    smbdOnly: [...smbdUnion].filter((n) => !ours.has(n)).sort(),
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

function countCell(rep: SuiteReport, key: string): string {
  const r = rep.runs[key];
  if (!r) return '-';
  return `${passed(r).size}${r.incomplete.length ? '*' : ''}`;
}

/** The side-by-side table: header row, one row per suite, a TOTAL row. */
export function tableRows(reports: SuiteReport[], smbdKeys = ['smbd-A', 'smbd-B']): string[][] {
  const header = ['suite', 'tests', ...smbdKeys.map((k) => `${k} pass`), 'smbd union', 'smb3d pass', 'smb3d passes, smbd fails', 'smbd passes, smb3d fails'];
  const rows = [header];
  const total = { tests: 0, refs: smbdKeys.map(() => 0), u: 0, m: 0, mo: 0, so: 0 };
  for (const rep of reports) {
    const incompleteTargets = Object.entries(rep.runs).filter(([, r]) => r.incomplete.length).map(([k]) => k);
    const suiteCell = incompleteTargets.length ? `${rep.suite} (incomplete: ${incompleteTargets.join(', ')})` : rep.suite;
    rows.push([
      suiteCell,
      String(rep.tests.length),
      ...smbdKeys.map((k) => countCell(rep, k)),
      String(rep.smbdUnion.size),
      countCell(rep, 'smb3d'),
      rep.smb3dOnly.length ? `${rep.smb3dOnly.length}: ${namesCell(rep.suite, rep.smb3dOnly)}` : '0',
      rep.smbdOnly.length ? `${rep.smbdOnly.length}: ${namesCell(rep.suite, rep.smbdOnly)}` : '0',
    ]);
    total.tests += rep.tests.length;
    smbdKeys.forEach((k, i) => (total.refs[i]! += rep.runs[k] ? passed(rep.runs[k]!).size : 0));
    total.u += rep.smbdUnion.size;
    total.m += passed(rep.runs.smb3d!).size;
    total.mo += rep.smb3dOnly.length;
    total.so += rep.smbdOnly.length;
  }
  rows.push(['TOTAL', String(total.tests), ...total.refs.map(String), String(total.u), String(total.m), String(total.mo), String(total.so)]);
  return rows;
}

/** Plain-text rendering of tableRows(): names left, counts right. */
export function textTable(rows: string[][]): string {
  const n = rows[0]!.length;
  const isText = (c: number) => c === 0 || c >= n - 2;
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (isText(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(rows[0]!), sep, ...rows.slice(1, -1).map(line), sep, line(rows[rows.length - 1]!)].join('\n');
}

/**
 * test/smbtorture/smbd-differences.txt: tests smbd passes and smb3d does not, each with the reason
 * on its line ("NAME  # why"). Names without a reason are refused: the list is documentation.
 */
export async function loadDifferences(file: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [i, raw] of (await readFile(file, 'utf8')).split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+(?: \S+)*?)\s+#\s*(.+)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected "TEST  # reason", got "${line}"`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}
