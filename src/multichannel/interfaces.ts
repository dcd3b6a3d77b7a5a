import os from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import type { InterfaceSpec } from '../server/options.js';

/** One entry of FSCTL_QUERY_NETWORK_INTERFACE_INFO ([MS-SMB2] 2.2.32.5). */
export interface AdvertisedInterface {
  ifIndex: number;
  /** bits per second */
  speed: bigint;
  rss: boolean;
  rdma: boolean;
  family: 4 | 6;
  address: string;
  /** IPv6 scope id */
  scopeId?: number;
}

/** What /sys/class/net says of a Linux interface; undefined pieces where it says nothing. */
export interface LinkFacts {
  ifIndex?: number;
  speedMbps?: number;
  rxQueues?: number;
}

function readInt(path: string): number | undefined {
  try {
    const v = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Linux facts of an interface. Elsewhere (or for virtual links without a speed) they stay unknown. */
export function linuxLinkFacts(name: string): LinkFacts {
  const base = `/sys/class/net/${name}`;
  let rxQueues: number | undefined;
  try {
    rxQueues = readdirSync(`${base}/queues`).filter((q) => q.startsWith('rx-')).length;
  } catch {
    rxQueues = undefined;
  }
  const speed = readInt(`${base}/speed`);
  return { ifIndex: readInt(`${base}/ifindex`), speedMbps: speed !== undefined && speed > 0 ? speed : undefined, rxQueues };
}

/** Without a known speed, advertise 1 Gbit/s (Samba's fallback), so clients still weigh links evenly. */
export const DEFAULT_LINK_SPEED = 1_000_000_000n;

export interface InterfaceSources {
  networkInterfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  linkFacts: (name: string) => LinkFacts;
}

const defaultSources: InterfaceSources = { networkInterfaces: os.networkInterfaces, linkFacts: linuxLinkFacts };

/**
 * The addresses a client may open channels to: every non-loopback address of the machine that the
 * server listens on (loopback where `interfaces` names it, or where it is all the server listens on) (all of them when it listens on the wildcard), with interface index, speed and
 * RSS capability detected on Linux, or as the `interfaces` option states them (Samba's syntax).
 */
export function advertisedInterfaces(
  listen: string[] | undefined,
  specs: InterfaceSpec[] | undefined,
  sources: InterfaceSources = defaultSources,
): AdvertisedInterface[] {
  const wildcard = !listen?.length || listen.some((a) => a === '0.0.0.0' || a === '::');
  const nics = sources.networkInterfaces();
  const out: AdvertisedInterface[] = [];
  const loopback: AdvertisedInterface[] = [];
  for (const [name, addrs] of Object.entries(nics)) {
    if (!addrs) continue;
    const facts = sources.linkFacts(name);
    for (const a of addrs) {
      if (!wildcard && !listen!.includes(a.address)) continue;
      const spec = specs?.find((s) => s.name === name || s.name === a.address);
      if (specs?.length && !spec) continue;
      // Clients on other machines cannot reach loopback; a lab (network namespace, smbtorture on
      // the same host) can, and says so by naming it in `interfaces`. A server told to listen on
      // loopback alone is reached there, and an empty answer would not even parse (below).
      if (a.internal && !spec) {
        if (!wildcard) loopback.push(describe(a, facts, undefined));
        continue;
      }
      out.push(describe(a, facts, spec));
    }
  }
  return out.length > 0 ? out : loopback;
}

function describe(a: os.NetworkInterfaceInfo, facts: LinkFacts, spec: InterfaceSpec | undefined): AdvertisedInterface {
  return {
    ifIndex: spec?.ifIndex ?? facts.ifIndex ?? 0,
    speed: BigInt(spec?.speed ?? (facts.speedMbps !== undefined ? facts.speedMbps * 1_000_000 : Number(DEFAULT_LINK_SPEED))),
    rss: spec?.capabilities ? spec.capabilities.includes('RSS') : (facts.rxQueues ?? 0) > 1,
    rdma: spec?.capabilities?.includes('RDMA') ?? false,
    family: a.family === 'IPv6' ? 6 : 4,
    address: a.address,
    scopeId: a.family === 'IPv6' ? a.scopeid : undefined,
  };
}

const ENTRY_SIZE = 152;

/** NETWORK_INTERFACE_INFO records, chained by Next ([MS-SMB2] 2.2.32.5, SOCKADDR_STORAGE 2.2.32.5.1). */
export function encodeInterfaceInfo(list: AdvertisedInterface[]): Buffer {
  const buf = Buffer.alloc(ENTRY_SIZE * list.length);
  list.forEach((it, i) => {
    const at = i * ENTRY_SIZE;
    buf.writeUInt32LE(i < list.length - 1 ? ENTRY_SIZE : 0, at);
    buf.writeUInt32LE(it.ifIndex >>> 0, at + 4);
    buf.writeUInt32LE((it.rss ? 1 : 0) | (it.rdma ? 2 : 0), at + 8);
    buf.writeBigUInt64LE(it.speed, at + 16);
    const sa = at + 24;
    if (it.family === 4) {
      buf.writeUInt16LE(0x0002, sa);
      it.address.split('.').forEach((o, k) => (buf[sa + 4 + k] = Number(o)));
    } else {
      buf.writeUInt16LE(0x0017, sa);
      ipv6Bytes(it.address).copy(buf, sa + 8);
      buf.writeUInt32LE((it.scopeId ?? 0) >>> 0, sa + 24);
    }
  });
  return buf;
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.split('%')[0]!.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, k) => out.writeUInt16BE(Number.parseInt(g || '0', 16), k * 2));
  return out;
}
