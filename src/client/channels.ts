import type { ChannelSecurity, Connection, RequestOptions, Response } from './connection.js';

/** One channel of a session: a connection, its signer, and what it carries now. */
export interface SessionChannel {
  connection: Connection;
  security: ChannelSecurity;
  /** Link speed in bits/s as the server advertised it; 0 when unknown (counted as 1 Gbit/s). */
  speed: number;
  /** Bytes of READ/WRITE payload sent on it and not yet answered. */
  inflightBytes: number;
  /** Bytes of payload it has carried, for whoever wants to see the spread. */
  bytes: number;
}

const UNKNOWN_SPEED = 1e9;

/**
 * The channels of one session and the choice of channel per request: the one that would finish
 * its queue soonest, counting the bytes in flight on each against its link speed. That spreads
 * reads and writes by link speed without a fixed schedule, and a slow or stalled link gets less.
 * Credits stay per connection (each Connection keeps its own window).
 */
export class ChannelSet {
  readonly list: SessionChannel[] = [];

  constructor(first: Omit<SessionChannel, 'inflightBytes' | 'bytes'>) {
    this.add(first);
  }

  add(c: Omit<SessionChannel, 'inflightBytes' | 'bytes'>): SessionChannel {
    const ch: SessionChannel = { ...c, inflightBytes: 0, bytes: 0 };
    this.list.push(ch);
    return ch;
  }

  get alive(): SessionChannel[] {
    return this.list.filter((c) => !c.connection.closed);
  }

  /** The share or the server asked for sealing: every channel seals from now on. */
  setEncrypt(): void {
    for (const c of this.list) c.security.encrypt = true;
  }

  pick(size: number): SessionChannel | undefined {
    let best: SessionChannel | undefined;
    let bestCost = Infinity;
    for (const c of this.list) {
      if (c.connection.closed) continue;
      const cost = (c.inflightBytes + size) / (c.speed || UNKNOWN_SPEED);
      if (cost < bestCost) [best, bestCost] = [c, cost];
    }
    return best;
  }

  async send(o: RequestOptions): Promise<Response> {
    const size = o.payloadSize ?? 0;
    const ch = this.pick(size) ?? this.list[0]!;
    ch.inflightBytes += size;
    try {
      return await ch.connection.request(o);
    } finally {
      ch.inflightBytes -= size;
      ch.bytes += size;
    }
  }
}
