// The one benchmark command (issue 5): bench/run.ts (smb3d beside smbd, smbclient on loopback),
// then bench/multichannel.ts (our client in the netns lab, 1 vs N channels and failover, against
// both servers), each in its own process with its output on this console; then one Markdown report
// of both tables and one SVG chart of the figures.
//
//   npx tsc -p tsconfig.json && node --import tsx bench/all.ts [--out bench/results] [--smoke]
//        [--rounds N] [--size MiB] [--files N] [--rate Mbit] [--links N] [--mc-size MiB]
//        [--failover-size MiB] [--mc-sign on|off] [--skip-multichannel]
//
// writes <out>.md and <out>.svg. --rounds goes to every figure of both (run.ts's rounds,
// multichannel.ts's rounds and failover rounds); without it each keeps its own default. --size and
// --files are run.ts's file size and small-file count; --rate, --links, --mc-size and
// --failover-size are the lab's (default 4 x 1000 Mbit/s, 1 GiB for both, as issue 5 asks). --smoke:
// one round of each at tiny sizes, as the test command runs it. Root, and Debian's samba
// (scripts/install-peers.sh); the multichannel part is skipped, with a note, where network
// namespaces cannot be made.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { netnsUnavailable } from '../test/harness/netns.js';
import { runProcess } from '../test/harness/proc.js';
import { benchSections, chartSvg } from './chart.js';
import type { MultichannelFigures, RunFigures } from './figures.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** multichannel.ts's options in a smoke run: seconds, yet three links so that failover can cut two. */
const MC_SMOKE = ['--links', '3', '--rate', '200', '--size', '4', '--rounds', '1', '--failover-size', '16', '--failover-rounds', '1'];

const USAGE = `node --import tsx bench/all.ts [--out bench/results] [--smoke] [--rounds N] [--size MiB] [--files N]
    [--rate Mbit] [--links N] [--mc-size MiB] [--failover-size MiB] [--mc-sign on|off]
    [--skip-multichannel]
    (defaults: the issue's lab, 4 links of 1000 Mbit/s, 1024 MiB transfers; npm run bench -- ...; npx tsc -p tsconfig.json first)`;

interface Part<F> {
  title: string;
  command: string;
  /** Exit status, or why the part did not run. */
  outcome: { code: number } | { skipped: string };
  markdown?: string;
  figures?: F;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'bench/results' },
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      size: { type: 'string' },
      files: { type: 'string' },
      rate: { type: 'string', default: '1000' },
      links: { type: 'string' },
      'mc-size': { type: 'string', default: '1024' },
      'failover-size': { type: 'string', default: '1024' },
      'mc-sign': { type: 'string' },
      'skip-multichannel': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // Checked here, so that a typo does not cost a whole first benchmark before the second refuses it.
  const want = { rounds: 'count', files: 'count', links: 'count', size: 'positive', rate: 'zero or more', 'mc-size': 'positive', 'failover-size': 'zero or more' } as const;
  for (const [k, kind] of Object.entries(want)) {
    const v = values[k as keyof typeof want];
    const n = Number(v);
    const ok = kind === 'count' ? Number.isInteger(n) && n > 0 : kind === 'positive' ? n > 0 : n >= 0;
    if (v !== undefined && (v.trim() === '' || !ok)) throw new Error(`--${k}: ${kind === 'count' ? 'a whole number above 0' : `a number, ${kind}`}, not '${v}'`);
  }
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error(`dist/ is missing: run \`npx tsc -p tsconfig.json\` in ${ROOT} first (the benchmarks start smb3d from it)`);
  }
  const out = path.resolve(values.out);
  await mkdir(path.dirname(out), { recursive: true });
  const started = new Date();
  const host = hostLine();
  const rev = commit();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'smb3d-bench-all-'));
  try {
    const opt = (name: string, v: string | undefined) => (v === undefined ? [] : [`--${name}`, v]);
    const runArgs = values.smoke ? ['--smoke'] : [...opt('rounds', values.rounds), ...opt('size', values.size), ...opt('files', values.files)];
    const run = await part<RunFigures>('smb3d beside smbd, smbclient on loopback', 'bench/run.ts', runArgs, tmp);
    if (interrupted) throw new Error(`interrupted (${interrupted})`);

    const mcArgs = values.smoke
      ? MC_SMOKE
      : [
          ...opt('links', values.links),
          ...opt('rate', values.rate),
          ...opt('size', values['mc-size']),
          ...opt('sign', values['mc-sign']),
          ...opt('rounds', values.rounds),
          ...opt('failover-rounds', values.rounds),
          // Failover cuts links 2 and 3.
          ...opt('failover-size', values.links !== undefined && Number(values.links) < 3 ? '0' : values['failover-size']),
        ];
    const why = values['skip-multichannel'] ? '--skip-multichannel' : await labUnavailable();
    const mcTitle = 'our client, 1 vs N channels and failover, in the netns lab';
    if (why) console.log(`\n== bench/multichannel.ts skipped: ${why}`);
    const mc: Part<MultichannelFigures> = why
      ? { title: mcTitle, command: `bench/multichannel.ts ${mcArgs.join(' ')}`.trim(), outcome: { skipped: why } }
      : await part<MultichannelFigures>(mcTitle, 'bench/multichannel.ts', mcArgs, tmp);
    if (interrupted) throw new Error(`interrupted (${interrupted})`);

    const svg = `${out}.svg`;
    const title = `smb3d benchmark, ${stamp(started)}`;
    await writeFile(svg, chartSvg(title, benchSections(run.figures, mc.figures), `${host}; ${rev}`));
    const md = report({ title, started, host, rev, argv: process.argv.slice(2), parts: [run, mc], svg: path.basename(svg) });
    await writeFile(`${out}.md`, md);
    console.log(`\nwrote ${shown(`${out}.md`)} and ${shown(svg)}`);
    const failed = [run, mc].filter((p) => 'code' in p.outcome && p.outcome.code !== 0);
    if (failed.length) throw new Error(`${failed.map((p) => p.command.split(' ')[0]).join(' and ')} failed (see above and the report)`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// Ctrl-C reaches the running benchmark too (same process group), which stops its servers; this
// process waits for that and then stops. A SIGTERM sent to this process alone is passed on.
let interrupted: NodeJS.Signals | undefined;
let current: ChildProcess | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = sig;
    if (sig === 'SIGTERM') current?.kill('SIGTERM');
  });
}

