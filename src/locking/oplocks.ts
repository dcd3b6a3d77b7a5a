import { Access, OplockLevel } from '../protocol/constants.js';
import type { FileObject } from './share-modes.js';
import { Lease, LeaseState, filterLeaseRequest, leaseToOplock, oplockToLease, type LeaseBreakNotice } from './leases.js';

/** How long a holder has to acknowledge a break before it is downgraded anyway (Windows and Samba: 35 s). */
export const OPLOCK_BREAK_TIMEOUT_MS = 35_000;

const R = LeaseState.READ;
const H = LeaseState.HANDLE;
const W = LeaseState.WRITE;

/** What oplock and lease logic needs of an open. */
export interface OplockHolder {
  /** The SMB2 oplock level; LEASE when the open's caching is its lease's. */
  oplockLevel: number;
  lease?: Lease<OplockHolder>;
  closed: boolean;
  /** An oplock break in progress: the level it goes to, and who waits for the acknowledgement. */
  breaking?: { to: number; waiters: (() => void)[]; timer: NodeJS.Timeout };
  shareAccess: number;
  grantedAccess: number;
  /** A durable open whose client is gone: breaks cannot reach it ([MS-SMB2] 3.3.4.6). */
  disconnected?: boolean;
}

/**
 * Sends an oplock break; `lease` sends lease breaks. This is the one place breaks leave the locking layer
 * (multichannel retries hook in behind it, in server/breaks.ts).
 */
export type BreakSender<O> = ((holder: O, to: number) => void) & {
  lease?: (lease: Lease<O>, notice: LeaseBreakNotice) => void;
};

const STAT_BITS = Access.SYNCHRONIZE | Access.FILE_READ_ATTRIBUTES | Access.FILE_WRITE_ATTRIBUTES;
const READ_CONTROL = 0x00020000;

/** Opens that only look at attributes neither break oplocks nor take part in share modes. */
export function isOplockStatOpen(access: number): boolean {
  return (access & STAT_BITS) !== 0 && (access & ~STAT_BITS) === 0;
}

/** Leases also let READ_CONTROL through without a break. */
export function isLeaseStatOpen(access: number): boolean {
  const bits = STAT_BITS | READ_CONTROL;
  return (access & bits) !== 0 && (access & ~bits) === 0;
}

/** The caching an open currently holds, as lease bits. */
export function cachingOf(o: OplockHolder): number {
  if (o.lease) return o.lease.state;
  return oplockToLease(o.oplockLevel);
}

function breakPending(o: OplockHolder): boolean {
  return o.lease ? o.lease.breaking : o.breaking !== undefined;
}

/** Resolves once the open's outstanding break is over. */
export function whenBreakSettled(o: OplockHolder): Promise<void> {
  if (o.lease) return o.lease.whenSettled();
  const b = o.breaking;
  if (!b) return Promise.resolve();
  return new Promise((resolve) => b.waiters.push(resolve));
}

/**
 * Breaks one open's caching down to `breakTo` (lease bits), sending the notification when one is due
 * ([MS-SMB2] 3.3.4.6 oplocks, 3.3.4.7 leases).
 */
export function breakTo<O extends OplockHolder>(o: O, to: number, send: BreakSender<O>, timeoutMs = OPLOCK_BREAK_TIMEOUT_MS): void {
  if (o.closed) return;
  if (o.lease) {
    const lease = o.lease as unknown as Lease<O>;
    const notice = lease.requestBreak(to);
    if (!notice) return;
    if (notice.ackRequired) armLeaseTimer(lease, timeoutMs);
    send.lease?.(lease, notice);
    return;
  }
  if (o.breaking) return;
  const from = oplockToLease(o.oplockLevel);
  // Oplocks only break to Level II or none.
  const target = to & R;
  if (from === 0 || from === target || (from & ~to) === 0) return;
  const level = target ? OplockLevel.II : OplockLevel.NONE;
  if (from === R) {
    o.oplockLevel = OplockLevel.NONE;
    send(o, OplockLevel.NONE);
    return;
  }
  const timer = setTimeout(() => finishBreak(o, OplockLevel.NONE), timeoutMs);
  timer.unref();
  o.breaking = { to: level, waiters: [], timer };
  send(o, level);
}

