import { OplockLevel } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';

/** SMB2_LEASE_* caching state bits ([MS-SMB2] 2.2.13.2.8). Oplocks map onto them: batch RWH, exclusive RW, level II R. */
export const LeaseState = { NONE: 0, READ: 1, HANDLE: 2, WRITE: 4 } as const;
const R = LeaseState.READ;
const H = LeaseState.HANDLE;
const W = LeaseState.WRITE;

/** SMB2_LEASE_FLAG_* of the lease create context and SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED. */
export const LeaseFlags = { BREAK_IN_PROGRESS: 0x2, PARENT_LEASE_KEY_SET: 0x4 } as const;
export const LEASE_BREAK_ACK_REQUIRED = 0x1;

export function oplockToLease(level: number): number {
  if (level === OplockLevel.BATCH) return R | W | H;
  if (level === OplockLevel.EXCLUSIVE) return R | W;
  if (level === OplockLevel.II) return R;
  return 0;
}

export function leaseToOplock(state: number): number {
  if (state === (R | W | H)) return OplockLevel.BATCH;
  if (state === (R | W)) return OplockLevel.EXCLUSIVE;
  if (state & R) return OplockLevel.II;
  return OplockLevel.NONE;
}

/** A lease request or response context ([MS-SMB2] 2.2.13.2.8 v1, 32 bytes; 2.2.13.2.10 v2, 52 bytes). */
export interface LeaseRequest {
  key: Buffer;
  state: number;
  flags: number;
  version: 1 | 2;
  parentKey?: Buffer;
  epoch: number;
}

export function parseLeaseContext(data: Buffer): LeaseRequest {
  if (data.length !== 32 && data.length !== 52) fail(Status.INVALID_PARAMETER, 'bad lease context size');
  const key = Buffer.from(data.subarray(0, 16));
  const state = data.readUInt32LE(16);
  const flags = data.readUInt32LE(20);
  if (data.length === 32) return { key, state, flags, version: 1, epoch: 0 };
  const parentKey = flags & LeaseFlags.PARENT_LEASE_KEY_SET ? Buffer.from(data.subarray(32, 48)) : undefined;
  return { key, state, flags, version: 2, parentKey, epoch: data.readUInt16LE(48) };
}

export function encodeLeaseContext(lease: Lease): Buffer {
  const flags = (lease.breaking ? LeaseFlags.BREAK_IN_PROGRESS : 0) | (lease.version === 2 && lease.parentKey ? LeaseFlags.PARENT_LEASE_KEY_SET : 0);
  const out = Buffer.alloc(lease.version === 1 ? 32 : 52);
  lease.key.copy(out, 0);
  out.writeUInt32LE(lease.state, 16);
  out.writeUInt32LE(flags, 20);
  if (lease.version === 2) {
    lease.parentKey?.copy(out, 32);
    out.writeUInt16LE(lease.epoch & 0xffff, 48);
  }
  return out;
}

/** What a break asks the wire to say: a lease break notification ([MS-SMB2] 2.2.23.2). */
export interface LeaseBreakNotice {
  from: number;
  to: number;
  ackRequired: boolean;
  epoch: number;
}

/**
 * A lease ([MS-SMB2] 3.3.1.13): caching state shared by all opens of one client with the same key on one file.
 * Breaks follow [MS-SMB2] 3.3.4.7 and Samba's observable behaviour: while a break is outstanding the
 * state stays what the client holds, and further breaks only narrow what it must end up with.
 */
export class Lease<O = unknown> {
  state = 0;
  epoch: number;
  breaking = false;
  breakingToRequested = 0;
  breakingToRequired = 0;
  timer?: NodeJS.Timeout;
  private waiters: (() => void)[] = [];
  readonly opens = new Set<O>();

  constructor(
    readonly clientGuid: string,
    readonly key: Buffer,
    readonly fileKey: string,
    readonly version: 1 | 2,
    readonly parentKey: Buffer | undefined,
    epoch: number,
  ) {
    this.epoch = epoch;
  }

  get id(): string {
    return leaseId(this.clientGuid, this.key);
  }

