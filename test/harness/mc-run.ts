// Starts mc-client.ts (or mc-create.ts) inside a lab's client namespace, for tests and
// bench/multichannel.ts: once to completion, or live, handing each mark line it prints to the
// caller (who cuts a link then) and answering "ack" on its stdin when the caller is done; and
// starts smb3d or smbd in the lab's server namespace, listening on every link.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab } from './lab.js';
import { REPO_ROOT, startSmb3d, type Smb3dHandle } from './server.js';
import { startSmbd, type SmbdHandle } from './smbd.js';
import { runProcess, describeRun } from './proc.js';
import type { McClientArgs, McClientResult } from './mc-client.js';

const argv = (lab: Lab, a: object, script = 'mc-client.ts') => ['netns', 'exec', lab.client.name, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'test/harness', script), JSON.stringify(a)];

/** The lab's server addresses as an `interfaces` value with speed and RSS (smb3d and smbd read the same syntax). */
export const labInterfaces = (lab: Lab, speed = 1e9): string => lab.links.map((l) => `"${l.serverAddr};speed=${speed},capability=RSS"`).join(' ');

/** smb3d on port 445 of every link, with debug logs (its "open closed" lines count WRITEs). */
export function startSmb3dInLab(lab: Lab, speed?: number): Promise<Smb3dHandle> {
  return startSmb3d({
    netns: lab.server.name,
    logLevel: 'debug',
    config: `interfaces = ${labInterfaces(lab, speed)}\n`,
    args: ['--port', '445', ...lab.links.flatMap((l) => ['--listen', l.serverAddr])],
  });
}

/** Where startSmbdInLab's smbd listens: not 445, so that it can run beside smb3d in one lab. */
export const SMBD_LAB_PORT = 4455;

/**
 * Samba's smbd on port 4455 of every link, multichannel on, with vfs_full_audit writing every
 * pwrite it makes to its log as "audit|pwrite_send|ok|<full path>" (see smbdWrites).
 */
export function startSmbdInLab(lab: Lab, speed?: number): Promise<SmbdHandle> {
  return startSmbd({
    netns: lab.server.name,
    port: SMBD_LAB_PORT,
    interfaces: labInterfaces(lab, speed),
    global: ['server multi channel support = yes'],
    share: ['vfs objects = full_audit', 'full_audit:syslog = no', 'full_audit:prefix = audit', 'full_audit:success = pwrite pwrite_send', 'full_audit:failure = none'],
  });
}

/** The pwrites smbd (started by startSmbdInLab) made to one file of its share. */
export function smbdWrites(s: SmbdHandle, file: string): number {
  const full = path.join(s.shareDir, file);
  return s.logs().split('\n').filter((l) => l.endsWith(`|ok|${full}`) && /\|pwrite(_send)?\|/.test(l)).length;
}

/** smb3d's executed WRITEs for one file, summed over its opens' "open closed" debug lines. */
export function smb3dWrites(s: Smb3dHandle, file: string): { writes: number; bytes: number; replays: number; replaysSkipped: number } {
  const t = { writes: 0, bytes: 0, replays: 0, replaysSkipped: 0 };
  for (const line of s.logs().split('\n')) {
    if (!line.includes('"open closed"')) continue;
    const l = JSON.parse(line) as { path: string; writes: number; bytes: number; replays: number; replaysSkipped: number };
    if (l.path !== file) continue;
    t.writes += l.writes;
    t.bytes += l.bytes;
    t.replays += l.replays;
    t.replaysSkipped += l.replaysSkipped;
  }
  return t;
}

export async function runClient(lab: Lab, a: McClientArgs, timeoutMs = 120_000): Promise<McClientResult> {
  const r = await runProcess('ip', argv(lab, a), { cwd: REPO_ROOT, timeoutMs });
  if (r.code !== 0) throw new Error(describeRun('mc-client', r));
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as McClientResult;
}

/**
 * Runs the client and calls `onLine` for each line it prints before its result (marks); once
 * that is done, writes "ack" to the client's stdin (for a client that waits for it).
 */
export function runClientLive<R = McClientResult>(lab: Lab, a: object, onLine: (line: string) => Promise<void>, timeoutMs = 120_000, script = 'mc-client.ts'): Promise<R> {
  const child = spawn('ip', argv(lab, a, script), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined); // a client that exited does not read its acks
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let last = '';
  const handlers: Promise<void>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    last = line;
    if (!line.startsWith('{')) handlers.push(onLine(line).then(() => void child.stdin.write('ack\n')));
  });
  return new Promise((resolve, reject) => {
    child.on('close', async (code) => {
      clearTimeout(timer);
      try {
        await Promise.all(handlers);
      } catch (e) {
        reject(e as Error);
        return;
      }
      if (code !== 0) reject(new Error(`mc-client exited ${code}\n${stderr}`));
      else resolve(JSON.parse(last) as R);
    });
  });
}
