// smbtorture's smb2.multichannel against smb3d (R1–R6, R10): channels, interface discovery, and
// break delivery that survives a dead channel, in three configurations (see the expected list).
// Each pass gets a fresh network namespace: the server takes port 445 there (bugs.bug_15346 opens
// its extra connection on 445) and smbtorture's iptables rules stay inside it.
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, startSmb3d } from '../harness/server.js';
import { emptySmbConf, skipUnless } from '../harness/peers.js';
import { runProcess } from '../harness/proc.js';
import { parseTortureOutput, type TestResult } from '../harness/torture.js';
import { createNetns, netnsUnavailable, type Netns } from '../harness/netns.js';

const EXPECTED_FILE = path.join(REPO_ROOT, 'test/smbtorture/expected-multichannel.txt');
const TEST_TIMEOUT_MS = 120_000;

interface Pass {
  config: string;
  torture: string[];
  /** Every test of the suite worth running in this configuration. */
  tests: string[];
}

const ALL = [
  'generic.interface_info',
  'generic.num_channels',
  'oplocks.test1',
  'oplocks.test2',
  'oplocks.test3_windows',
  'oplocks.test3_specification',
  'leases.test1',
  'leases.test2',
  'leases.test3',
  'leases.test4',
  'bugs.bug_15346',
].map((t) => `smb2.multichannel.${t}`);

const BREAK_TESTS = ALL.filter((t) => /oplocks|leases/.test(t));

const PASSES: Record<string, Pass> = {
  spec: {
    config: 'interfaces = 127.0.0.1\nsmbd:FSCTL_SMBTORTURE = yes\n',
    torture: [],
    tests: ALL,
  },
  windows: {
    config: 'interfaces = 127.0.0.1\nsmbd:FSCTL_SMBTORTURE = yes\nsmb2 disable oplock break retry = yes\n',
    torture: [],
    tests: BREAK_TESTS.filter((t) => t.includes('oplocks')),
  },
  iptables: {
    config: 'interfaces = 127.0.0.1\n',
    torture: ['--option=torture:use_iptables=yes'],
    // The two Windows-behaviour oplock tests need the windows configuration.
    tests: BREAK_TESTS.filter((t) => !t.endsWith('oplocks.test2') && !t.endsWith('test3_windows')),
  },
};

async function loadExpected(): Promise<Map<string, string[]>> {
  const byPass = new Map<string, string[]>();
  for (const raw of (await readFile(EXPECTED_FILE, 'utf8')).split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [pass, test] = line.split(/\s+/) as [string, string];
    if (!PASSES[pass]) throw new Error(`${EXPECTED_FILE}: unknown pass "${pass}"`);
    byPass.set(pass, [...(byPass.get(pass) ?? []), test]);
  }
  return byPass;
}

const skip = skipUnless('smbtorture') || netnsUnavailable();

describe('smbtorture smb2.multichannel', { skip }, () => {
  let expected: Map<string, string[]>;
  before(async () => {
    expected = await loadExpected();
  });

  for (const [name, pass] of Object.entries(PASSES)) {
    describe(`${name} configuration`, () => {
      let ns: Netns;
      before(async () => {
        ns = await createNetns(name);
      });
      after(async () => {
        await ns?.destroy();
      });

      it('every expected test passes', { timeout: pass.tests.length * TEST_TIMEOUT_MS + 60_000 }, async (t: TestContext) => {
        const want = expected.get(name) ?? [];
        for (const w of want) assert.ok(pass.tests.includes(w), `${w} is expected in ${name} but not run there`);
        const srv = await startSmb3d({ netns: ns.name, config: pass.config, args: ['--port', '445'] });
        const results: TestResult[] = [];
        try {
          for (const test of pass.tests) {
            const r = await runProcess(
              ns.prefix[0]!,
              [...ns.prefix.slice(1), 'smbtorture', '-s', emptySmbConf(), '//127.0.0.1/share', '-U', `${srv.user}%${srv.password}`, '--fullname', ...pass.torture, test],
              { timeoutMs: TEST_TIMEOUT_MS, cwd: srv.tmp },
            );
            const got = parseTortureOutput(r.stdout).find((x) => x.name === test) ?? {
              name: test,
              outcome: 'notrun' as const,
              reason: `${r.timedOut ? 'timed out' : `exit ${r.code}`}: ${r.stdout.slice(-600)}${r.stderr.slice(-300)}`,
            };
            results.push(got);
            t.diagnostic(`${test}: ${got.outcome}`);
            const exit = srv.exited();
            if (exit) assert.fail(`smb3d exited (${JSON.stringify(exit)}) during ${test}; log tail:\n${srv.logs().split('\n').slice(-30).join('\n')}`);
          }
        } finally {
          await srv.stop();
        }
        const missing = want
          .map((w) => results.find((r) => r.name === w)!)
          .filter((r) => r.outcome !== 'success')
          .map((r) => `${r.name}: ${r.outcome} — ${r.reason.split('\n').slice(0, 3).join(' | ')}`);
        const unlisted = results.filter((r) => r.outcome === 'success' && !want.includes(r.name)).map((r) => r.name);
        if (unlisted.length) t.diagnostic(`passing but not in expected-multichannel.txt: ${unlisted.join(', ')}`);
        assert.equal(missing.length, 0, `${name}: expected test(s) did not pass:\n  ${missing.join('\n  ')}`);
      });
    });
  }
});
