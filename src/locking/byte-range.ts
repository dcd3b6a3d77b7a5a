/**
 * Byte-range locks of one file ([MS-FSA] 2.1.5.7 / 2.1.4.10), independent of SMB messages.
 * A lock belongs to an owner (the open); exclusive locks conflict with every overlapping lock of
 * another owner and with overlapping locks of the same owner too; shared locks only with exclusive ones.
 */
export interface RangeLock {
  owner: object;
  offset: bigint;
  length: bigint;
  exclusive: boolean;
}

/**
 * Zero-length ranges overlap nothing but a range that holds their offset strictly inside it
 * (smbtorture smb2.lock.zerobytelength: {10,0} conflicts with {9,2} but not with {10,2}).
 */
function overlaps(a: RangeLock, offset: bigint, length: bigint): boolean {
  if (length === 0n || a.length === 0n) {
    const point = length === 0n ? offset : a.offset;
    const other = length === 0n ? a : { offset, length };
    return other.length !== 0n && point > other.offset && point < other.offset + other.length;
  }
  return offset < a.offset + a.length && a.offset < offset + length;
}

export class ByteRangeLocks {
  private readonly locks: RangeLock[] = [];
  private waiters: (() => void)[] = [];

  get count(): number {
    return this.locks.length;
  }

  /** Would this lock be granted now? */
  canLock(owner: object, offset: bigint, length: bigint, exclusive: boolean): boolean {
    for (const l of this.locks) {
      if (!overlaps(l, offset, length)) continue;
      if (exclusive || l.exclusive) {
        // Two shared locks never conflict; a shared lock inside one's own exclusive range does not either.
        if (!exclusive && l.owner === owner) continue;
        return false;
      }
    }
    return true;
  }

  add(lock: RangeLock): void {
    this.locks.push(lock);
  }

  /** Removes exactly one lock of this owner with this range; false when there is none (RANGE_NOT_LOCKED). */
  remove(owner: object, offset: bigint, length: bigint): boolean {
    const i = this.locks.findIndex((l) => l.owner === owner && l.offset === offset && l.length === length);
    if (i < 0) return false;
    this.locks.splice(i, 1);
    this.wake();
    return true;
  }

  /** Drops every lock of an owner (close, disconnect); also wakes its own blocked requests so they end. */
  removeOwner(owner: object): void {
    for (let i = this.locks.length - 1; i >= 0; i--) if (this.locks[i]!.owner === owner) this.locks.splice(i, 1);
    this.wake();
  }

  /** May `owner` read the range? Only other owners' exclusive locks stop it. */
  canRead(owner: object, offset: bigint, length: bigint): boolean {
    return !this.locks.some((l) => l.exclusive && l.owner !== owner && overlaps(l, offset, length));
  }

  /** May `owner` write the range? Other owners' locks stop it, and shared locks of its own. */
  canWrite(owner: object, offset: bigint, length: bigint): boolean {
    return !this.locks.some((l) => (l.owner !== owner || !l.exclusive) && overlaps(l, offset, length));
  }

  /** Resolves at the next unlock on this file (blocking lock requests retry then). */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
