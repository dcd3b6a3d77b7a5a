// Samba's smbd as a reference server for comparisons: a private, foreground instance on a
// loopback port, with every state directory and the passdb inside one temp directory, so it
// touches nothing of the machine's Samba setup and can be torn down completely.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runProcess, describeRun } from './proc.js';
import { runSmbclient, runSmbtorture } from './peers.js';
import { parseTortureOutput, type TestResult } from './torture.js';

export const SMBD = '/usr/sbin/smbd';
const VFS_DIR = '/usr/lib/x86_64-linux-gnu/samba/vfs';

export interface SmbdOptions {
  /** Extra [global] lines. */
  global?: string[];
  /** Extra lines of the [share] section. */
  share?: string[];
  /** SMB user name the client logs on with; default 'testuser'. */
  user?: string;
  password?: string;
  /**
   * Existing Unix account the SMB user is mapped to (tdbsam needs one). The default `nobody`
   * exists everywhere; it is not the guest account here (see `guest account` below).
   */
  unixUser?: string;
  startTimeoutMs?: number;
  /**
   * Run smbd inside this network namespace (root; harness/netns.ts, harness/lab.ts). `port`
   * (default 445 there) and `interfaces` then say where it listens; readiness is probed inside.
   */
  netns?: string;
  /** TCP port; default a free loopback port, or 445 in a namespace. */
  port?: number;
  /** The `interfaces` line (smb.conf(5)); default 127.0.0.1. Always with `bind interfaces only`. */
  interfaces?: string;
}

export interface SmbdHandle {
  port: number;
  shareDir: string;
  user: string;
  password: string;
  tmp: string;
  pid: number;
  conf: string;
  logs(): string;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop(): Promise<void>;
}

export function smbdAvailable(): boolean {
  return existsSync(SMBD) && process.getuid?.() === 0;
}

/**
 * Reason string for `{ skip }` options, or false when smbd can be started. Under CI a missing
 * smbd is a failure: scripts/install-peers.sh should have installed it.
 */
export function skipUnlessSmbd(): string | false {
  if (smbdAvailable()) return false;
  if (process.env.CI === 'true') throw new Error('Samba smbd is not installed (or not root) but CI=true: run scripts/install-peers.sh as root');
  return 'Samba smbd not installed (or not root)';
}

export function vfsModuleAvailable(name: string): boolean {
  return existsSync(path.join(VFS_DIR, `${name}.so`));
}

// Process groups still alive when this process exits (a caller threw before stop()).
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});

function killGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false; // group already gone
  }
}

