/**
 * Windows metadata Linux does not keep, stored in one extended attribute per file or directory.
 *
 * `user.smb3d` holds a small versioned little-endian record:
 *   0  u8   version (1)
 *   1  u8   flags: 1 = creationTime valid, 2 = changeTime override valid, 4 = EA size valid
 *   2  u16  reserved (0)
 *   4  u32  DOS attributes (STORED_ATTRIBUTES bits only)
 *   8  u64  creation time, FILETIME
 *   16 u64  change time override, FILETIME
 *   24 i64  the file's mtime when the override was set: seconds since the Unix epoch
 *   32 u32  ... and nanoseconds (a single i64 of ns would end in 2262; ext4 goes to 2446)
 *   36 u32  EaSize of the file's EAs (ea-size.ts), kept by every EA change made through
 *            XattrExtraStore, so that a listing need not list the file's xattrs; a record without
 *            flag 4 (written before it existed) makes the reader list them
 * Readers accept longer records of version 1 (fields may be appended) and ignore other versions.
 *
 * Rules, since Linux owns some of these facts:
 * - Write and access times are the real mtime/atime (set with utimensat); they are not stored.
 * - Creation time: the stored one; else the birth time (statx) when the file system has one; else
 *   the older of mtime and ctime. Files and directories made through the backend store theirs at
 *   creation, so it stays put even where no birth time exists.
 * - Change time: Linux's ctime cannot be set, so a client-set change time is stored with the mtime
 *   of that moment and reported only while mtime is unchanged. Once the file's data changes (mtime
 *   moves), the real ctime, which is newer, takes over again, as Windows would bump it.
 * - READONLY of a regular file lives in the mode (owner write bit), so Linux users see it and
 *   chmod changes it; for directories it is stored only, since their write bit gates creating
 *   entries, not the directory's own attributes.
 * - Without a record: a regular file is NORMAL (plus READONLY from the mode), a directory is
 *   DIRECTORY; executable bits mean nothing here (they do in the no-xattr fallback, posix-stat.ts).
 */
import type { StatFields } from '../native/statx.js';
import { available as libcAvailable, getXattr, isUnsupported, removeXattr, setXattr, type XattrTarget } from '../native/libc.js';
import { fileStatFromStats, nsToFiletime } from './posix-stat.js';
import { FileAttribute, type FileStat } from './types.js';

export const META_XATTR = 'user.smb3d';
const VERSION = 1;
const RECORD_SIZE = 40;
const NS_PER_S = 1_000_000_000n;
const HAS_CREATION = 1;
const HAS_CHANGE = 2;
const HAS_EA_SIZE = 4;

/** The DOS attributes a client may set and we keep; the rest describe storage we do not have. */
export const STORED_ATTRIBUTES =
  FileAttribute.READONLY |
  FileAttribute.HIDDEN |
  FileAttribute.SYSTEM |
  FileAttribute.ARCHIVE |
  FileAttribute.TEMPORARY |
  FileAttribute.SPARSE_FILE |
  FileAttribute.OFFLINE |
  FileAttribute.NOT_CONTENT_INDEXED;
/**
 * What a client's attributes (SET_INFO, CREATE) may change: SPARSE_FILE is stored but set only by
 * FSCTL_SET_SPARSE.
 */
export const CLIENT_SET_ATTRIBUTES = STORED_ATTRIBUTES & ~FileAttribute.SPARSE_FILE;
/** TEMPORARY is meaningless (and refused by Windows) on a directory, and a directory is never sparse. */
const DIRECTORY_ATTRIBUTES = STORED_ATTRIBUTES & ~(FileAttribute.TEMPORARY | FileAttribute.SPARSE_FILE);

export interface MetaRecord {
  attributes: number;
  creationTime?: bigint;
  changeTime?: bigint;
  /** mtime (ns) at the moment changeTime was set; the override holds while mtime equals it. */
  changeMtimeNs?: bigint;
  /** EaSize of the file's EAs, when the record keeps it. */
  eaSize?: number;
}

export function encodeMeta(rec: MetaRecord): Buffer {
  const buf = Buffer.alloc(RECORD_SIZE);
  let flags = 0;
  buf.writeUInt8(VERSION, 0);
  buf.writeUInt32LE((rec.attributes & STORED_ATTRIBUTES) >>> 0, 4);
  if (rec.creationTime !== undefined) {
    flags |= HAS_CREATION;
    buf.writeBigUInt64LE(BigInt.asUintN(64, rec.creationTime), 8);
  }
  if (rec.changeTime !== undefined && rec.changeMtimeNs !== undefined) {
    flags |= HAS_CHANGE;
    buf.writeBigUInt64LE(BigInt.asUintN(64, rec.changeTime), 16);
    const [sec, nsec] = splitNs(rec.changeMtimeNs);
    buf.writeBigInt64LE(BigInt.asIntN(64, sec), 24);
    buf.writeUInt32LE(Number(nsec), 32);
  }
  if (rec.eaSize !== undefined) {
    flags |= HAS_EA_SIZE;
    buf.writeUInt32LE(rec.eaSize >>> 0, 36);
  }
  buf.writeUInt8(flags, 1);
  return buf;
}

/** Seconds (floored) and 0 <= nanoseconds < 1e9. */
function splitNs(ns: bigint): [bigint, bigint] {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_S;
  }
  return [sec, nsec];
}

