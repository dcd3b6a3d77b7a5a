// Running smbtorture suites against smb3d and judging the results against an
// expected-pass list. Shared by test/interop/smbtorture.test.ts and scripts/torture.ts.
import { readFile } from 'node:fs/promises';
import { startSmb3d, type StartOptions } from './server.js';
import { runSmbtorture } from './peers.js';

export const DEFAULT_SUITES = ['smb2.connect', 'smb2.read', 'smb2.rw', 'smb2.session', 'smb2.credits', 'smb2.dir', 'smb2.getinfo'];
export const SUITE_TIMEOUT_MS = 300_000;

export type Outcome = 'success' | 'failure' | 'error' | 'skip' | 'xfail' | 'uxsuccess' | 'notrun';

export interface TestResult {
  name: string;
  outcome: Outcome;
  /** The bracketed reason smbtorture printed, if any. */
  reason: string;
}

/**
 * Parses smbtorture's "simple" output (subunit v1 style lines):
 *   test: NAME / success: NAME / failure: NAME [ multi-line reason ] / skip: NAME [ reason ] ...
 * A test that started but has no result line (the run was killed or crashed) is 'notrun'.
 */
export function parseTortureOutput(text: string): TestResult[] {
  const results = new Map<string, TestResult>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const started = /^test: (.+)$/.exec(line);
    if (started) {
      const name = started[1]!.trim();
      if (!results.has(name)) results.set(name, { name, outcome: 'notrun', reason: 'started but no result (killed or crashed?)' });
      continue;
    }
    const m = /^(success|successful|failure|fail|error|skip|xfail|uxsuccess|knownfail): (.+?)( \[)?\s*$/.exec(line);
    if (!m) continue;
    const outcome = normalize(m[1]!);
    let name = m[2]!;
    let reason = '';
    if (m[3]) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== ']'; i++) body.push(lines[i]!);
      reason = body.join('\n').trim();
    } else {
      // "skip: NAME [reason]" on one line
      const inline = /^(.*?) \[(.*)\]$/.exec(name);
      if (inline) {
        name = inline[1]!;
        reason = inline[2]!.trim();
      }
    }
    results.set(name.trim(), { name: name.trim(), outcome, reason });
  }
  return [...results.values()];
}

function normalize(word: string): Outcome {
  switch (word) {
    case 'successful':
      return 'success';
    case 'fail':
      return 'failure';
    case 'knownfail':
      return 'xfail';
    default:
      return word as Outcome;
  }
}

/** Patterns of the expected-pass list: one test name or glob (`*`) per line, `#` comments. */
export function parseExpected(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

export async function loadExpected(file: string): Promise<string[]> {
  return parseExpected(await readFile(file, 'utf8'));
}

export function globToRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/** The suite a pattern belongs to (its first two dotted parts), for choosing what to run. */
export function suiteOf(pattern: string): string | undefined {
  const parts = pattern.split('.');
  if (parts.length < 2) return undefined;
  const suite = `${parts[0]}.${parts[1]}`;
  return suite.includes('*') ? undefined : suite;
}

export interface Verdict {
  /** Expected tests that did not pass, with why. */
  missing: string[];
  /** Tests that passed but no pattern lists. */
  unlisted: string[];
}

/**
 * An exact pattern must have passed. A glob must match at least one test and every
 * test it matches must have passed (skips included: a skipped test is not a pass).
 */
export function judge(patterns: string[], results: TestResult[]): Verdict {
  const byName = new Map(results.map((r) => [r.name, r]));
  const missing: string[] = [];
  const covered = new Set<string>();
  for (const p of patterns) {
    if (!p.includes('*')) {
      covered.add(p);
      const r = byName.get(p);
      if (!r) missing.push(`${p}: not run`);
      else if (r.outcome !== 'success') missing.push(`${p}: ${r.outcome}${r.reason ? ` — ${firstLines(r.reason)}` : ''}`);
      continue;
    }
    const re = globToRegExp(p);
    const matched = results.filter((r) => re.test(r.name));
    if (matched.length === 0) missing.push(`${p}: no test matched`);
    for (const r of matched) {
      covered.add(r.name);
      if (r.outcome !== 'success') missing.push(`${r.name} (from ${p}): ${r.outcome}${r.reason ? ` — ${firstLines(r.reason)}` : ''}`);
    }
  }
  const unlisted = results.filter((r) => r.outcome === 'success' && !covered.has(r.name)).map((r) => r.name);
  return { missing, unlisted };
}

function firstLines(s: string, n = 3): string {
  return s.split('\n').slice(0, n).join(' | ');
}

export interface SuiteRun {
  suite: string;
  results: TestResult[];
  exitCode: number;
  timedOut: boolean;
  /** Set when smb3d died during the suite. */
  serverExit?: string;
  serverLogTail: string;
  output: string;
  elapsedMs: number;
}

/** One suite against a fresh smb3d, so a crash or leftover state cannot leak into the next suite. */
export async function runSuite(
  suite: string,
  opts: { timeoutMs?: number; extraArgs?: string[]; server?: StartOptions } = {},
): Promise<SuiteRun> {
  const srv = await startSmb3d(opts.server ?? {});
  const t0 = performance.now();
  try {
    const r = await runSmbtorture(
      [`//127.0.0.1/share`, '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`, '--fullname', ...(opts.extraArgs ?? []), suite],
      { timeoutMs: opts.timeoutMs ?? SUITE_TIMEOUT_MS, cwd: srv.tmp },
    );
    const exit = srv.exited();
    return {
      suite,
      results: parseTortureOutput(r.stdout),
      exitCode: r.code,
      timedOut: r.timedOut,
      serverExit: exit ? `smb3d exited (code ${exit.code}, signal ${exit.signal})` : undefined,
      serverLogTail: srv.logs().split('\n').slice(-40).join('\n'),
      output: `${r.stdout}\n${r.stderr}`,
      elapsedMs: performance.now() - t0,
    };
  } finally {
    await srv.stop();
  }
}

export function summarize(runs: SuiteRun[]): string {
  const lines: string[] = [];
  for (const run of runs) {
    const counts = new Map<Outcome, number>();
    for (const r of run.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    const c = [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(
      `${run.suite}: ${c || 'no results'} in ${(run.elapsedMs / 1000).toFixed(1)} s` +
        `${run.timedOut ? ' (TIMED OUT)' : ''}${run.serverExit ? ` (${run.serverExit})` : ''}`,
    );
  }
  return lines.join('\n');
}
