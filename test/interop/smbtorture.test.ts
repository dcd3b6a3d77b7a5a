// Samba's protocol test suite against smb3d, with Samba's smbd (two configurations) running each
// suite at the same time for reference. Every test in test/smbtorture/expected-pass.txt must pass,
// and so must every test smbd passes in either configuration, except those
// test/smbtorture/smbd-differences.txt lists with the reason. Passes not in the expected list
// are reported so the list can grow (`node --import tsx scripts/torture.ts --write`).
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { skipUnlessSmbd } from '../harness/smbd.js';
import { SUITE_TIMEOUT_MS, judge, loadExpected, suiteOf, summarize } from '../harness/torture.js';
import { COMPARE_SUITES, loadDifferences, passed, runSideBySide, smbdConfigs, tableRows, textTable, type SuiteReport } from '../harness/side-by-side.js';

const EXPECTED_FILE = path.join(REPO_ROOT, 'test/smbtorture/expected-pass.txt');
const DIFFERENCES_FILE = path.join(REPO_ROOT, 'test/smbtorture/smbd-differences.txt');

/** The compared suites plus those the expected list names, or SMB3D_TORTURE_SUITES (space-separated). */
function suitesToRun(patterns: string[]): string[] {
  const env = process.env.SMB3D_TORTURE_SUITES?.trim();
  if (env) return env.split(/\s+/);
  const set = new Set(COMPARE_SUITES);
  for (const p of patterns) {
    const s = suiteOf(p);
    if (s) set.add(s);
  }
  return [...set];
}

describe('smbtorture, smb3d beside smbd', { skip: skipUnless('smbtorture') }, () => {
  it('every expected test and every test smbd passes', { timeout: 90 * 60_000 }, async (t: TestContext) => {
    const patterns = await loadExpected(EXPECTED_FILE);
    const differences = await loadDifferences(DIFFERENCES_FILE);
    const suites = suitesToRun(patterns);
    const noSmbd = skipUnlessSmbd();
    const notes: string[] = [];
    const configs = noSmbd ? [] : await smbdConfigs(notes);
    if (noSmbd) t.diagnostic(`${noSmbd}: smb3d runs alone, the comparison with smbd is skipped`);
    for (const n of notes) t.diagnostic(n);

    const reports: SuiteReport[] = [];
    for (const suite of suites) {
      const rep = await runSideBySide(suite, configs, { timeoutMs: SUITE_TIMEOUT_MS, parallel: true });
      reports.push(rep);
      const refs = configs.map((c) => `${c.key} ${passed(rep.runs[c.key]!).size}`).join(', ');
      t.diagnostic(`${summarize([rep.smb3d])}${refs ? `; passed by ${refs}` : ''}`);
    }
    if (configs.length) t.diagnostic(`\n${textTable(tableRows(reports, configs.map((c) => c.key)))}`);

    const verdict = judge(patterns, reports.flatMap((r) => r.smb3d.results));
    if (verdict.unlisted.length) {
      t.diagnostic(`${verdict.unlisted.length} passing test(s) not in expected-pass.txt:\n  ${verdict.unlisted.join('\n  ')}`);
    }
    const stale = [...differences.keys()].filter((n) => reports.some((r) => passed(r.runs.smb3d!).has(n)));
    if (stale.length) t.diagnostic(`smbd-differences.txt lists test(s) smb3d now passes:\n  ${stale.join('\n  ')}`);

    const problems: string[] = [];
    for (const rep of reports) {
      const run = rep.smb3d;
      if (run.serverExit) problems.push(`${run.suite}: ${run.serverExit} during the suite; last log lines:\n${run.serverLogTail}`);
      if (run.timedOut) problems.push(`${run.suite}: smbtorture killed after ${SUITE_TIMEOUT_MS / 1000} s`);
      if (run.results.length === 0) problems.push(`${run.suite}: no results parsed; output:\n${run.output.slice(0, 4000)}`);
    }
    if (verdict.missing.length) {
      problems.push(`${verdict.missing.length} expected test(s) did not pass:\n  ${verdict.missing.join('\n  ')}`);
    }
    const behind = reports.flatMap((rep) =>
      rep.smbdOnly
        .filter((n) => !differences.has(n))
        .map((n) => {
          const r = rep.smb3d.results.find((x) => x.name === n);
          const by = configs.filter((c) => passed(rep.runs[c.key]!).has(n)).map((c) => c.key);
          return `${n} (passed by ${by.join(', ')}): smb3d ${r ? `${r.outcome} ${r.reason.split('\n')[0]}` : 'not reported'}`;
        }),
    );
    if (behind.length) {
      problems.push(`${behind.length} test(s) smbd passes fail on smb3d and are not in smbd-differences.txt:\n  ${behind.join('\n  ')}`);
    }
    assert.equal(problems.length, 0, `\n${summarize(reports.map((r) => r.smb3d))}\n\n${problems.join('\n\n')}`);
  });
});
