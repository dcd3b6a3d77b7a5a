// The channel sequence barrier of an open ([MS-SMB2] 3.3.5.2.10, requirement R5).
//
// A multichannel client bumps its ChannelSequence when it gives up on a channel and replays
// the requests that were outstanding there. Requests still carrying the old number may arrive
// late, on the dead channel's socket buffers: modifying ones (WRITE, SET_INFO, IOCTL) must then
// fail with STATUS_FILE_NOT_AVAILABLE rather than overwrite what the replay wrote, and a replay
// must wait (fail, so the client retries) while requests of an older sequence still run.
import { Status, NtStatusError } from '../protocol/status.js';

/** What admit() recorded, for release() when the request completes. */
export interface SequenceTicket {
  epoch: number;
}

export class ChannelSequence {
  /** Open.ChannelSequence. */
  current: number;
  /** Open.OutstandingRequestCount: requests running under `current`. */
  outstanding = 0;
  /** Open.OutstandingPreRequestCount: requests still running under an older sequence. */
  outstandingPre = 0;
  /** Bumped whenever `current` moves, so release() knows which counter a request sits in. */
  private epoch = 0;
  /** Called when `current` moves (see onMove). */
  private readonly movers = new Set<() => void>();

  constructor(initial = 0) {
    this.current = initial & 0xffff;
  }

  /**
   * Accounts a request for this open. Returns the ticket to release when it completes, or
   * undefined when it is not counted (a stale non-modifying request passes uncounted); throws
   * FILE_NOT_AVAILABLE for a modifying request that must not run.
   */
  admit(channelSequence: number, replay: boolean, modifies: boolean): SequenceTicket | undefined {
    const cmp = compare(channelSequence & 0xffff, this.current);
    if (cmp === 0 && (!replay || this.outstandingPre === 0)) {
      this.outstanding++;
      return { epoch: this.epoch };
    }
    if (cmp > 0 && (!replay || this.outstandingPre === 0)) {
      this.outstandingPre += this.outstanding;
      this.outstanding = 1;
      this.current = channelSequence & 0xffff;
      this.epoch++;
      for (const fn of [...this.movers]) fn();
      return { epoch: this.epoch };
    }
    if (modifies) throw new NtStatusError(Status.FILE_NOT_AVAILABLE, `channel sequence ${channelSequence} is stale (open at ${this.current})`);
    return undefined;
  }

  /** Whether the sequence moved on since the request holding `ticket` was admitted. */
  isStale(ticket: SequenceTicket): boolean {
    return ticket.epoch !== this.epoch;
  }

  /** Calls `fn` each time the sequence moves on; returns what stops that. */
  onMove(fn: () => void): () => void {
    this.movers.add(fn);
    return () => this.movers.delete(fn);
  }

  release(ticket: SequenceTicket): void {
    if (ticket.epoch === this.epoch) this.outstanding = Math.max(0, this.outstanding - 1);
    else this.outstandingPre = Math.max(0, this.outstandingPre - 1);
  }
}

/**
 * Signed distance from the open's sequence to the request's. [MS-SMB2] only accepts a newer
 * sequence within 0x7FFF; like Samba, a distance beyond that is taken as 16-bit wrap-around in
 * the other direction (0x0000 after 0xFFFF is newer, not 65535 older).
 */
function compare(request: number, open: number): number {
  let cmp = request - open;
  if (Math.abs(cmp) > 0x7fff) cmp = -cmp;
  return cmp;
}
