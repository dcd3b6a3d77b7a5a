/**
 * lstat for directory listings, through statx(2) by koffi into one reused buffer. A listing stats
 * every entry it sends; node:fs builds a BigIntStats per call, with its Dates and a dozen BigInts,
 * which on big directories costs about as much as the system call (measured: lstat was 7.7% and
 * Node's stat objects a further share of a listing's profile). This reads only the fields a
 * FileStat needs.
 *
 * Loading never throws: where koffi or libc's statx is missing, `statxAvailable` is false and
 * callers keep node:fs.
 */
import type { BigIntStats } from 'node:fs';
import { loadNative, type NativeFn } from './load.js';

/** The fields of a stat that FileStat mapping reads; node:fs's BigIntStats has them all. */
export type StatFields = Pick<BigIntStats, 'mode' | 'nlink' | 'ino' | 'size' | 'blocks' | 'atimeNs' | 'mtimeNs' | 'ctimeNs' | 'birthtimeNs' | 'isDirectory' | 'isSymbolicLink'>;

/** <linux/stat.h> and <fcntl.h> values. */
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const STATX_BTIME = 0x800;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** struct statx is 256 bytes; the offsets below are its fixed layout. */
const STATX_SIZE = 256;

const statx = loadNative('libc.so.6', (lib) => lib.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ void *buf)') as NativeFn);

export const statxAvailable: boolean = statx !== null;

const buf = Buffer.alloc(STATX_SIZE);
const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

/** Nanoseconds of the struct statx_timestamp at `at`: { s64 tv_sec; u32 tv_nsec; }. */
function timeNs(at: number): bigint {
  return view.getBigInt64(at, true) * 1_000_000_000n + BigInt(view.getUint32(at + 8, true));
}

/** lstat of `path`, or null when it cannot be statted (gone, no access, ...). */
export function lstatFields(path: string): StatFields | null {
  if (statx === null) throw new Error('statx is not available');
  if ((statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, buf) as number) !== 0) return null;
  const mask = view.getUint32(0, true);
  const mode = view.getUint16(28, true);
  const type = mode & S_IFMT;
  return {
    mode: BigInt(mode),
    nlink: BigInt(view.getUint32(16, true)),
    ino: view.getBigUint64(32, true),
    size: view.getBigUint64(40, true),
    blocks: view.getBigUint64(48, true),
    atimeNs: timeNs(64),
    // Where the file system keeps no birth time, 0, as node:fs reports it.
    birthtimeNs: mask & STATX_BTIME ? timeNs(80) : 0n,
    ctimeNs: timeNs(96),
    mtimeNs: timeNs(112),
    isDirectory: () => type === S_IFDIR,
    isSymbolicLink: () => type === S_IFLNK,
  };
}
