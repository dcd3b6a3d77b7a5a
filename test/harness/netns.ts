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

export interface NetnsOptions {
  /**
   * Loopback routes with `quickack 1`: TCP in the namespace acknowledges every segment at once
   * instead of delaying the ACK by up to 200 ms. smbtorture's iptables mode blocks a channel right
   * after reading a response; with a delayed ACK still pending, the server's copy of that response
   * stays unacknowledged, its retransmissions back off, and with the congestion window at one
   * segment the break the test waits for is never sent on the blocked channel
   * (smb2.multichannel.leases.test2 then fails on any server, as a packet capture showed).
   */
  quickAck?: boolean;
}

export async function createNetns(label: string, opts: NetnsOptions = {}): Promise<Netns> {
  const name = `smb3d-${label}-${process.pid}-${counter++}`;
  const run = async (args: string[]) => {
    const r = await runProcess('ip', args, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  };
  await run(['netns', 'add', name]);
  try {
    await run(['-n', name, 'link', 'set', 'lo', 'up']);
    if (opts.quickAck) {
      // The /8 route and the more specific one for 127.0.0.1 itself, which loopback lookups hit.
      for (const dst of ['127.0.0.0/8', '127.0.0.1']) {
        await run(['-n', name, 'route', 'replace', 'local', dst, 'dev', 'lo', 'table', 'local', 'proto', 'kernel', 'scope', 'host', 'src', '127.0.0.1', 'quickack', '1']);
      }
    }
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