export function armLeaseTimer(lease: Lease<unknown>, timeoutMs = OPLOCK_BREAK_TIMEOUT_MS): void {
  if (lease.timer) clearTimeout(lease.timer);
  lease.timer = setTimeout(() => lease.timeout(), timeoutMs);
  lease.timer.unref();
}

/** Ends an oplock break: on acknowledgement, close, or timeout. */
export function finishBreak(holder: OplockHolder, level: number): void {
  const b = holder.breaking;
  if (!holder.lease) holder.oplockLevel = level;
  if (!b) return;
  holder.breaking = undefined;
  clearTimeout(b.timer);
  for (const w of b.waiters) w();
}

/** The parts of a CREATE the caching decision depends on. */
export interface OpenIntent {
  access: number;
  /** Requested SMB2 oplock level (LEASE with `lease`). */
  oplock: number;
  /** The lease the new open would join or create: identity and requested state. */
  lease?: { clientGuid: string; key: Buffer; state: number };
  willOverwrite: boolean;
  sharingViolation: boolean;
  firstAttempt: boolean;
}

export interface OpenDecision {
  /** Breaks are outstanding: wait for these, then evaluate again. */
  waitFor: Promise<void>[];
  /** The caching to grant (lease bits), valid when nothing is awaited and there is no sharing violation. */
  granted: number;
}

function sameLease(o: OplockHolder, lease: OpenIntent['lease']): boolean {
  return !!(o.lease && lease && o.lease.clientGuid === lease.clientGuid && o.lease.key.equals(lease.key));
}

/**
 * Decides what a new open on `file` needs: which other opens must break first, and what it may hold
 * afterwards ([MS-SMB2] 3.3.5.9 with Samba's delay_for_oplock semantics: W is broken before a
 * normal open proceeds, H only when a sharing violation might go away).
 */
export function evaluateOpen<O extends OplockHolder>(file: FileObject<O> | undefined, intent: OpenIntent, send: BreakSender<O>, fileHasLocks: boolean): OpenDecision {
  const others = file ? [...file.opens].filter((o) => !o.closed) : [];
  const waitFor: Promise<void>[] = [];
  let gotHandleLease = false;
  let gotOplock = false;
  let haveOtherLease = false;
  const stat = isOplockStatOpen(intent.access);
  const delayMask = intent.sharingViolation ? H : W;
  for (const e of others) {
    if (e.disconnected) continue;
    if (e.lease && sameLease(e, intent.lease)) continue;
    // Stat opens hold nothing and, as in Samba, do not count as other openers.
    if (!e.lease && e.oplockLevel === OplockLevel.NONE && isOplockStatOpen(e.grantedAccess)) continue;
    const held = cachingOf(e);
    if (held & H) gotHandleLease = true;
    if (!e.lease) gotOplock = true;
    if (!sameLease(e, intent.lease)) haveOtherLease = true;
    if (stat) continue;
    if (e.lease && isLeaseStatOpen(intent.access)) continue;
    let to = held & ~delayMask;
    if (intent.willOverwrite) to &= ~(H | R);
    if ((held & ~to) === 0) {
      if (breakPending(e)) waitFor.push(whenBreakSettled(e));
      continue;
    }
    if (intent.willOverwrite) to &= ~(R | W);
    breakTo(e, to, send);
    if (held & delayMask || (breakPending(e) && !intent.firstAttempt)) {
      if (breakPending(e)) waitFor.push(whenBreakSettled(e));
    }
  }
  if (waitFor.length || intent.sharingViolation) return { waitFor, granted: 0 };

  let granted: number;
  if (intent.oplock === OplockLevel.LEASE && intent.lease) granted = filterLeaseRequest(intent.lease.state);
  else granted = oplockToLease(intent.oplock === OplockLevel.LEASE ? OplockLevel.NONE : intent.oplock);
  if (fileHasLocks) granted &= ~R;
  if (haveOtherLease) granted &= ~W;
  if (intent.oplock === OplockLevel.LEASE && intent.lease) {
    if (gotOplock) granted &= ~H;
  } else if (gotHandleLease) {
    granted = 0;
  }
  return { waitFor, granted };
}

