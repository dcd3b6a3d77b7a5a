import { LockFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail, NtStatusError } from '../protocol/status.js';
import type { Reply, Request } from '../server/request.js';
import type { RangeLock } from '../locking/byte-range.js';
import { breakLevelIIOthers } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import { isReplayedLock, lockSequenceSlot, recordLockSequence } from './lock-sequence.js';

const b = SMB2_HEADER_SIZE;
const VALID_FLAGS = new Set([0x1, 0x2, 0x4, 0x11, 0x12]);
const MAX_U64 = 0xffffffffffffffffn;

interface LockElement {
  offset: bigint;
  length: bigint;
  flags: number;
}

/** LOCK ([MS-SMB2] 2.2.26, 3.3.5.14): byte-range locks, blocking ones wait asynchronously. */
export async function lock(req: Request): Promise<Reply> {
  const r = req.r;
  const count = r.u16(b + 2);
  const sequence = r.u32(b + 4);
  const open = req.open(b + 8);
  if (count === 0) fail(Status.INVALID_PARAMETER, 'no lock elements');
  if (!open.file || open.isDirectory) fail(Status.INVALID_PARAMETER, 'locks need a file');
  const elements: LockElement[] = [];
  for (let i = 0; i < count; i++) {
    const at = b + 24 + 24 * i;
    elements.push({ offset: r.u64(at), length: r.u64(at + 8), flags: r.u32(at + 16) });
  }
  const unlocking = (elements[0]!.flags & LockFlags.UNLOCK) !== 0;
  const slot = lockSequenceSlot(req, open, sequence);
  if (isReplayedLock(open, slot)) return { body: okBody() };

  const locks = open.file.locks;
  // Taking a byte-range lock ends read caching elsewhere, as a write does (smb2.oplock.brl1/brl3, smb2.lease.lock1).
  if (!unlocking) breakLevelIIOthers(open.file, open, sendOplockBreak);
  if (unlocking) {
    // Elements are applied in order, as Windows does: an error stops the rest, earlier unlocks stay done.
    for (const e of elements) {
      if (e.flags !== LockFlags.UNLOCK) fail(Status.INVALID_PARAMETER, 'lock in an unlock request');
      if (!locks.remove(open, e.offset, e.length)) fail(Status.RANGE_NOT_LOCKED);
    }
    recordLockSequence(open, slot);
    return { body: okBody() };
  }
  const acquired: RangeLock[] = [];
  try {
    for (const e of elements) {
      if (!VALID_FLAGS.has(e.flags) || e.flags === LockFlags.UNLOCK) fail(Status.INVALID_PARAMETER, `bad lock flags 0x${e.flags.toString(16)}`);
      if (count > 1 && !(e.flags & LockFlags.FAIL_IMMEDIATELY)) fail(Status.INVALID_PARAMETER, 'several blocking locks');
      if (e.length > 0n && e.offset + e.length - 1n > MAX_U64) fail(Status.INVALID_LOCK_RANGE);
      const exclusive = (e.flags & LockFlags.EXCLUSIVE) !== 0;
      while (!locks.canLock(open, e.offset, e.length, exclusive)) {
        if (e.flags & LockFlags.FAIL_IMMEDIATELY) fail(Status.LOCK_NOT_GRANTED);
        req.goAsync();
        await waitForRelease(req, locks.nextRelease());
        if (open.closed) fail(Status.RANGE_NOT_LOCKED);
      }
      const l: RangeLock = { owner: open, offset: e.offset, length: e.length, exclusive };
      locks.add(l);
      acquired.push(l);
    }
  } catch (err) {
    // A request's locks are all or nothing.
    for (const l of acquired) locks.remove(open, l.offset, l.length);
    throw err;
  }
  recordLockSequence(open, slot);
  return { body: okBody() };
}

function waitForRelease(req: Request, released: Promise<void>): Promise<void> {
  if (req.signal.aborted) return Promise.reject(new NtStatusError(Status.CANCELLED));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new NtStatusError(Status.CANCELLED));
    req.signal.addEventListener('abort', onAbort, { once: true });
    void released.then(() => {
      req.signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function okBody(): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt16LE(4, 0);
  return out;
}
