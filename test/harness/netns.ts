// Network namespaces the tests create for themselves: a private loopback where a server may take
// port 445 and where iptables rules (smbtorture's channel blocking) touch nothing of the host's.
import { runProcess } from './proc.js';

export interface Netns {
  name: string;
  /** argv prefix that runs a program inside the namespace. */
  prefix: string[];
  destroy(): Promise<void>;
}

/** Why netns tests cannot run here, or false when they can (root and iproute2). */
export function netnsUnavailable(): string | false {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) {
    if (process.env.CI === 'true') throw new Error('CI=true but not root: network-namespace tests need root');
    return 'network namespaces need root';
  }
  return false;
}

let counter = 0;

export async function createNetns(label: string): Promise<Netns> {
  const name = `smb3d-${label}-${process.pid}-${counter++}`;
  const run = async (args: string[]) => {
    const r = await runProcess('ip', args, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  };
  await run(['netns', 'add', name]);
  try {
    await run(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await runProcess('ip', ['netns', 'delete', name], { timeoutMs: 15_000 });
    throw err;
  }
  return {
    name,
    prefix: ['ip', 'netns', 'exec', name],
    async destroy() {
      await runProcess('ip', ['netns', 'delete', name], { timeoutMs: 15_000 });
    },
  };
}
