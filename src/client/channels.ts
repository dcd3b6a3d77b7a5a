import { Command, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { SmbError } from './errors.js';
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
  /** Set once the channel has been given up on (its link died or its socket closed). */
  lostAt?: number;
}

export interface ChannelLoss {
  channel: SessionChannel;
  /** Why: the socket's error, or the stall that made us give up. */
  reason: Error;
  /** The ChannelSequence that requests carry from now on. */
  sequence: number;
}

export interface ChannelSetOptions {
  /**
   * Give up on a channel when its requests have waited this long with no byte arriving (only
   * while another channel is left to take them over). Default 1000 ms: above a few TCP RTOs on
   * a LAN (the RTO floor is ~200 ms), and inside the 2 s a failover may stall IO.
   */
  stallTimeoutMs?: number;
  /**
   * The last channel left is given up after this long with no byte arriving for its requests
   * (default 60 000 ms, Windows' session timeout), so a dead last link fails its requests with
   * STATUS_CONNECTION_DISCONNECTED instead of leaving them waiting forever.
   */
  lastChannelTimeoutMs?: number;
  /** For a request replayed while the server still runs the lost channel's: how long to retry. */
  replayRetryMs?: number;
  onLoss?: (loss: ChannelLoss) => void;
}

const UNKNOWN_SPEED = 1e9;

/**
 * Requests that can be sent again on another channel when the one they went out on is lost,
 * whether or not the server ran them ([MS-SMB2] 3.2.5.1.x lets a client replay; the server's
 * channel sequence barrier keeps a late original WRITE from landing after its replay). CREATE,
 * SET_INFO and IOCTL are not by command: run twice, a plain CREATE could open (or create) twice,
 * a rename or a copy would not mean the same thing. Their requests say when they are
 * (RequestOptions.replayable): a CREATE carrying a durable v2 CreateGuid, which the server
 * recognizes on replay ([MS-SMB2] 3.3.5.9.10), a SET_INFO of a class that sets a value, a
 * read-only FSCTL.
 */
