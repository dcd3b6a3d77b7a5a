import { Reader } from '../protocol/reader.js';

/** One NETWORK_INTERFACE_INFO record as a client reads it ([MS-SMB2] 2.2.32.5). */
export interface ServerInterface {
  ifIndex: number;
  rss: boolean;
  rdma: boolean;
  /** bits per second */
  speed: number;
  family: 4 | 6;
  address: string;
  scopeId?: number;
}

const AF_INET = 0x0002;
const AF_INET6 = 0x0017;

/** Decodes the chain of records FSCTL_QUERY_NETWORK_INTERFACE_INFO returns; unknown families are skipped. */
export function decodeInterfaceInfo(buf: Buffer): ServerInterface[] {
  const out: ServerInterface[] = [];
  if (buf.length === 0) return out;
  const r = new Reader(buf);
  for (let off = 0; ; ) {
    const next = r.u32(off);
    const cap = r.u32(off + 8);
    const sa = off + 24;
    const family = r.u16(sa);
    const base = { ifIndex: r.u32(off + 4), rss: (cap & 1) !== 0, rdma: (cap & 2) !== 0, speed: Number(r.u64(off + 16)) };
    if (family === AF_INET) {
      out.push({ ...base, family: 4, address: [...r.bytes(sa + 4, 4)].join('.') });
    } else if (family === AF_INET6) {
      const a = r.bytes(sa + 8, 16);
      const groups = Array.from({ length: 8 }, (_, k) => a.readUInt16BE(2 * k).toString(16));
      out.push({ ...base, family: 6, address: compressIpv6(groups), scopeId: r.u32(sa + 24) });
    }
    if (next === 0) return out;
    if (next < 152) throw new RangeError(`interface record chained by ${next} bytes, less than one record`);
    off += next;
  }
}

/** Shortest text form of an IPv6 address (RFC 5952: the longest run of zero groups becomes ::). */
function compressIpv6(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Channels Windows opens to one RSS-capable interface (ConnectionCountPerRssNetworkInterface); others get one. */
export const CHANNELS_PER_RSS_INTERFACE = 4;

/**
 * Which advertised addresses to open `extra` more channels to, best first, as Windows orders them:
 * RSS (and RDMA) capable interfaces before others, then by link speed. Every address gets one
 * channel before any gets a second; an RSS-capable one takes up to four in all (its receive
 * queues spread them over CPUs), another only one. `alreadyUsed` counts channels already bound,
 * by address.
 */
export function chooseChannelTargets(list: ServerInterface[], extra: number, alreadyUsed: string[]): ServerInterface[] {
  const ranked: ServerInterface[] = [];
  for (const it of [...list].sort((a, b) => Number(b.rss) - Number(a.rss) || b.speed - a.speed || a.family - b.family)) {
    if (!ranked.some((r) => normalise(r.address) === normalise(it.address))) ranked.push(it);
  }
  const count = new Map<string, number>();
  for (const a of alreadyUsed) count.set(normalise(a), (count.get(normalise(a)) ?? 0) + 1);
  const out: ServerInterface[] = [];
  for (let round = 0; round < CHANNELS_PER_RSS_INTERFACE && out.length < extra; round++) {
    for (const it of ranked) {
      if (out.length >= extra) break;
      const key = normalise(it.address);
      const have = count.get(key) ?? 0;
      if (have > round || have >= (it.rss ? CHANNELS_PER_RSS_INTERFACE : 1)) continue;
      count.set(key, have + 1);
      out.push(it);
    }
  }
  return out;
}

// A socket's remoteAddress shows an IPv4 peer as ::ffff:a.b.c.d on a dual-stack socket.
const normalise = (a: string): string => a.replace(/^::ffff:/i, '').toLowerCase();
