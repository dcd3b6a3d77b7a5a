// The benchmarks in seconds, through the one command (bench/all.ts --smoke: bench/run.ts and
// bench/multichannel.ts at tiny sizes, one round, then the report and the chart). They check that
// each still runs against both servers and yields a figure for every row, not how fast anything is.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { smbdAvailable } from '../harness/smbd.js';
import { runProcess, describeRun, type ProcResult } from '../harness/proc.js';
import { netnsUnavailable } from '../harness/netns.js';

const skip = skipUnless('smbclient') || (smbdAvailable() ? false : 'Samba smbd not installed');
const noLab = netnsUnavailable();

describe('benchmark smoke run (bench/all.ts --smoke)', { skip }, () => {
  let dir = '';
  let r: ProcResult;
  let report = '';
  let svg = '';
  const lines = () => report.split('\n');

  before(
    async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'smb3d-bench-smoke-'));
      r = await runProcess(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bench/all.ts'), '--smoke', '--out', path.join(dir, 'results')], {
        cwd: REPO_ROOT,
        timeoutMs: 480_000,
      });
      assert.equal(r.code, 0, describeRun('bench/all.ts --smoke', r));
      report = await readFile(path.join(dir, 'results.md'), 'utf8');
      svg = await readFile(path.join(dir, 'results.svg'), 'utf8');
    },
    { timeout: 500_000 },
  );
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes one report with the host, the commit and both parts, and a chart with a bar per figure', () => {
    assert.match(report, /^# smb3d benchmark, \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    assert.match(report, /^- host: \d+ cores \(nproc\), Linux .*load average .*, memory copy \d+\.\d GB\/s.* at the start; load average .*, memory copy \d+\.\d GB\/s.* at the end;/m);
    assert.match(report, /^- commit: [0-9a-f]{7,}/m);
    assert.match(report, /^- command: `node --import tsx bench\/all\.ts --smoke --out /m);
    assert.ok(report.includes('`node --import tsx bench/run.ts --smoke`'), report);
    assert.ok(report.includes('](results.svg)'), 'the report shows the chart');
    assert.ok(svg.startsWith('<svg ') && svg.trimEnd().endsWith('</svg>'), svg.slice(0, 200));
    assert.doesNotMatch(svg, /NaN/);
    const bars = (svg.match(/<rect class="bar"/g) ?? []).length;
    // run.ts's 7 ratios, and put and get of 1 and 3 channels on both servers.
    assert.equal(bars, noLab ? 7 : 7 + 8, svg);
  });

  it('measures every figure on smb3d and smbd', () => {
    const rows = lines().filter((l) => l.startsWith('| ') && / (MB|files)\/s /.test(l));
    assert.equal(rows.length, 7, `expected 7 figures:\n${report}`);
    assert.ok(rows.some((l) => l.startsWith('| 4 clients, get of different files')), `no concurrent-clients figure:\n${report}`);
    for (const row of rows) {
      const figures = [...row.matchAll(/([\d.]+) (?:MB|files)\/s/g)].map((m) => Number(m[1]));
      assert.equal(figures.length, 2, row);
      for (const f of figures) assert.ok(f > 0, `a zero figure in: ${row}`);
      // One round: its own ratio is the ratio of the medians.
      const cells = row.split('|').map((c) => c.trim());
      assert.equal(`${cells[5]}×`, cells[4], row);
    }
  });

  it('measures 1 and 3 channels and a failover on smb3d and smbd, with no WRITE run twice', { skip: noLab }, () => {
    assert.ok(
      report.includes('`node --import tsx bench/multichannel.ts --links 3 --rate 200 --size 4 --rounds 1 --failover-size 16 --failover-rounds 1`'),
      report,
    );
    const rows = lines().filter((l) => /^\| (smb3d|smbd) \| [13] \|/.test(l));
    assert.equal(rows.length, 4, `expected 1- and 3-channel rows for both servers:\n${report}`);
    for (const row of rows) {
      const [put, get] = row.split('|').slice(3, 5).map((c) => Number(c.trim()));
      assert.ok(put! > 0 && get! > 0, `a zero figure in: ${row}`);
    }
    const failover = lines().filter((l) => /^\| (smb3d|smbd) \| \d/.test(l) && l.includes('of 1 |'));
    assert.equal(failover.length, 2, `expected a failover row per server:\n${report}`);
    for (const row of failover) assert.ok(row.trim().endsWith('| 1 of 1 |'), `failover round failed: ${row}`);
    // 16 MiB in 1 MiB WRITEs: the server ran each exactly once, replays or not.
    assert.match(failover.find((l) => l.startsWith('| smb3d'))!, /\| 16 WRITEs, 16777216 B,/);
  });
});