/** Runs one benchmark with its output on this console, and reads back what it wrote. */
async function part<F>(title: string, script: string, args: string[], tmp: string): Promise<Part<F>> {
  const base = path.join(tmp, path.basename(script, '.ts'));
  const argv = ['--import', 'tsx', path.join(ROOT, script), ...args, '--markdown', `${base}.md`, '--json', `${base}.json`];
  console.log(`\n== ${script} ${args.join(' ')}`);
  const child = (current = spawn(process.execPath, argv, { cwd: ROOT, stdio: 'inherit' }));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  }).finally(() => (current = undefined));
  const read = (file: string) => readFile(file, 'utf8').catch(() => undefined);
  const markdown = await read(`${base}.md`);
  const json = await read(`${base}.json`);
  return { title, command: `${script} ${args.join(' ')}`.trim(), outcome: { code }, markdown, figures: json === undefined ? undefined : (JSON.parse(json) as F) };
}

/** Why the lab cannot be built here: netnsUnavailable(), or a namespace that cannot be made. */
async function labUnavailable(): Promise<string | false> {
  let why: string | false;
  try {
    why = netnsUnavailable();
  } catch (err) {
    why = (err as Error).message;
  }
  if (why) return why;
  const name = `smb3d-bench-probe-${process.pid}`;
  const r = await runProcess('ip', ['netns', 'add', name], { timeoutMs: 15_000 }).catch((err: Error) => ({ code: -1, stderr: err.message }));
  if (r.code !== 0) return `cannot make a network namespace: ${r.stderr.trim()}`;
  await runProcess('ip', ['netns', 'delete', name], { timeoutMs: 15_000 });
  return false;
}

function report(o: { title: string; started: Date; host: string; rev: string; argv: string[]; parts: Part<unknown>[]; svg: string }): string {
  const lines = [
    `# ${o.title}`,
    '',
    `- host: ${o.host} at the start; ${hostState()} at the end; ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- commit: ${o.rev}`,
    `- command: \`node --import tsx bench/all.ts${o.argv.map((a) => ` ${shellQuote(a)}`).join('')}\` (${((Date.now() - o.started.getTime()) / 60_000).toFixed(1)} min)`,
    '',
    `![figures: smb3d/smbd ratios and multichannel shares](${o.svg})`,
  ];
  for (const p of o.parts) {
    lines.push('', `## ${p.title}`, '', `\`node --import tsx ${p.command}\``, '');
    if ('skipped' in p.outcome) {
      lines.push(`Skipped: ${p.outcome.skipped}.`);
      continue;
    }
    const body: string[] = [];
    if (p.outcome.code !== 0) body.push(`**Failed** (exit ${p.outcome.code}); its output is on the console.`);
    // run.ts's Markdown opens with a heading of its own; this report has one.
    if (p.markdown) body.push(p.markdown.replace(/^# .*\n+/, '').trimEnd());
    lines.push(body.join('\n\n'));
  }
  return `${lines.join('\n')}\n`;
}

/** Cores, kernel and how busy the machine is now. */
const hostLine = () => `${os.availableParallelism()} cores (nproc), ${os.type()} ${os.release()}, ${hostState()}`;

/**
 * The load average misses a busy host: on a VM, other guests' load shows only as everything
 * getting slower. So the report also times a copy in memory, which on this VM took twice as long
 * in a busy hour as in a quiet one, and gives the kernel's CPU pressure where it has one.
 */
function hostState(): string {
  const parts = [`load average ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`, `memory copy ${copyRate().toFixed(1)} GB/s`];
  try {
    const some = /^some avg10=\S+ avg60=(\S+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    if (some) parts.push(`CPU pressure ${some[1]}% (60 s)`);
  } catch {
    // No PSI in this kernel.
  }
  return parts.join(', ');
}

/** GB/s of copying an 8 MiB buffer: the median of 11 copies, after a first touch of both buffers. */
function copyRate(): number {
  const from = Buffer.alloc(8 * 1024 * 1024, 1);
  const to = Buffer.alloc(from.length);
  from.copy(to);
  const ns: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t = process.hrtime.bigint();
    from.copy(to);
    ns.push(Number(process.hrtime.bigint() - t));
  }
  return from.length / ns.sort((a, b) => a - b)[5]!;
}

function commit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')} (${git('rev-parse', '--abbrev-ref', 'HEAD')})${dirty ? ' with uncommitted changes' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** A path as given relative to here, or absolute when it is elsewhere. */
const shown = (p: string) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));
const stamp = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const shellQuote = (a: string) => (/^[\w./=:,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