/** The SMB2 oplock level a non-lease open gets for granted lease bits. */
export function grantedOplockLevel(granted: number): number {
  return leaseToOplock(granted);
}

/**
 * A write, truncate or byte-range lock through `writer` takes read caching away: Level II oplocks
 * (the writer's included) and R leases not shared with the writer break to none.
 */
export function breakLevelIIOthers<O extends OplockHolder>(file: FileObject<O> | undefined, writer: O, send: BreakSender<O>): void {
  if (!file) return;
  for (const o of file.opens) {
    if (o.closed || o.disconnected) continue;
    // A lease never breaks itself; a Level II oplock does, even the writer's own (Samba, smb2.oplock.batch6).
    if (o.lease && writer.lease && o.lease === writer.lease) continue;
    if (o === writer && o.lease) continue;
    // Exclusive and batch oplocks are only held alone: they never share the file with a writer.
    if (!o.lease && o.oplockLevel !== OplockLevel.II) continue;
    if (cachingOf(o) & R) breakTo(o, 0, send);
  }
}

/** Breaks the H caching of other opens (rename or delete of the file), and returns what to wait for. */
export function breakHandleCaching<O extends OplockHolder>(file: FileObject<O> | undefined, except: O | undefined, send: BreakSender<O>): Promise<void>[] {
  const waits: Promise<void>[] = [];
  if (!file) return waits;
  for (const o of file.opens) {
    if (o === except || o.closed || o.disconnected) continue;
    if (except?.lease && o.lease === except.lease) continue;
    const held = cachingOf(o);
    if (!(held & H)) continue;
    breakTo(o, held & ~H, send);
    if (breakPending(o)) waits.push(whenBreakSettled(o));
  }
  return waits;
}

/**
 * A rename through a leased open first takes H caching away from the file's other leases (not the
 * renamer's own, not oplocks), as smbd does (smb2.lease.v2_rename, rename_wait): a client caching a
 * handle would otherwise keep a stale name. Returns the breaks to wait for before renaming.
 */
export function breakHandleLeasesForRename<O extends OplockHolder>(file: FileObject<O> | undefined, renamer: O, send: BreakSender<O>): Promise<void>[] {
  if (!renamer.lease) return [];
  return breakOtherHandleLeases(file, (o) => o === renamer || o.lease === renamer.lease, send);
}

/**
 * An open asking for delete-on-close takes H caching away from the file's other leases (not its own
 * lease key's, not oplocks), so that their clients close cached handles and the delete can happen
 * (Windows; smb2.lease.unlink, which smbd fails). Returns the breaks to wait for before opening.
 */
export function breakHandleLeasesForDelete<O extends OplockHolder>(file: FileObject<O> | undefined, lease: OpenIntent['lease'], send: BreakSender<O>): Promise<void>[] {
  return breakOtherHandleLeases(file, (o) => sameLease(o, lease), send);
}

function breakOtherHandleLeases<O extends OplockHolder>(file: FileObject<O> | undefined, exempt: (o: O) => boolean, send: BreakSender<O>): Promise<void>[] {
  const waits: Promise<void>[] = [];
  if (!file) return waits;
  for (const o of file.opens) {
    if (o.closed || o.disconnected || !o.lease || exempt(o)) continue;
    const held = o.lease.state;
    if (!(held & H)) continue;
    breakTo(o, held & ~H, send);
    if (breakPending(o)) waits.push(whenBreakSettled(o));
  }
  return waits;
}
