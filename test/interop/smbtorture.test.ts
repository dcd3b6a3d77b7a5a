// Samba's protocol test suite against smb3d. Every test in test/smbtorture/expected-pass.txt
// must pass; passes not in the list are reported so the list can grow
// (regenerate with `node --import tsx scripts/torture.ts --write`).
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { DEFAULT_SUITES, SUITE_TIMEOUT_MS, judge, loadExpected, runSuite, suiteOf, summarize, type SuiteRun } from '../harness/torture.js';

const EXPECTED_FILE = path.join(REPO_ROOT, 'test/smbtorture/expected-pass.txt');

/** The default suites, those the expected list names, or SMB3D_TORTURE_SUITES (space-separated). */
function suitesToRun(patterns: string[]): string[] {
  const env = process.env.SMB3D_TORTURE_SUITES?.trim();
  if (env) return env.split(/\s+/);
  const set = new Set(DEFAULT_SUITES);
  for (const p of patterns) {
    const s = suiteOf(p);
    if (s) set.add(s);
  }
  return [...set];
}

describe('smbtorture', { skip: skipUnless('smbtorture') }, () => {
  it('every expected test passes', { timeout: 60 * 60_000 }, async (t: TestContext) => {
    const patterns = await loadExpected(EXPECTED_FILE);
    const suites = suitesToRun(patterns);
    const runs: SuiteRun[] = [];
    for (const suite of suites) {
      const run = await runSuite(suite, { timeoutMs: SUITE_TIMEOUT_MS });
      runs.push(run);
      t.diagnostic(summarize([run]));
    }
    const results = runs.flatMap((r) => r.results);
    const verdict = judge(patterns, results);

    if (verdict.unlisted.length) {
      t.diagnostic(`${verdict.unlisted.length} passing test(s) not in expected-pass.txt:\n  ${verdict.unlisted.join('\n  ')}`);
    }

    const problems: string[] = [];
    for (const run of runs) {
      if (run.serverExit) problems.push(`${run.suite}: ${run.serverExit} during the suite; last log lines:\n${run.serverLogTail}`);
      if (run.timedOut) problems.push(`${run.suite}: smbtorture killed after ${SUITE_TIMEOUT_MS / 1000} s`);
      if (run.results.length === 0) problems.push(`${run.suite}: no results parsed; output:\n${run.output.slice(0, 4000)}`);
    }
    if (verdict.missing.length) {
      problems.push(`${verdict.missing.length} expected test(s) did not pass:\n  ${verdict.missing.join('\n  ')}`);
    }
    assert.equal(problems.length, 0, `\n${summarize(runs)}\n\n${problems.join('\n\n')}`);
  });
});
