// Runs smbtorture suites against a freshly started smb3d, prints each test's outcome,
// and optionally writes the passing tests as the new expected-pass list.
//
//   node --import tsx scripts/torture.ts [--write [FILE]] [--runs N] [--timeout SECONDS] [SUITE...]
//
// --write keeps only tests that passed in every one of the N runs (default 1), so a
// flaky test does not enter the list. Without suites, the default foundation suites run.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../test/harness/server.js';
import { DEFAULT_SUITES, SUITE_TIMEOUT_MS, parseExpected, runSuite, suiteOf, summarize, type SuiteRun } from '../test/harness/torture.js';

interface Args {
  write?: string;
  runs: number;
  timeoutMs: number;
  suites: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 1, timeoutMs: SUITE_TIMEOUT_MS, suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--write') {
      const next = argv[i + 1];
      if (next && !next.startsWith('-') && next.endsWith('.txt')) {
        a.write = path.resolve(next);
        i++;
      } else a.write = path.join(REPO_ROOT, 'test/smbtorture/expected-pass.txt');
    } else if (arg === '--runs') a.runs = Math.max(1, Number(argv[++i]));
    else if (arg === '--timeout') a.timeoutMs = Number(argv[++i]) * 1000;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: node --import tsx scripts/torture.ts [--write [FILE.txt]] [--runs N] [--timeout SECONDS] [SUITE...]');
      process.exit(0);
    } else a.suites.push(arg);
  }
  if (a.suites.length === 0) a.suites = [...DEFAULT_SUITES];
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const passCount = new Map<string, number>();
  const all: SuiteRun[] = [];
  for (let run = 1; run <= args.runs; run++) {
    for (const suite of args.suites) {
      const r = await runSuite(suite, { timeoutMs: args.timeoutMs });
      all.push(r);
      for (const t of r.results) {
        const reason = t.reason ? `  ${t.reason.split('\n')[0]}` : '';
        console.log(`${t.outcome.padEnd(9)} ${t.name}${t.outcome === 'success' ? '' : reason}`);
        if (t.outcome === 'success') passCount.set(t.name, (passCount.get(t.name) ?? 0) + 1);
      }
      console.log(`# ${summarize([r])}${args.runs > 1 ? ` (run ${run})` : ''}`);
    }
  }
  console.log(`\n${summarize(all)}`);
  const stable = [...passCount].filter(([, n]) => n === args.runs).map(([name]) => name).sort();
  console.log(`${stable.length} test(s) passed in every run`);
  if (args.write) await writeList(args.write, args, stable, all);
}

/**
 * Rewrites the list: entries of the suites just run are replaced by what passed, entries
 * of other suites are kept, so one suite can be re-measured on its own.
 */
async function writeList(file: string, args: Args, stable: string[], runs: SuiteRun[]): Promise<void> {
  let kept: string[] = [];
  try {
    kept = parseExpected(await readFile(file, 'utf8')).filter((p) => {
      const s = suiteOf(p);
      return !s || !args.suites.includes(s);
    });
  } catch {
    // no list yet
  }
  const notPassing = [...new Set(runs.flatMap((r) => r.results).filter((t) => !stable.includes(t.name)).map((t) => t.name))].sort();
  const header = [
    '# smbtorture tests smb3d must pass; test/interop/smbtorture.test.ts fails listing every',
    '# one that did not. One test name (as smbtorture prints it with --fullname) or a glob',
    '# with `*` per line; `#` starts a comment. A glob must match at least one test, and every',
    '# test it matches must pass. The suites run are the test\'s defaults plus the first two',
    '# dotted parts of every name here (smb2.lock.rw-none -> smb2.lock).',
    '#',
    '# Regenerate (entries of the suites given are replaced, others kept; only tests that',
    '# passed in every run are written):',
    '#   npx tsc -p tsconfig.json && node --import tsx scripts/torture.ts --runs 2 --write [SUITE...]',
    '',
  ];
  const body = [...new Set([...kept, ...stable])].sort();
  // The header stays the same from run to run, so parallel updates of different suites merge cleanly.
  await writeFile(file, `${header.join('\n')}${body.join('\n')}\n`);
  console.log(`wrote ${file}`);
  if (notPassing.length) console.log(`run but not passing every time:\n  ${notPassing.join('\n  ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
