// Starts mc-client.ts inside a lab's client namespace, for tests and bench/multichannel.ts: once
// to completion, or live, handing each mark line it prints to the caller (who cuts a link then).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab } from './lab.js';
import { REPO_ROOT } from './server.js';
import { runProcess, describeRun } from './proc.js';
import type { McClientArgs, McClientResult } from './mc-client.js';

const argv = (lab: Lab, a: McClientArgs) => ['netns', 'exec', lab.client.name, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'test/harness/mc-client.ts'), JSON.stringify(a)];

export async function runClient(lab: Lab, a: McClientArgs, timeoutMs = 120_000): Promise<McClientResult> {
  const r = await runProcess('ip', argv(lab, a), { cwd: REPO_ROOT, timeoutMs });
  if (r.code !== 0) throw new Error(describeRun('mc-client', r));
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as McClientResult;
}

/** Runs the client and calls `onLine` for each line it prints before its result (marks). */
export function runClientLive(lab: Lab, a: McClientArgs, onLine: (line: string) => Promise<void>, timeoutMs = 120_000): Promise<McClientResult> {
  const child = spawn('ip', argv(lab, a), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let last = '';
  const handlers: Promise<void>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    last = line;
    if (!line.startsWith('{')) handlers.push(onLine(line));
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
      else resolve(JSON.parse(last) as McClientResult);
    });
  });
}
