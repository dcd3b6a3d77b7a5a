// The benchmarks (bench/run.ts, bench/multichannel.ts) in seconds: tiny sizes, one round. They
// check that each still runs against both servers and yields a figure for every row, not how fast
// anything is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { smbdAvailable } from '../harness/smbd.js';
import { runProcess, describeRun } from '../harness/proc.js';
import { netnsUnavailable } from '../harness/netns.js';

const skip = skipUnless('smbclient') || (smbdAvailable() ? false : 'Samba smbd not installed');

describe('benchmark smoke run', { skip }, () => {
  it('measures every figure on smb3d and smbd', { timeout: 300_000 }, async () => {
    const r = await runProcess(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/run.ts'), '--smoke'], { cwd: REPO_ROOT, timeoutMs: 280_000 });
    assert.equal(r.code, 0, describeRun('bench/run.ts --smoke', r));
    const rows = r.stdout.split('\n').filter((l) => / (MB|files)\/s /.test(l));
    assert.equal(rows.length, 7, `expected 7 figures:\n${r.stdout}`);
    assert.ok(rows.some((l) => l.startsWith('4 clients, get of different files')), `no concurrent-clients figure:\n${r.stdout}`);
    for (const row of rows) {
      const figures = [...row.matchAll(/([\d.]+) (?:MB|files)\/s/g)].map((m) => Number(m[1]));
      assert.equal(figures.length, 2, row);
      for (const f of figures) assert.ok(f > 0, `a zero figure in: ${row}`);
    }
  });
});

describe('multichannel benchmark smoke run', { skip: skip || netnsUnavailable() }, () => {
  it('measures 1 and 3 channels and a failover on smb3d and smbd, with no WRITE run twice', { timeout: 240_000 }, async () => {
    const args = ['--links', '3', '--rate', '200', '--size', '4', '--rounds', '1', '--failover-size', '16', '--failover-rounds', '1'];
    const r = await runProcess(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/multichannel.ts'), ...args], { cwd: REPO_ROOT, timeoutMs: 220_000 });
    assert.equal(r.code, 0, describeRun('bench/multichannel.ts (smoke)', r));
    const rows = r.stdout.split('\n').filter((l) => /^\| (smb3d|smbd) \| [13] \|/.test(l));
    assert.equal(rows.length, 4, `expected 1- and 3-channel rows for both servers:\n${r.stdout}`);
    for (const row of rows) {
      const [put, get] = row.split('|').slice(3, 5).map((c) => Number(c.trim()));
      assert.ok(put! > 0 && get! > 0, `a zero figure in: ${row}`);
    }
    const failover = r.stdout.split('\n').filter((l) => /^\| (smb3d|smbd) \| \d/.test(l) && l.includes('of 1 |'));
    assert.equal(failover.length, 2, `expected a failover row per server:\n${r.stdout}`);
    for (const row of failover) assert.ok(row.trim().endsWith('| 1 of 1 |'), `failover round failed: ${row}`);
    // 16 MiB in 1 MiB WRITEs: the server ran each exactly once, replays or not.
    assert.match(failover.find((l) => l.startsWith('| smb3d'))!, /\| 16 WRITEs, 16777216 B,/);
  });
});