  /**
   * Asks the lease down to `breakTo`. Returns the notification to send, or undefined when none is due
   * (already there, already breaking, or nothing held).
   */
  requestBreak(breakTo: number): LeaseBreakNotice | undefined {
    breakTo &= this.state;
    if (this.breaking) {
      this.breakingToRequired &= breakTo;
      return undefined;
    }
    if (this.state === breakTo || this.state === 0) return undefined;
    const from = this.state;
    this.epoch = (this.epoch + 1) & 0xffff;
    if (from === R) {
      // Read-only caching is dropped without an acknowledgement.
      this.state = 0;
      return { from, to: 0, ackRequired: false, epoch: this.epoch };
    }
    this.breaking = true;
    this.breakingToRequired = breakTo;
    this.breakingToRequested = breakTo;
    return { from, to: breakTo, ackRequired: true, epoch: this.epoch };
  }

  /**
   * The client acknowledged with `ackState` ([MS-SMB2] 3.3.5.22.2). Returns the follow-up break when a
   * later request wants the lease lower than what was acknowledged.
   */
  acknowledge(ackState: number): LeaseBreakNotice | undefined {
    if (!this.breaking) fail(Status.UNSUCCESSFUL, 'lease not breaking');
    if ((ackState & this.breakingToRequested) !== ackState) fail(Status.REQUEST_NOT_ACCEPTED, 'ack above the break');
    this.state = ackState;
    let followUp: LeaseBreakNotice | undefined;
    if ((ackState & ~this.breakingToRequired) !== 0) {
      let to = this.breakingToRequired;
      // Windows breaks in steps: a lease holding W or H goes through R first.
      if (ackState & (W | H)) to |= R;
      if (ackState & (W | H)) {
        this.breakingToRequested = to;
        followUp = { from: ackState, to, ackRequired: true, epoch: this.epoch };
      } else {
        this.state = 0;
        this.endBreak();
        followUp = { from: ackState, to, ackRequired: false, epoch: this.epoch };
      }
    } else {
      this.endBreak();
    }
    this.wake();
    return followUp;
  }

  /** The holder did not answer in time: it loses all caching, as Samba does. */
  timeout(): void {
    if (!this.breaking) return;
    this.state = 0;
    this.endBreak();
    this.wake();
  }

  /** Upgrades an existing lease for a new open of the same key ([MS-SMB2] 3.3.5.9.8). */
  tryUpgrade(requested: number, granted: number): void {
    const existing = this.state;
    if ((existing & requested) !== existing || granted === existing || granted !== requested || this.breaking) return;
    this.state = granted;
    this.epoch = (this.epoch + 1) & 0xffff;
  }

  /** Resolves when the outstanding break ends (ack, timeout or the lease's last open going away). */
  whenSettled(): Promise<void> {
    if (!this.breaking) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The last open went: nobody will acknowledge, waiters go on. */
  dispose(): void {
    this.endBreak();
    this.wake();
  }

  private endBreak(): void {
    this.breaking = false;
    this.breakingToRequested = 0;
    this.breakingToRequired = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export function leaseId(clientGuid: string, key: Buffer): string {
  return `${clientGuid}:${key.toString('hex')}`;
}

/** Leases by (ClientGUID, LeaseKey) ([MS-SMB2] 3.3.1.4 LeaseTableList), one per server. */
export class LeaseTable<O = unknown> {
  private readonly leases = new Map<string, Lease<O>>();

  get(clientGuid: string, key: Buffer): Lease<O> | undefined {
    return this.leases.get(leaseId(clientGuid, key));
  }

  add(lease: Lease<O>): void {
    this.leases.set(lease.id, lease);
  }

  /** Drops `open` from its lease; the lease goes with its last open. */
  release(lease: Lease<O>, open: O): void {
    lease.opens.delete(open);
    if (lease.opens.size === 0) {
      lease.dispose();
      if (this.leases.get(lease.id) === lease) this.leases.delete(lease.id);
    }
  }

  get size(): number {
    return this.leases.size;
  }
}

/**
 * What a new lease request is granted, before other opens are considered ([MS-SMB2] 3.3.5.9.8;
 * Samba refuses W alone, WH, and anything without R or W).
 */
export function filterLeaseRequest(state: number): number {
  let granted = state & (R | W | H);
  if ((granted & (R | W)) === 0) granted = 0;
  if (granted === W || granted === (W | H)) granted = 0;
  return granted;
}
