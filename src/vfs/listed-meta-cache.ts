/**
 * The smb3d records and EA sizes of listed files, kept between listings. A listing stats every
 * entry it sends and, on a share with xattrs, reads each entry's record too: a second system call
 * per entry, about as costly as the stat. Explorer and smbclient list the same directories again
 * and again; the record is read again only where the file has changed.
 *
 * An entry holds while the file's inode and ctime are those it was read with: setting or removing
 * any xattr moves ctime, whoever does it. But ctime moves only to the kernel's current coarse
 * clock tick, so two changes within one tick can leave it where it was: an entry is kept only once
 * the ctime it was read with is older than any tick, after which a change must give a new ctime.
 */
import type { StatFields } from '../native/statx.js';
import type { MetaRecord } from './posix-meta.js';

/** How old a ctime must be before the record read with it is kept: several ticks at any HZ. */
const SETTLED_NS = 50_000_000n;

export interface ListedMeta {
  rec: MetaRecord | null;
  eaSize: number;
}

export class ListedMetaCache {
  private readonly entries = new Map<string, ListedMeta & { ino: bigint; ctimeNs: bigint }>();

  /** `limit` bounds memory: past it the cache starts over (a listing refills what it uses). */
  constructor(private readonly limit = 100_000) {}

  /** What was read for `path` when it had this inode and ctime; undefined otherwise. */
  get(path: string, st: StatFields): ListedMeta | undefined {
    const e = this.entries.get(path);
    return e && e.ino === st.ino && e.ctimeNs === st.ctimeNs ? e : undefined;
  }

  /** Keeps what was read for `path` with stat `st`, if st's ctime has settled. */
  set(path: string, st: StatFields, meta: ListedMeta): void {
    if (BigInt(Date.now()) * 1_000_000n - st.ctimeNs < SETTLED_NS) {
      this.entries.delete(path);
      return;
    }
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(path, { ...meta, ino: st.ino, ctimeNs: st.ctimeNs });
  }
}
