// smbtorture's smb2.multichannel against smb3d (R1–R6, R10): channels, interface discovery, and
// break delivery that survives a dead channel, in three configurations (see the expected list),
// with Samba's smbd run side by side in the same configuration. smb3d must pass its expected list
// and every test smbd passes. Each server gets a fresh network namespace per pass: it takes port
// 445 there (bugs.bug_15346 opens its extra connection on 445) and smbtorture's iptables rules stay
// inside it. The two servers run each test at the same time, so a pass costs one server's time.
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, startSmb3d } from '../harness/server.js';
import { skipUnlessSmbd, startSmbd } from '../harness/smbd.js';
import { emptySmbConf, skipUnless } from '../harness/peers.js';
import { runProcess } from '../harness/proc.js';
import { parseTortureOutput, type TestResult } from '../harness/torture.js';
import { createNetns, netnsUnavailable, type Netns } from '../harness/netns.js';

const EXPECTED_FILE = path.join(REPO_ROOT, 'test/smbtorture/expected-multichannel.txt');
const TEST_TIMEOUT_MS = 120_000;

interface Pass {
  /** smb.conf lines, read by smb3d and given to smbd as [global] lines. */
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

/** SMB3D_MC_ONLY=REGEX runs only the passes/tests whose "pass test" line matches (for debugging). */
const ONLY = process.env.SMB3D_MC_ONLY ? new RegExp(process.env.SMB3D_MC_ONLY) : undefined;
const selected = (pass: string, test: string) => !ONLY || ONLY.test(`${pass} ${test}`);

const skip = skipUnless('smbtorture') || netnsUnavailable() || skipUnlessSmbd();

/** A server under test inside its namespace, as far as running smbtorture against it goes. */
interface Target {
  label: string;
  ns: Netns;
  user: string;
  password: string;
  cwd: string;
  /** Why the server is gone, or undefined while it runs. */
  died(): string | undefined;
  stop(): Promise<void>;
}

async function runTest(target: Target, pass: Pass, test: string): Promise<TestResult> {
  const { ns } = target;
  const r = await runProcess(
    ns.prefix[0]!,
    [...ns.prefix.slice(1), 'smbtorture', '-s', emptySmbConf(), '//127.0.0.1/share', '-U', `${target.user}%${target.password}`, '--fullname', ...pass.torture, test],
    { timeoutMs: TEST_TIMEOUT_MS, cwd: target.cwd },
  );
  return (
    parseTortureOutput(r.stdout).find((x) => x.name === test) ?? {
      name: test,
      outcome: 'notrun' as const,
      reason: `${r.timedOut ? 'timed out' : `exit ${r.code}`}: ${r.stdout.slice(-600)}${r.stderr.slice(-300)}`,
    }
  );
}

async function startTargets(name: string, pass: Pass, nsSmb3d: Netns, nsSmbd: Netns): Promise<[Target, Target]> {
  const mine = await startSmb3d({ netns: nsSmb3d.name, config: pass.config, args: ['--port', '445'] });
  let ref;
  try {
    ref = await startSmbd({
      netns: nsSmbd.name,
      global: ['server multi channel support = yes', ...pass.config.split('\n').filter(Boolean)],
    });
  } catch (err) {
    await mine.stop();
    throw err;
  }
  const exitText = (e: object | undefined) => (e ? `exited ${JSON.stringify(e)}` : undefined);
  return [
    {
      label: 'smb3d',
      ns: nsSmb3d,
      user: mine.user,
      password: mine.password,
      cwd: mine.tmp,
      died: () => {
        const e = exitText(mine.exited());
        return e && `${e}; log tail:\n${mine.logs().split('\n').slice(-30).join('\n')}`;
      },
      stop: () => mine.stop(),
    },
    { label: 'smbd', ns: nsSmbd, user: ref.user, password: ref.password, cwd: ref.tmp, died: () => exitText(ref.exited()), stop: () => ref.stop() },
  ];
}

function table(name: string, rows: [string, TestResult, TestResult][]): string {
  const w = Math.max(...rows.map(([t]) => t.length));
  return [`${name}: ${'test'.padEnd(w)}  smbd     smb3d`, ...rows.map(([t, a, b]) => `${name}: ${t.padEnd(w)}  ${a.outcome.padEnd(8)} ${b.outcome}`)].join('\n');
}

describe('smbtorture smb2.multichannel, smb3d beside smbd', { skip }, () => {
  let expected: Map<string, string[]>;
  before(async () => {
    expected = await loadExpected();
  });

  for (const [name, all] of Object.entries(PASSES)) {
    const pass = { ...all, tests: all.tests.filter((t) => selected(name, t)) };
    if (pass.tests.length === 0) continue;
    describe(`${name} configuration`, () => {
      const spaces: Netns[] = [];
      before(async () => {
        spaces.push(await createNetns(`${name}-a`, { quickAck: true }), await createNetns(`${name}-b`, { quickAck: true }));
      });
      after(async () => {
        for (const ns of spaces) await ns.destroy();
      });

      it('every expected test and every test smbd passes', { timeout: pass.tests.length * TEST_TIMEOUT_MS + 90_000 }, async (t: TestContext) => {
        const want = (expected.get(name) ?? []).filter((w) => selected(name, w));
        for (const w of want) assert.ok(pass.tests.includes(w), `${w} is expected in ${name} but not run there`);
        const [mine, ref] = await startTargets(name, pass, spaces[0]!, spaces[1]!);
        const rows: [string, TestResult, TestResult][] = [];
        try {
          for (const test of pass.tests) {
            const [a, b] = await Promise.all([runTest(ref, pass, test), runTest(mine, pass, test)]);
            rows.push([test, a, b]);
            for (const target of [mine, ref]) {
              const why = target.died();
              if (why) assert.fail(`${target.label} ${why} during ${test}`);
            }
          }
        } finally {
          await Promise.all([mine.stop(), ref.stop()]);
        }
        t.diagnostic(`\n${table(name, rows)}`);
        const failed = (r: TestResult) => `${r.name}: ${r.outcome} — ${r.reason.split('\n').slice(0, 3).join(' | ')}`;
        const missing = rows.filter(([test, , b]) => want.includes(test) && b.outcome !== 'success').map(([, , b]) => failed(b));
        const behindSmbd = rows.filter(([, a, b]) => a.outcome === 'success' && b.outcome !== 'success').map(([, , b]) => failed(b));
        const unlisted = rows.filter(([test, , b]) => b.outcome === 'success' && !want.includes(test)).map(([test]) => test);
        if (unlisted.length) t.diagnostic(`passing but not in expected-multichannel.txt: ${unlisted.join(', ')}`);
        assert.deepEqual({ missing, behindSmbd }, { missing: [], behindSmbd: [] }, `${name}: expected tests, or tests smbd passes, did not pass on smb3d`);
      });
    });
  }
});
