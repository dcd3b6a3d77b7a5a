// The benchmark (bench/run.ts) in seconds: tiny sizes, one round. It checks that the benchmark
// still runs against both servers and yields a figure for every row, not how fast anything is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { smbdAvailable } from '../harness/smbd.js';
import { runProcess, describeRun } from '../harness/proc.js';

const skip = skipUnless('smbclient') || (smbdAvailable() ? false : 'Samba smbd not installed');

describe('benchmark smoke run', { skip }, () => {
  it('measures every figure on smb3d and smbd', { timeout: 300_000 }, async () => {
    const r = await runProcess(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/run.ts'), '--smoke'], { cwd: REPO_ROOT, timeoutMs: 280_000 });
    assert.equal(r.code, 0, describeRun('bench/run.ts --smoke', r));
    const rows = r.stdout.split('\n').filter((l) => / (MB|files)\/s /.test(l));
    assert.equal(rows.length, 6, `expected 6 figures:\n${r.stdout}`);
    for (const row of rows) {
      const figures = [...row.matchAll(/([\d.]+) (?:MB|files)\/s/g)].map((m) => Number(m[1]));
      assert.equal(figures.length, 2, row);
      for (const f of figures) assert.ok(f > 0, `a zero figure in: ${row}`);
    }
  });
});
