// A multi-link lab: a server namespace and a client namespace joined by N veth pairs, one subnet
// per link (link k: 10.77.k.1 on the server side, 10.77.k.2 on the client side), so that a client
// sees several server interfaces as on a machine with several NICs. Links can be rate-limited with
// tc tbf and cut for real with an nftables drop rule. Nothing here touches the host's own
// interfaces: the veth ends are created directly inside the two namespaces.
import { runProcess } from './proc.js';
import { netnsUnavailable } from './netns.js';

export { netnsUnavailable };

export interface LabLink {
  /** 1-based link number; also the third octet of its subnet. */
  k: number;
  serverIf: string;
  clientIf: string;
  serverAddr: string;
  clientAddr: string;
}

export interface LabNs {
  name: string;
  /** argv prefix that runs a program inside the namespace. */
  prefix: string[];
}

export interface Lab {
  server: LabNs;
  client: LabNs;
  links: LabLink[];
  /**
   * Drops every packet of link k (both directions), as a pulled cable would; with 'replies',
   * only what the server sends on it: requests still arrive and run, their answers are lost.
   */
  cut(k: number, what?: 'both' | 'replies'): Promise<void>;
  restore(k: number): Promise<void>;
  /** Bytes sent by the server's and the client's end of link k so far. */
  txBytes(k: number): Promise<{ server: number; client: number }>;
  destroy(): Promise<void>;
}

export interface LabOptions {
  links: number;
  /** Rate limit of every link in Mbit/s, each direction (tc tbf); unlimited without it. */
  rateMbit?: number;
  /** Label in the namespace names, for whoever reads `ip netns list` during a run. */
  label?: string;
  /** First part of the namespace names (default `smb3d`): `<prefix>-<label>-<pid>-<n>-s|c`. */
  prefix?: string;
}

async function run(file: string, args: string[], input?: string): Promise<string> {
  const r = await runProcess(file, args, { timeoutMs: 15_000, input });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

let counter = 0;

// The table holds sets of interface names; a cut adds the link's server-side name to one (`cut`
// drops both directions, `mute` only the server's output). Sets rather than a rule per cut, so
// restore() is a plain element delete and needs no rule handles.
const NFT_TABLE = `table inet smb3dlab {
  set cut { type ifname; }
  set mute { type ifname; }
  chain in { type filter hook input priority 0; policy accept; iifname @cut drop; }
  chain out { type filter hook output priority 0; policy accept; oifname @cut drop; oifname @mute drop; }
}
`;

export async function createLab(o: LabOptions): Promise<Lab> {
  if (o.links < 1 || o.links > 250) throw new Error(`createLab: links must be 1..250, not ${o.links}`);
  const id = `${o.label ?? 'lab'}-${process.pid}-${counter++}`;
  const base = `${o.prefix ?? 'smb3d'}-${id}`;
  const server: LabNs = { name: `${base}-s`, prefix: ['ip', 'netns', 'exec', `${base}-s`] };
  const client: LabNs = { name: `${base}-c`, prefix: ['ip', 'netns', 'exec', `${base}-c`] };
  const links: LabLink[] = [];
  const destroy = async (): Promise<void> => {
    // Deleting a namespace deletes the veth ends inside it, and with them their peers.
    for (const ns of [server, client]) await runProcess('ip', ['netns', 'delete', ns.name], { timeoutMs: 15_000 });
  };
  try {
    for (const ns of [server, client]) {
      await run('ip', ['netns', 'add', ns.name]);
      await run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
    }
    for (let k = 1; k <= o.links; k++) {
      const l: LabLink = { k, serverIf: `srv${k}`, clientIf: `cli${k}`, serverAddr: `10.77.${k}.1`, clientAddr: `10.77.${k}.2` };
      await run('ip', ['link', 'add', l.serverIf, 'netns', server.name, 'type', 'veth', 'peer', 'name', l.clientIf, 'netns', client.name]);
      for (const [ns, dev, addr] of [
        [server.name, l.serverIf, l.serverAddr],
        [client.name, l.clientIf, l.clientAddr],
      ] as const) {
        await run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
        await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
        if (o.rateMbit) {
          await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${o.rateMbit}mbit`, 'burst', '512kb', 'latency', '50ms']);
        }
      }
      links.push(l);
    }
    await run('ip', ['netns', 'exec', server.name, 'nft', '-f', '-'], NFT_TABLE);
  } catch (err) {
    await destroy();
    throw err;
  }
  const link = (k: number): LabLink => {
    const l = links[k - 1];
    if (!l) throw new Error(`lab has no link ${k}`);
    return l;
  };
  const nft = (args: string[]) => run('ip', ['netns', 'exec', server.name, 'nft', ...args]);
  /** The set each cut link is in, so restore() deletes from that one. */
  const cutIn = new Map<number, string>();
  const setElement = (op: 'add' | 'delete', set: string, k: number) => nft([op, 'element', 'inet', 'smb3dlab', set, `{ ${link(k).serverIf} }`]).then(() => undefined);
  const tx = async (ns: string, dev: string): Promise<number> => {
    const out = await run('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]);
    const rec = JSON.parse(out) as Array<{ stats64?: { tx?: { bytes?: number } } }>;
    return rec[0]?.stats64?.tx?.bytes ?? 0;
  };
  return {
    server,
    client,
    links,
    async cut(k, what = 'both') {
      const set = what === 'both' ? 'cut' : 'mute';
      if (cutIn.has(k)) throw new Error(`link ${k} is cut already`);
      await setElement('add', set, k);
      cutIn.set(k, set);
    },
    async restore(k) {
      const set = cutIn.get(k);
      if (!set) throw new Error(`link ${k} is not cut`);
      await setElement('delete', set, k);
      cutIn.delete(k);
    },
    async txBytes(k) {
      const l = link(k);
      return { server: await tx(server.name, l.serverIf), client: await tx(client.name, l.clientIf) };
    },
    destroy,
  };
}