/** A port nothing listens on right now; smbd binds it a moment later. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1_000, () => done(false));
  });
}

/** Whether something listens on `port` inside a network namespace (we cannot connect from here). */
async function listensIn(netns: string, port: number): Promise<boolean> {
  const r = await runProcess('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.trim() !== '';
}

async function unixIds(user: string): Promise<{ uid: number; gid: number }> {
  const uid = await runProcess('id', ['-u', user], { timeoutMs: 10_000 });
  const gid = await runProcess('id', ['-g', user], { timeoutMs: 10_000 });
  if (uid.code !== 0 || gid.code !== 0) throw new Error(`unix user ${user} not found: ${uid.stderr}${gid.stderr}`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startSmbd(opts: SmbdOptions = {}): Promise<SmbdHandle> {
  if (!smbdAvailable()) throw new Error(`${SMBD} missing or not running as root`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'smb3d-smbd-'));
  try {
    return await startIn(tmp, opts);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(tmp: string, opts: SmbdOptions): Promise<SmbdHandle> {
  const user = opts.user ?? 'testuser';
  const password = opts.password ?? 'Test-Pass1';
  const unixUser = opts.unixUser ?? 'nobody';
  const ids = await unixIds(unixUser);

  // smbd switches to the mapped user for file access: it must reach and write the share.
  await chmod(tmp, 0o755);
  const d = (name: string) => path.join(tmp, name);
  for (const name of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'log']) await mkdir(d(name), { mode: 0o755 });
  const shareDir = d('share');
  await mkdir(shareDir);
  await chown(shareDir, ids.uid, ids.gid);

  const port = opts.port ?? (opts.netns ? 445 : await freeLoopbackPort());
  const usermap = d('usermap.txt');
  await writeFile(usermap, `${unixUser} = ${user}\n`);
  const conf = d('smb.conf');
  const global = [
    'server role = standalone server',
    'workgroup = WORKGROUP',
    `netbios name = SMB3DREF${port}`,
    `interfaces = ${opts.interfaces ?? '127.0.0.1'}`,
    'bind interfaces only = yes',
    `smb ports = ${port}`,
    'disable netbios = yes',
    `private dir = ${d('private')}`,
    `lock directory = ${d('lock')}`,
    `state directory = ${d('state')}`,
    `cache directory = ${d('cache')}`,
    `pid directory = ${d('pid')}`,
    `ncalrpc dir = ${d('ncalrpc')}`,
    `log file = ${d('log')}/log.%m`,
    'log level = 1',
    `passdb backend = tdbsam:${d('private')}/passdb.tdb`,
    `username map = ${usermap}`,
    // The guest account's passdb entry gets the guest RID, which would make our user a guest.
    'guest account = daemon',
    'map to guest = never',
    'disable spoolss = yes',
    'load printers = no',
    'printcap name = /dev/null',
    ...(opts.global ?? []),
  ];
  const share = [`path = ${shareDir}`, 'read only = no', ...(opts.share ?? [])];
  await writeFile(conf, `[global]\n${global.map((l) => `  ${l}\n`).join('')}\n[share]\n${share.map((l) => `  ${l}\n`).join('')}`);

  const add = await runProcess('smbpasswd', ['-c', conf, '-a', '-s', unixUser], {
    input: `${password}\n${password}\n`,
    timeoutMs: 30_000,
  });
  if (add.code !== 0) throw new Error(describeRun(`smbpasswd -a ${unixUser}`, add));

  // stdin must not be a socket (node's 'pipe'): smbd would take it for an inetd connection.
  const logPath = d('log/smbd.stdout');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // detached: the child leads a new process group, so stop() reaches every process smbd forks.
    const smbdArgs = ['--foreground', '--no-process-group', '--debug-stdout', '-s', conf];
    // `ip netns exec` execs smbd, so the child's PID (and process group) stays smbd's.
    const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, SMBD, ...smbdArgs]] : [SMBD, smbdArgs];
    child = spawn(file, argv, {
      cwd: tmp,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid!;
  liveGroups.add(pid);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedP = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    }),
  );
  child.on('error', () => {});
  const logs = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  const stop = async (): Promise<void> => {
    if (!liveGroups.has(pid)) return;
    if (!exitInfo) {
      killGroup(pid, 'SIGTERM');
      const killer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5_000);
      await exitedP;
      clearTimeout(killer);
    }
    // Children that outlived the parent are still in its group.
    await new Promise((r) => setTimeout(r, 200));
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
    await rm(tmp, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (exitInfo) {
      const out = logs();
      await stop();
      throw new Error(`smbd exited (${JSON.stringify(exitInfo)}) before listening; output:\n${out}`);
    }
    if (await (opts.netns ? listensIn(opts.netns, port) : canConnect(port))) break;
    if (Date.now() > deadline) {
      const out = logs();
      await stop();
      throw new Error(`smbd did not listen on port ${port}${opts.netns ? ` in ${opts.netns}` : ''} in time; output:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return { port, shareDir, user, password, tmp, pid, conf, logs, exited: () => exitInfo, stop };
}

export interface TargetRun {
  results: TestResult[];
  /** Why the run may not have reported every test (timeout, crash, server died); empty when complete. */
  incomplete: string[];
  elapsedMs: number;
  output: string;
}

/** Signs in smbtorture's output that it died in the middle of a suite. */
const CRASH = /INTERNAL ERROR|PANIC|Segmentation fault|smb_panic/;

/** Judges whether a run reported everything, for smb3d and smbd runs alike. */
export function incompleteReasons(
  r: { timedOut: boolean; signal?: NodeJS.Signals | null; output: string; results: TestResult[] },
  serverExit?: string,
): string[] {
  const why: string[] = [];
  if (r.timedOut) why.push('timed out');
  else if (r.signal) why.push(`smbtorture killed by ${r.signal}`);
  if (CRASH.test(r.output)) why.push('smbtorture crashed');
  const notrun = r.results.filter((t) => t.outcome === 'notrun').length;
  if (notrun > 0 && !r.timedOut) why.push(`${notrun} test(s) without result`);
  if (r.results.length === 0) why.push('no results');
  if (serverExit) why.push(serverExit);
  return why;
}

/** One suite against a fresh smbd of the given configuration. */
export async function runSuiteOnSmbd(suite: string, smbd: SmbdOptions, opts: { timeoutMs: number; extraArgs?: string[] }): Promise<TargetRun> {
  const srv = await startSmbd(smbd);
  const t0 = performance.now();
  try {
    const r = await runSmbtorture(
      ['//127.0.0.1/share', '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`, '--fullname', ...(opts.extraArgs ?? []), suite],
      { timeoutMs: opts.timeoutMs, cwd: srv.tmp },
    );
    const output = `${r.stdout}\n${r.stderr}`;
    const results = parseTortureOutput(r.stdout);
    const exit = srv.exited();
    return {
      results,
      incomplete: incompleteReasons({ ...r, output, results }, exit ? `smbd exited (code ${exit.code}, signal ${exit.signal})` : undefined),
      elapsedMs: performance.now() - t0,
      output,
    };
  } finally {
    await srv.stop();
  }
}

/**
 * Starts smbd with these options and writes and lists a file through smbclient; returns why
 * that failed, or undefined when the share works (a VFS module can load yet fail at connect).
 */
export async function probeSmbd(smbd: SmbdOptions): Promise<string | undefined> {
  let srv: SmbdHandle | undefined;
  try {
    srv = await startSmbd(smbd);
    const r = await runSmbclient(
      ['//127.0.0.1/share', '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`, '-c', 'put /etc/hostname probe; ls probe; del probe'],
      { timeoutMs: 60_000, cwd: srv.tmp },
    );
    if (r.code !== 0) return `smbclient exit ${r.code}: ${firstStatus(`${r.stdout}\n${r.stderr}`)}`;
    return undefined;
  } catch (err) {
    return String(err).split('\n')[0];
  } finally {
    await srv?.stop();
  }
}

function firstStatus(text: string): string {
  return /NT_STATUS_[A-Z0-9_]+/.exec(text)?.[0] ?? text.trim().split('\n').slice(-1)[0] ?? '';
}
