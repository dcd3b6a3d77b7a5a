/**
 * Named streams and EAs of the POSIX backend, one user xattr each, beside the metadata record
 * (posix-meta.ts): `user.smb3d.s.<stream name>` holds a stream's data, `user.smb3d.e.<EA name>` an
 * EA's value, names in UTF-8; `user.smb3d.ntacl` the NT security descriptor (kind 'ntacl', name '').
 * Being xattrs, they go with the file through rename, hard links and unlink without any bookkeeping.
 *
 * Limits come from the file system: Linux caps a value at 64 KiB and a name at 255 bytes, and ext4
 * (without the ea_inode feature) keeps all of a file's xattrs in one 4 KiB block plus the spare room
 * of the inode: on the test machine a first value of 4000 bytes fits, 4050 does not, and a file
 * holds about 3 KB of values in all. Beyond that a write answers DISK_FULL, which clients show as
 * "not enough space"; Samba's streams_xattr has the same ceiling.
 */
import { Status, fail } from '../protocol/status.js';
import { getXattr, listXattrs, removeXattr, setXattr, type XattrTarget } from '../native/libc.js';
import { errnoCode, toNtStatusError } from './errno.js';
import type { ExtraEntry, ExtraKind, ExtraStore } from './types.js';
import { eaSizeFromEntries } from './ea-size.js';
import { readMeta, writeMeta } from './posix-meta.js';

const PREFIX: Record<ExtraKind, string> = { stream: 'user.smb3d.s.', ea: 'user.smb3d.e.', ntacl: 'user.smb3d.ntacl' };
/** XATTR_NAME_MAX. */
const MAX_XATTR_NAME = 255;
const EMPTY = Buffer.alloc(0);

function xattrName(kind: ExtraKind, name: string): string {
  const full = PREFIX[kind] + name;
  if (Buffer.byteLength(full, 'utf8') > MAX_XATTR_NAME) fail(Status.OBJECT_NAME_INVALID, 'name too long for an xattr');
  return full;
}

function mapError(err: unknown): never {
  const code = errnoCode(err);
  // E2BIG: above the 64 KiB value limit; ENOSPC: the file's xattr space is used up.
  if (code === 'E2BIG' || code === 'ENOSPC') fail(Status.DISK_FULL, 'stream or EA beyond what the file system keeps in xattrs');
  if (code === 'ERANGE') fail(Status.OBJECT_NAME_INVALID, 'xattr name too long');
  throw toNtStatusError(err);
}

export class XattrExtraStore implements ExtraStore {
  constructor(private readonly target: XattrTarget) {}

  list(kind: ExtraKind): ExtraEntry[] {
    const prefix = PREFIX[kind];
    const out: ExtraEntry[] = [];
    let names: string[];
    try {
      names = listXattrs(this.target);
    } catch (err) {
      mapError(err);
    }
    for (const full of names) {
      if (!full.startsWith(prefix)) continue;
      let size: number;
      try {
        size = getXattr(this.target, full, EMPTY);
      } catch (err) {
        mapError(err);
      }
      if (size >= 0) out.push({ name: full.slice(prefix.length), size });
    }
    return out;
  }

  get(kind: ExtraKind, name: string): Buffer | null {
    const full = xattrName(kind, name);
    // Size first, then the value; a value that grew in between is read again.
    for (;;) {
      try {
        const size = getXattr(this.target, full, EMPTY);
        if (size < 0) return null;
        const buf = Buffer.alloc(size);
        const n = size === 0 ? 0 : getXattr(this.target, full, buf);
        if (n < 0) return null;
        return buf.subarray(0, n);
      } catch (err) {
        if (errnoCode(err) === 'ERANGE') continue;
        mapError(err);
      }
    }
  }

  set(kind: ExtraKind, name: string, value: Buffer): void {
    try {
      setXattr(this.target, xattrName(kind, name), value);
    } catch (err) {
      mapError(err);
    }
    if (kind === 'ea') this.noteEaSize();
  }

  remove(kind: ExtraKind, name: string): void {
    try {
      removeXattr(this.target, xattrName(kind, name));
    } catch (err) {
      mapError(err);
    }
    if (kind === 'ea') this.noteEaSize();
  }

  /**
   * Keeps the EA size in the file's metadata record (posix-meta.ts), so that listings read one
   * xattr instead of listing them all. A file without a record gets none here: its listings
   * list its xattrs, as for any file smb3d did not make.
   */
  private noteEaSize(): void {
    const rec = readMeta(this.target);
    if (!rec) return;
    try {
      writeMeta(this.target, { ...rec, eaSize: eaSizeFromEntries(this.list('ea')) });
    } catch (err) {
      mapError(err);
    }
  }
}
