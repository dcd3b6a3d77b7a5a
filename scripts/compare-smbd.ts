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
import { smbdAvailable, type TargetRun } from '../test/harness/smbd.js';
import { COMPARE_SUITES, passed, runSideBySide, smbdConfigs, tableRows, textTable, type SuiteReport } from '../test/harness/side-by-side.js';

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
  const a: Args = { suites: [...COMPARE_SUITES], check: false, timeoutMs: 300_000, parallel: false };
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

const TARGETS = ['smbd-A', 'smbd-B'];

function mdTable(rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const line = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  const n = rows[0]!.length;
  const align = rows[0]!.map((_, c) => (c === 0 || c >= n - 2 ? '---' : '---:'));
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
    const rep = await runSideBySide(suite, configs, { timeoutMs: args.timeoutMs, parallel: args.parallel });
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
