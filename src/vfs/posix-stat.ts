/**
 * POSIX stat -> FileStat, and the mapping between DOS attributes and permission bits.
 */
import type { StatFields } from '../native/statx.js';
import { FileAttribute, type FileStat } from './types.js';

/** 100 ns intervals between 1601-01-01 (FILETIME epoch) and 1970-01-01 (Unix epoch). */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

export function nsToFiletime(ns: bigint): bigint {
  return FILETIME_UNIX_EPOCH + ns / 100n;
}

/** FILETIME -> seconds since the Unix epoch with a fractional part, as fs.utimes takes it. */
export function filetimeToUnixSeconds(ft: bigint): number {
  const units = ft - FILETIME_UNIX_EPOCH;
  const whole = units / 10_000_000n;
  const frac = units % 10_000_000n;
  return Number(whole) + Number(frac) / 1e7;
}

/*
 * Fallback where the share's file system keeps no user xattrs (see posix-meta.ts for the normal
 * case): Samba's "map archive / map system / map hidden" convention on regular files:
 *   owner execute = ARCHIVE, group execute = SYSTEM, other execute = HIDDEN,
 * and READONLY = no owner write permission. Directories carry only DIRECTORY.
 */
const MODE_ARCHIVE = 0o100;
const MODE_SYSTEM = 0o010;
const MODE_HIDDEN = 0o001;
const MODE_OWNER_WRITE = 0o200;
const MODE_ALL_WRITE = 0o222;

export function attributesFromMode(mode: number, isDirectory: boolean): number {
  if (isDirectory) return FileAttribute.DIRECTORY;
  let attrs = 0;
  if ((mode & MODE_OWNER_WRITE) === 0) attrs |= FileAttribute.READONLY;
  if (mode & MODE_ARCHIVE) attrs |= FileAttribute.ARCHIVE;
  if (mode & MODE_SYSTEM) attrs |= FileAttribute.SYSTEM;
  if (mode & MODE_HIDDEN) attrs |= FileAttribute.HIDDEN;
  return attrs === 0 ? FileAttribute.NORMAL : attrs;
}

/** Permission bits (low 12) for a regular file given its current bits and the wanted DOS attributes. */
export function modeForAttributes(currentMode: number, attributes: number): number {
  let mode = currentMode & 0o7777 & ~(MODE_ARCHIVE | MODE_SYSTEM | MODE_HIDDEN);
  if (attributes & FileAttribute.READONLY) mode &= ~MODE_ALL_WRITE;
  else mode |= MODE_OWNER_WRITE;
  if (attributes & FileAttribute.ARCHIVE) mode |= MODE_ARCHIVE;
  if (attributes & FileAttribute.SYSTEM) mode |= MODE_SYSTEM;
  if (attributes & FileAttribute.HIDDEN) mode |= MODE_HIDDEN;
  return mode;
}

export function fileStatFromStats(st: StatFields): FileStat {
  const isDirectory = st.isDirectory();
  const mtime = nsToFiletime(st.mtimeNs);
  const ctime = nsToFiletime(st.ctimeNs);
  // statx reports a birth time on most Linux file systems; where it does not, the oldest
  // time we know is the best stand-in.
  const birth = st.birthtimeNs > 0n ? nsToFiletime(st.birthtimeNs) : mtime < ctime ? mtime : ctime;
  return {
    isDirectory,
    size: isDirectory ? 0n : st.size,
    allocationSize: isDirectory ? 0n : st.blocks * 512n,
    creationTime: birth,
    lastAccessTime: nsToFiletime(st.atimeNs),
    lastWriteTime: mtime,
    changeTime: ctime,
    attributes: attributesFromMode(Number(st.mode), isDirectory),
    fileId: st.ino,
    nlink: Number(st.nlink),
  };
}