const REPLAYABLE = new Set<number>([Command.READ, Command.WRITE, Command.QUERY_INFO, Command.FLUSH, Command.CLOSE, Command.ECHO, Command.TREE_DISCONNECT, Command.LOGOFF]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The channels of one session and the choice of channel per request: the one that would finish
 * its queue soonest, counting the bytes in flight on each against its link speed. That spreads
 * reads and writes by link speed without a fixed schedule, and a slow or stalled link gets less.
 * Credits stay per connection (each Connection keeps its own window).
 *
 * Failover: a channel whose socket fails, or whose requests stall (see stallTimeoutMs), is given
 * up; the ChannelSequence is bumped and its outstanding requests are resent on the channels left,
 * flagged SMB2_FLAGS_REPLAY_OPERATION.
 */
export class ChannelSet {
  readonly list: SessionChannel[] = [];
  /** The session's ChannelSequence, stamped on every request. */
  sequence = 0;
  readonly losses: ChannelLoss[] = [];
  /** Requests sent again with SMB2_FLAGS_REPLAY_OPERATION (after a loss or STATUS_FILE_NOT_AVAILABLE). */
  replays = 0;
  /** Of those, the ones resent because the server answered STATUS_FILE_NOT_AVAILABLE (the sequence barrier). */
  notAvailable = 0;
  private watchdog?: NodeJS.Timeout;
  private readonly stallTimeoutMs: number;
  private readonly lastChannelTimeoutMs: number;
  private readonly replayRetryMs: number;

  constructor(
    first: Omit<SessionChannel, 'inflightBytes' | 'bytes'>,
    private readonly o: ChannelSetOptions = {},
  ) {
    this.stallTimeoutMs = o.stallTimeoutMs ?? 1000;
    this.lastChannelTimeoutMs = Math.max(this.stallTimeoutMs, o.lastChannelTimeoutMs ?? 60_000);
    this.replayRetryMs = o.replayRetryMs ?? 10_000;
    this.add(first);
  }

  add(c: Omit<SessionChannel, 'inflightBytes' | 'bytes'>): SessionChannel {
    const ch: SessionChannel = { ...c, inflightBytes: 0, bytes: 0 };
    this.list.push(ch);
    if (this.list.length > 1 && !this.watchdog) {
      this.watchdog = setInterval(() => this.checkStalls(), Math.max(20, Math.min(100, this.stallTimeoutMs / 5)));
      this.watchdog.unref();
    }
    return ch;
  }

  get alive(): SessionChannel[] {
    return this.list.filter((c) => !c.connection.closed);
  }

  /** The share or the server asked for sealing: every channel seals from now on. */
  setEncrypt(): void {
    for (const c of this.list) c.security.encrypt = true;
  }

  /** Stops the stall watchdog (the session is over). */
  stop(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
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

  private checkStalls(): void {
    const now = Date.now();
    for (const c of this.list) {
      if (c.connection.closed) continue;
      const limit = this.alive.length < 2 ? this.lastChannelTimeoutMs : this.stallTimeoutMs;
      const ms = c.connection.stalledMs(now);
      if (ms >= limit) {
        c.connection.abort(new SmbError(Status.CONNECTION_DISCONNECTED, undefined, `channel to ${c.connection.remoteAddress} stalled for ${ms} ms`));
      } else if (c.connection.asyncQuietMs(now) >= this.stallTimeoutMs) {
        // Only requests the server answered STATUS_PENDING wait (smbd does so for a READ or
        // WRITE not done in 0.5 ms), and nothing arrives: if the link died they would wait forever.
        c.connection.probe();
      }
    }
  }

  /** Records a lost channel once and bumps the sequence, so the server can fence its late requests. */
  private lost(ch: SessionChannel, reason: Error): void {
    if (ch.lostAt !== undefined) return;
    ch.lostAt = Date.now();
    if (!ch.connection.closed) ch.connection.abort(reason);
    this.sequence = (this.sequence + 1) & 0xffff;
    const loss = { channel: ch, reason, sequence: this.sequence };
    this.losses.push(loss);
    this.o.onLoss?.(loss);
  }

  async send(o: RequestOptions): Promise<Response> {
    const size = o.payloadSize ?? 0;
    let replay = false;
    const started = Date.now();
    const canReplay = o.replayable ?? REPLAYABLE.has(o.command);
    for (;;) {
      const ch = this.pick(size);
      if (!ch) throw new SmbError(Status.CONNECTION_DISCONNECTED, o.command, 'no channel left');
      const sequence = this.sequence;
      ch.inflightBytes += size;
      try {
        if (replay) this.replays++;
        const r = await ch.connection.request({ ...o, channelSequence: sequence, replay: replay || !!o.replay });
        ch.bytes += size;
        return r;
      } catch (e) {
        const err = e as Error;
        if (ch.connection.closed) {
          // The channel died under this request: it may or may not have run on the server.
          this.lost(ch, err);
          if (canReplay && this.alive.length > 0) {
            replay = true;
            continue;
          }
          throw err;
        }
        const status = (err as SmbError).status;
        if (status === Status.FILE_NOT_AVAILABLE && this.losses.length > 0 && canReplay && Date.now() - started < this.replayRetryMs) {
          // Sent under an older sequence than the open has now seen, or replayed while the lost
          // channel's requests still run on the server: wait a little and send it again.
          replay = true;
          this.notAvailable++;
          await sleep(20);
          continue;
        }
        if (replay && o.command === Command.CLOSE && status === Status.FILE_CLOSED) return closedResponse(o);
        throw err;
      } finally {
        ch.inflightBytes -= size;
      }
    }
  }
}

/** A replayed CLOSE whose original did run: the handle is closed, which is what was asked. */
function closedResponse(o: RequestOptions): Response {
  const msg = Buffer.alloc(SMB2_HEADER_SIZE + 60);
  msg.writeUInt16LE(60, SMB2_HEADER_SIZE);
  return { status: Status.SUCCESS, flags: 0, sessionId: o.sessionId ?? 0n, treeId: o.treeId ?? 0, msg, release: () => undefined };
}
