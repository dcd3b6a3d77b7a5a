import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, describeRun } from './proc.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO_ROOT, 'bin/smb3d.cjs');

export interface StartOptions {
  /** share name -> directory; default: one temp share named 'share'. */
  shares?: Record<string, string>;
  /** user -> password; default { testuser: 'Test-Pass1' }. The first one is `user`/`password`. */
  users?: Record<string, string>;
  /** Extra smb.conf text ([global] lines and/or share sections); written to a file passed as --config. */
  config?: string;
  /**
   * Shares defined in the config file: name -> extra smb.conf lines of that section.
   * The harness creates a temp directory for each and writes `path =` itself.
   */
  configShares?: Record<string, string>;
  args?: string[];
  /** Run the server inside this network namespace (see harness/netns.ts); needs root. */
  netns?: string;
  logLevel?: string;
  startTimeoutMs?: number;
}

export interface Smb3dHandle {
  port: number;
  /** Directory of the first share. */
  shareDir: string;
  /** Every share's directory by name (--share and configShares). */
  dirs: Record<string, string>;
  user: string;
  password: string;
  users: Record<string, string>;
  tmp: string;
  pid: number;
  logs(): string;
  /** Exit code/signal once the server has exited on its own; undefined while it runs. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop(): Promise<void>;
}

const DEFAULT_USERS = { testuser: 'Test-Pass1' };

// Children still running when the test process exits (a test threw before stop()).
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function assertBuilt(): void {
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli/main.js'))) {
    throw new Error(`dist/ is missing: run \`npx tsc -p tsconfig.json\` in ${REPO_ROOT} first (scripts/test.sh does)`);
  }
}

export async function startSmb3d(opts: StartOptions = {}): Promise<Smb3dHandle> {
  assertBuilt();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'smb3d-test-'));
  try {
    return await startIn(tmp, opts);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(tmp: string, opts: StartOptions): Promise<Smb3dHandle> {
  const users = opts.users ?? DEFAULT_USERS;
  const passdb = path.join(tmp, 'passdb');
  for (const [name, password] of Object.entries(users)) {
    const r = await runProcess(process.execPath, [CLI, 'user', 'add', name, '--passdb', passdb, '--password-stdin'], {
      input: `${password}\n`,
      timeoutMs: 15_000,
    });
    if (r.code !== 0) throw new Error(describeRun(`smb3d user add ${name}`, r));
  }

  const dirs: Record<string, string> = {};
  const shares = opts.shares ?? { share: path.join(tmp, 'share') };
  const args = ['serve', '--port', '0', '--listen', '127.0.0.1', '--passdb', passdb, '--log-level', opts.logLevel ?? 'info'];
  for (const [name, dir] of Object.entries(shares)) {
    await mkdir(dir, { recursive: true });
    dirs[name] = dir;
    args.push('--share', `${name}=${dir}`);
  }

  if (opts.config !== undefined || opts.configShares) {
    let text = opts.config ?? '';
    // The parser wants a section before any key.
    if (!/^\s*\[/.test(text)) text = `[global]\n${text}`;
    for (const [name, lines] of Object.entries(opts.configShares ?? {})) {
      const dir = path.join(tmp, `cfg-${name}`);
      await mkdir(dir, { recursive: true });
      dirs[name] = dir;
      text += `\n[${name}]\n  path = ${dir}\n${lines}\n`;
    }
    const conf = path.join(tmp, 'smb.conf');
    await writeFile(conf, text);
    args.push('--config', conf);
  }
  args.push(...(opts.args ?? []));

  // `ip netns exec` execs the program, so the child's PID stays the server's.
  const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const child = spawn(file, argv, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedP = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolve();
    }),
  );
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (output += s));

  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = opts.startTimeoutMs ?? 15_000;
    let pending = '';
    let done = false;
    const finish = (err: Error | undefined, p?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else resolve(p!);
    };
    const timer = setTimeout(
      () => finish(new Error(`smb3d did not log "listening" within ${timeoutMs} ms; output:\n${output}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (s: string) => {
      output += s;
      pending += s;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const p = listeningPort(line);
        if (p !== undefined) finish(undefined, p);
      }
    });
    child.on('error', (e) => finish(e));
    void exitedP.then(() => finish(new Error(`smb3d exited (${JSON.stringify(exitInfo)}) before listening; output:\n${output}`)));
  });

  const [user, password] = Object.entries(users)[0] ?? ['', ''];
  const firstShare = Object.keys(dirs)[0];
  let stopped = false;
  return {
    port,
    shareDir: firstShare ? dirs[firstShare]! : '',
    dirs,
    user,
    password,
    users,
    tmp,
    pid: child.pid!,
    logs: () => output,
    exited: () => exitInfo,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!exitInfo) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exitedP;
        clearTimeout(killer);
      }
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const rec = JSON.parse(line) as { msg?: unknown; port?: unknown };
    if (rec.msg === 'listening' && typeof rec.port === 'number' && rec.port > 0) return rec.port;
  } catch {
    // not a log record
  }
  return undefined;
}