/** The record in `buf`, or null when it is too short or of a version we do not know. */
export function decodeMeta(buf: Buffer): MetaRecord | null {
  if (buf.length < RECORD_SIZE || buf.readUInt8(0) !== VERSION) return null;
  const flags = buf.readUInt8(1);
  const rec: MetaRecord = { attributes: buf.readUInt32LE(4) & STORED_ATTRIBUTES };
  if (flags & HAS_CREATION) rec.creationTime = buf.readBigUInt64LE(8);
  if (flags & HAS_CHANGE) {
    rec.changeTime = buf.readBigUInt64LE(16);
    rec.changeMtimeNs = buf.readBigInt64LE(24) * NS_PER_S + BigInt(buf.readUInt32LE(32));
  }
  if (flags & HAS_EA_SIZE) rec.eaSize = buf.readUInt32LE(36);
  return rec;
}

/** Room for a longer future record; reused by every read (calls are synchronous). */
const readBuf = Buffer.alloc(256);

/**
 * The record of a file, or null when it has none, or it cannot be read (a file system inside the
 * share without xattrs, a record from a newer version, a permission problem): the caller falls back
 * to what stat alone tells.
 */
export function readMeta(target: XattrTarget): MetaRecord | null {
  let n: number;
  try {
    n = getXattr(target, META_XATTR, readBuf);
  } catch {
    return null;
  }
  return n < 0 ? null : decodeMeta(readBuf.subarray(0, n));
}

/** Throws the libc error (with `.code`) on failure. */
export function writeMeta(target: XattrTarget, rec: MetaRecord): void {
  setXattr(target, META_XATTR, encodeMeta(rec));
}

function isWritableByOwner(st: StatFields): boolean {
  return (Number(st.mode) & 0o200) !== 0;
}

/** The creation time to report when none is stored. */
export function defaultCreationTime(st: StatFields): bigint {
  if (st.birthtimeNs > 0n) return nsToFiletime(st.birthtimeNs);
  return nsToFiletime(st.mtimeNs < st.ctimeNs ? st.mtimeNs : st.ctimeNs);
}

/**
 * The record a file without one implicitly has; written out when a client first sets something, so
 * the creation time it showed stays the same afterwards.
 */
export function implicitMeta(st: StatFields): MetaRecord {
  const readOnly = !st.isDirectory() && !isWritableByOwner(st);
  return { attributes: readOnly ? FileAttribute.READONLY : 0, creationTime: defaultCreationTime(st) };
}

/** DOS attributes from the stored ones and the mode, by the rules at the top of this file. */
export function attributesFromMeta(st: StatFields, rec: MetaRecord | null): number {
  let attrs = rec ? rec.attributes : 0;
  if (st.isDirectory()) {
    attrs = (attrs & DIRECTORY_ATTRIBUTES) | FileAttribute.DIRECTORY;
  } else {
    attrs &= STORED_ATTRIBUTES & ~FileAttribute.READONLY;
    if (!isWritableByOwner(st)) attrs |= FileAttribute.READONLY;
  }
  return attrs === 0 ? FileAttribute.NORMAL : attrs;
}

export function fileStatWithMeta(st: StatFields, rec: MetaRecord | null): FileStat {
  const isDirectory = st.isDirectory();
  const changeOverride =
    rec?.changeTime !== undefined && rec.changeMtimeNs !== undefined && rec.changeMtimeNs === st.mtimeNs;
  const out: FileStat = {
    isDirectory,
    size: isDirectory ? 0n : st.size,
    allocationSize: isDirectory ? 0n : st.blocks * 512n,
    creationTime: rec?.creationTime ?? defaultCreationTime(st),
    lastAccessTime: nsToFiletime(st.atimeNs),
    lastWriteTime: nsToFiletime(st.mtimeNs),
    changeTime: changeOverride ? rec!.changeTime! : nsToFiletime(st.ctimeNs),
    attributes: attributesFromMeta(st, rec),
    fileId: st.ino,
    nlink: Number(st.nlink),
  };
  if (rec?.eaSize !== undefined) out.eaSize = rec.eaSize;
  return out;
}

/** How the backend and its handles turn a stat (plus the file's xattr, when in use) into a FileStat. */
export type StatMapper = (st: StatFields, target: XattrTarget) => FileStat;

export function statMapper(xattrs: boolean): StatMapper {
  if (!xattrs) return (st) => fileStatFromStats(st);
  return (st, target) => fileStatWithMeta(st, readMeta(target));
}

const PROBE_XATTR = 'user.smb3d.probe';

/**
 * Whether the file system under `rootReal` keeps user xattrs. Writes and removes a probe attribute;
 * where writing is refused for another reason (read-only mount, root not ours), a read that answers
 * "no such attribute" still shows support.
 */
export function probeXattrs(rootReal: string): boolean {
  if (!libcAvailable) return false;
  try {
    setXattr({ path: rootReal }, PROBE_XATTR, Buffer.from([1]));
    removeXattr({ path: rootReal }, PROBE_XATTR);
    return true;
  } catch (err) {
    if (isUnsupported(err)) return false;
  }
  try {
    getXattr({ path: rootReal }, META_XATTR, readBuf);
    return true;
  } catch {
    return false;
  }
}
