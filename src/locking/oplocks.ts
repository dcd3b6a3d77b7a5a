import { OplockLevel } from '../protocol/constants.js';
import type { FileObject } from './share-modes.js';

/** How long a holder has to acknowledge a break before it is downgraded anyway (Windows: 35 s). */
export const OPLOCK_BREAK_TIMEOUT_MS = 35_000;

/** What oplock logic needs of an open. */
export interface OplockHolder {
  oplockLevel: number;
  closed: boolean;
  /** A break in progress: the level it goes to, and who waits for the acknowledgement. */
  breaking?: { to: number; waiters: (() => void)[]; timer: NodeJS.Timeout };
  shareAccess: number;
  grantedAccess: number;
}

/** Sends a break notification; the one place breaks leave the locking layer (multichannel retries hook in here). */
export type BreakSender<O> = (holder: O, to: number) => void;

const isExclusive = (level: number): boolean => level === OplockLevel.EXCLUSIVE || level === OplockLevel.BATCH;

/**
 * Breaks `holder` down to `to` and resolves once it acknowledged, closed, or timed out.
 * Breaks to NONE from Level II need no acknowledgement ([MS-SMB2] 3.3.4.6).
 */
export function breakOplock<O extends OplockHolder>(holder: O, to: number, send: BreakSender<O>, timeoutMs = OPLOCK_BREAK_TIMEOUT_MS): Promise<void> {
  if (holder.closed || holder.oplockLevel <= to) return Promise.resolve();
  if (holder.breaking) {
    const b = holder.breaking;
    b.to = Math.min(b.to, to);
    return new Promise((resolve) => b.waiters.push(resolve));
  }
  if (holder.oplockLevel === OplockLevel.II) {
    holder.oplockLevel = OplockLevel.NONE;
    send(holder, OplockLevel.NONE);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => finishBreak(holder, holder.breaking?.to ?? to), timeoutMs);
    timer.unref();
    holder.breaking = { to, waiters: [resolve], timer };
    send(holder, to);
  });
}

/** Ends a break: on acknowledgement, close, or timeout. */
export function finishBreak(holder: OplockHolder, level: number): void {
  const b = holder.breaking;
  holder.oplockLevel = level;
  if (!b) return;
  holder.breaking = undefined;
  clearTimeout(b.timer);
  for (const w of b.waiters) w();
}

/**
 * Decides the oplock of a new open on `file` (not yet added to it), breaking exclusive holders first.
 * `onWait` is called before waiting, so the request can go async.
 */
export async function grantOplock<O extends OplockHolder>(
  file: FileObject<O> | undefined,
  requested: number,
  overwriting: boolean,
  send: BreakSender<O>,
  onWait: () => void,
): Promise<number> {
  const others = file ? [...file.opens].filter((o) => !o.closed) : [];
  const target = overwriting ? OplockLevel.NONE : OplockLevel.II;
  const toBreak = others.filter((o) => isExclusive(o.oplockLevel) || (overwriting && o.oplockLevel === OplockLevel.II) || o.breaking);
  if (toBreak.some((o) => isExclusive(o.oplockLevel) || o.breaking)) onWait();
  await Promise.all(toBreak.map((o) => breakOplock(o, target, send)));
  if (requested === OplockLevel.LEASE || requested === OplockLevel.NONE) return OplockLevel.NONE;
  const remaining = file ? [...file.opens].filter((o) => !o.closed) : [];
  if (remaining.length === 0) return isExclusive(requested) ? requested : OplockLevel.II;
  return remaining.some((o) => isExclusive(o.oplockLevel)) ? OplockLevel.NONE : OplockLevel.II;
}

/** A write or truncate through one open breaks every other open's Level II oplock to NONE. */
export function breakLevelIIOthers<O extends OplockHolder>(file: FileObject<O> | undefined, writer: O, send: BreakSender<O>): void {
  if (!file) return;
  for (const o of file.opens) {
    if (o !== writer && o.oplockLevel === OplockLevel.II) void breakOplock(o, OplockLevel.NONE, send);
  }
}
