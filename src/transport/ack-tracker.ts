import { readTcpInfo, tcpInfoAvailable } from '../native/tcp-info.js';

export type AckOutcome = 'acked' | 'timeout' | 'closed';

/** Samba's bounds for the retransmission timeout a break waits on (R6): at least 0.2 s, at most 1 s. */
export const MIN_RTO_MS = 200;
export const MAX_RTO_MS = 1000;
/** A channel whose peer has not acknowledged a break after this many RTOs is given up. */
export const RTO_MULTIPLE = 6;
/** How often a waiting break looks at the kernel's counter (one getsockopt, ~5 us). */
const POLL_MS = 20;

interface Waiter {
  target: number;
  deadline: number;
  resolve: (o: AckOutcome) => void;
}

/**
 * Tells when the peer's TCP has acknowledged the bytes of a message, from the kernel's
 * tcpi_bytes_acked against the application bytes this side wrote (R6). A peer that is gone
 * (dropped link, blocked port) acknowledges nothing; after 6×RTO without progress the caller gives
 * up the channel. Progress counts: a slow link still working through megabytes of queued reads
 * acknowledges something every RTO, so each ack moves the deadline, and only a channel that
 * acknowledges nothing at all for 6×RTO is called dead.
 * `forceUnacked` is smbtorture's FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: it pretends nothing is
 * ever acknowledged, so a test can simulate a dead channel without touching the network.
 */
export class AckTracker {
  forceUnacked = false;
  private readonly base: bigint;
  private readonly waiters = new Set<Waiter>();
  private lastAcked = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly fd: () => number) {
    this.base = readTcpInfo(fd())?.bytesAcked ?? 0n;
  }

  /** Whether the kernel can tell; without it every message counts as acknowledged once written. */
  static get available(): boolean {
    return tcpInfoAvailable;
  }

  /** The current RTO, clamped to 0.2–1 s (1 s when the kernel cannot tell, as Samba assumes). */
  rtoMs(): number {
    const info = readTcpInfo(this.fd());
    const ms = info ? info.rtoUs / 1000 : MAX_RTO_MS;
    return Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, ms));
  }

  /** Bytes the peer acknowledged since this tracker began, or undefined when unknown. */
  ackedBytes(): number | undefined {
    const info = readTcpInfo(this.fd());
    return info ? Number(info.bytesAcked - this.base) : undefined;
  }

  /** Resolves once the first `target` bytes written are acknowledged, or 'timeout' after 6×RTO. */
  waitFor(target: number): Promise<AckOutcome> {
    if (!AckTracker.available) return Promise.resolve('acked');
    const deadline = Date.now() + RTO_MULTIPLE * this.rtoMs();
    return new Promise((resolve) => {
      this.waiters.add({ target, deadline, resolve });
      this.check();
    });
  }

  /** The connection is gone: nothing more will be acknowledged. */
  close(): void {
    for (const w of this.waiters) w.resolve('closed');
    this.waiters.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    this.timer = undefined;
    const acked = this.forceUnacked ? 0 : this.ackedBytes();
    const now = Date.now();
    const progressed = acked !== undefined && this.lastAcked >= 0 && acked > this.lastAcked;
    if (acked !== undefined) this.lastAcked = acked;
    if (progressed) {
      const deadline = now + RTO_MULTIPLE * this.rtoMs();
      for (const w of this.waiters) w.deadline = Math.max(w.deadline, deadline);
    }
    for (const w of this.waiters) {
      if (acked === undefined || acked >= w.target) w.resolve('acked');
      else if (now >= w.deadline) w.resolve('timeout');
      else continue;
      this.waiters.delete(w);
    }
    if (this.waiters.size > 0) this.timer = setTimeout(() => this.check(), POLL_MS);
  }
}
