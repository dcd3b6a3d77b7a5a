// Replay detection for LOCK ([MS-SMB2] 3.3.5.14, requirement R4): a client that lost a channel
// resends its LOCK on another one, and the lock must not be applied (or fail) twice.
import { Capabilities } from '../protocol/constants.js';
import type { Request } from '../server/request.js';
import type { Open } from '../server/state/open.js';

/** One of the 64 LockSequenceArray entries an open keeps. */
export interface LockSequenceSlot {
  index: number;
  value: number;
}

/**
 * The entry a LOCK request names, when the server checks it: for durable opens and on every
 * connection that negotiated multichannel, as [MS-SMB2] says (Windows only checks resilient and
 * persistent handles, note <314>; `smb2 disable lock sequence checking = yes` behaves like it).
 */
export function lockSequenceSlot(req: Request, open: Open, lockSequence: number): LockSequenceSlot | undefined {
  if (req.conn.dialect < 0x0210) return undefined;
  const checked = (req.conn.serverCapabilities & Capabilities.MULTI_CHANNEL) !== 0 || open.durable;
  if (!checked || checkingDisabled(req)) return undefined;
  const index = lockSequence >>> 4;
  if (index < 1 || index > 64) return undefined;
  return { index, value: lockSequence & 0xf };
}

/** True when this LOCK was already applied: answer success without applying it again. */
export function isReplayedLock(open: Open, slot: LockSequenceSlot | undefined): boolean {
  if (!slot) return false;
  if (open.lockSequences.get(slot.index) === slot.value) return true;
  // Not a replay: the entry is invalid until this request succeeds.
  open.lockSequences.delete(slot.index);
  return false;
}

export function recordLockSequence(open: Open, slot: LockSequenceSlot | undefined): void {
  if (slot) open.lockSequences.set(slot.index, slot.value);
}

function checkingDisabled(req: Request): boolean {
  return req.server.globalFlag('smb2 disable lock sequence checking');
}
