// A long-running impacket client (test/harness/impacket_driver.py) driven over stdin/stdout with
// one JSON command per line, so that it can hold opens, locks and oplocks while another client
// contends, and be SIGKILLed in the middle of an operation.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON } from './peers.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'impacket_driver.py');

export interface DriverAnswer {
  ok: boolean;
  /** NT status name (or a description) when !ok. */
  status?: string;
  [k: string]: unknown;
}

// Drivers still running when the test process exits (a test threw before stop()).
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class ImpacketDriver {
  private readonly waiting: Array<{ resolve(a: DriverAnswer): void; reject(e: Error): void; cmd: string }> = [];
  private pending = '';
  private stderr = '';
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    live.add(child);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (this.stderr += s));
    child.stdout!.on('data', (s: string) => {
      this.pending += s;
      let nl: number;
      while ((nl = this.pending.indexOf('\n')) >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        const w = this.waiting.shift();
        if (!w) continue;
        try {
          w.resolve(JSON.parse(line) as DriverAnswer);
        } catch {
          w.reject(new Error(`impacket driver: not JSON: ${line}`));
        }
      }
    });
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(child);
        for (const w of this.waiting.splice(0)) w.reject(new Error(`impacket driver exited (${code ?? signal}) during ${w.cmd}; stderr:\n${this.stderr}`));
        resolve();
      }),
    );
  }

  static start(): ImpacketDriver {
    return new ImpacketDriver(spawn(SYSTEM_PYTHON, ['-u', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends a command; the answer comes when python has done it (commands run one after another). */
  send(cmd: string, args: Record<string, unknown> = {}): Promise<DriverAnswer> {
    if (this.exit) return Promise.reject(new Error(`impacket driver has exited (${JSON.stringify(this.exit)})`));
    const answer = new Promise<DriverAnswer>((resolve, reject) => this.waiting.push({ resolve, reject, cmd }));
    this.child.stdin!.write(`${JSON.stringify({ cmd, ...args })}\n`);
    return answer;
  }

  /** Like send, but a failed command throws. */
  async do(cmd: string, args: Record<string, unknown> = {}): Promise<DriverAnswer> {
    const a = await this.send(cmd, args);
    if (!a.ok) throw new Error(`impacket ${cmd} ${JSON.stringify(args)} failed: ${a.status}\n${this.stderr}`);
    return a;
  }

  /** SIGKILL: the process gets no chance to close anything; its socket is closed by the kernel. */
  async kill(): Promise<void> {
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ends the driver politely (EOF on stdin), or by SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.exit) return;
    this.child.stdin!.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killer);
  }
}
