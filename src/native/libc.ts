/**
 * The few libc calls Node does not expose (extended attributes, nanosecond utimensat, fallocate,
 * lseek SEEK_DATA/SEEK_HOLE), reached through koffi. Later also the home of getsockopt(TCP_INFO)
 * and ioctl(SIOCOUTQ).
 *
 * Loading never throws: where koffi or libc.so.6 cannot be loaded (not Linux/glibc, no prebuilt
 * koffi binary), `available` is false and every wrapper throws an ENOTSUP error, so callers take
 * their portable fallback. Calls are synchronous: each is one short system call on a local file,
 * cheaper than a trip through the thread pool.
 */
import { loadNative, type NativeFn, type Koffi } from './load.js';
import { getSystemErrorName } from 'node:util';

export interface LibcError extends Error {
  code: string;
  /** Negative errno, as Node's own system errors carry it. */
  errno: number;
  syscall: string;
  path?: string;
}

/** Linux values; used only when the library is loaded, which we only attempt on Linux. */
const ENOTSUP = 95;
const ENODATA = 61;

/** setxattr flags. */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
/** utimensat: the `dirfd` meaning "relative to the working directory", and the no-follow flag. */
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
/** timespec.tv_nsec value telling utimensat to leave that time alone. */
const UTIME_OMIT = (1 << 30) - 2;

interface Bindings {
  koffi: Koffi;
  getxattr: NativeFn;
  lgetxattr: NativeFn;
  fgetxattr: NativeFn;
  setxattr: NativeFn;
  lsetxattr: NativeFn;
  fsetxattr: NativeFn;
  removexattr: NativeFn;
  lremovexattr: NativeFn;
  fremovexattr: NativeFn;
  listxattr: NativeFn;
  llistxattr: NativeFn;
  flistxattr: NativeFn;
  utimensat: NativeFn;
  futimens: NativeFn;
  fallocate: NativeFn;
  lseek: NativeFn;
}

function load(): Bindings | null {
  return loadNative('libc.so.6', (lib, koffi) => {
    // koffi has no ssize_t; intptr_t has the same size and signedness on Linux.
    return {
      koffi,
      getxattr: lib.func('intptr_t getxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
      lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
      fgetxattr: lib.func('intptr_t fgetxattr(int fd, const char *name, _Out_ void *value, size_t size)'),
      setxattr: lib.func('int setxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
      lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
      fsetxattr: lib.func('int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)'),
      removexattr: lib.func('int removexattr(const char *path, const char *name)'),
      lremovexattr: lib.func('int lremovexattr(const char *path, const char *name)'),
      fremovexattr: lib.func('int fremovexattr(int fd, const char *name)'),
      listxattr: lib.func('intptr_t listxattr(const char *path, _Out_ void *list, size_t size)'),
      llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
      flistxattr: lib.func('intptr_t flistxattr(int fd, _Out_ void *list, size_t size)'),
      // times[2] is passed as a 32-byte buffer of two {int64 tv_sec; int64 tv_nsec} (64-bit Linux).
      utimensat: lib.func('int utimensat(int dirfd, const char *path, const void *times, int flags)'),
      futimens: lib.func('int futimens(int fd, const void *times)'),
      fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
      // off_t is 64 bits on 64-bit Linux (the only place this loads on the platforms we build for).
      lseek: lib.func('int64_t lseek(int fd, int64_t offset, int whence)'),
    };
  });
}

const native = load();

/** True when the native calls below really reach libc. */
export const available: boolean = native !== null;

function errnoName(errno: number): string {
  if (errno === ENOTSUP) return 'ENOTSUP'; // EOPNOTSUPP has the same number; one name suffices.
  try {
    const name = getSystemErrorName(-errno);
    if (name.startsWith('E')) return name;
  } catch {
    // fall through
  }
  return `E${errno}`;
}

export function libcError(errno: number, syscall: string, path?: string): LibcError {
  const code = errnoName(errno);
  const where = path === undefined ? '' : ` '${path}'`;
  const err = new Error(`${code}: ${syscall}${where} failed (errno ${errno})`) as LibcError;
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

function bindings(syscall: string, path?: string): Bindings {
  if (native === null) throw libcError(ENOTSUP, syscall, path);
  return native;
}

/** Throws for a -1 return; returns the result otherwise. */
function check(b: Bindings, ret: unknown, syscall: string, path?: string): number {
  const n = Number(ret);
  if (n < 0) throw libcError(b.koffi.errno(), syscall, path);
  return n;
}

/** What an xattr read can name: a path (symlinks followed or not) or an open descriptor. */
export type XattrTarget = { path: string; follow?: boolean } | { fd: number };

function describe(t: XattrTarget): string | undefined {
  return 'path' in t ? t.path : undefined;
}

/**
 * Reads attribute `name` into `buf`; returns the value's length, or -1 when the attribute does not
 * exist (ENODATA, the common case, is not worth an exception). Throws ERANGE when buf is too small.
 */
export function getXattr(target: XattrTarget, name: string, buf: Buffer): number {
  const b = bindings('getxattr', describe(target));
  let ret: unknown;
  let syscall: string;
  if ('fd' in target) {
    syscall = 'fgetxattr';
    ret = b.fgetxattr(target.fd, name, buf, buf.length);
  } else if (target.follow === false) {
    syscall = 'lgetxattr';
    ret = b.lgetxattr(target.path, name, buf, buf.length);
  } else {
    syscall = 'getxattr';
    ret = b.getxattr(target.path, name, buf, buf.length);
  }
  const n = Number(ret);
  if (n >= 0) return n;
  const errno = b.koffi.errno();
  if (errno === ENODATA) return -1;
  throw libcError(errno, syscall, describe(target));
}

export function setXattr(target: XattrTarget, name: string, value: Buffer, flags = 0): void {
  const b = bindings('setxattr', describe(target));
  if ('fd' in target) check(b, b.fsetxattr(target.fd, name, value, value.length, flags), 'fsetxattr');
  else if (target.follow === false) check(b, b.lsetxattr(target.path, name, value, value.length, flags), 'lsetxattr', target.path);
  else check(b, b.setxattr(target.path, name, value, value.length, flags), 'setxattr', target.path);
}

/** Removes attribute `name`; a missing attribute is not an error. */
export function removeXattr(target: XattrTarget, name: string): void {
  const b = bindings('removexattr', describe(target));
  let ret: number;
  if ('fd' in target) ret = Number(b.fremovexattr(target.fd, name));
  else ret = Number(target.follow === false ? b.lremovexattr(target.path, name) : b.removexattr(target.path, name));
  if (ret === 0) return;
  const errno = b.koffi.errno();
  if (errno !== ENODATA) throw libcError(errno, 'removexattr', describe(target));
}

const ERANGE = 34;
/** The names list of a file with a few dozen attributes fits; larger lists get a buffer of their own. */
let listBuf = Buffer.alloc(4096);

/** Names of all extended attributes of a file (every namespace the caller may see). */
export function listXattrs(target: XattrTarget): string[] {
  const b = bindings('listxattr', describe(target));
  for (;;) {
    let ret: unknown;
    if ('fd' in target) ret = b.flistxattr(target.fd, listBuf, listBuf.length);
    else if (target.follow === false) ret = b.llistxattr(target.path, listBuf, listBuf.length);
    else ret = b.listxattr(target.path, listBuf, listBuf.length);
    const n = Number(ret);
    if (n >= 0) {
      const names: string[] = [];
      let start = 0;
      for (let i = 0; i < n; i++) {
        if (listBuf[i] !== 0) continue;
        if (i > start) names.push(listBuf.toString('utf8', start, i));
        start = i + 1;
      }
      return names;
    }
    const errno = b.koffi.errno();
    // The list grew between calls, or never fit: ask for its size and try again.
    if (errno !== ERANGE) throw libcError(errno, 'listxattr', describe(target));
    let size: number;
    if ('fd' in target) size = Number(b.flistxattr(target.fd, null, 0));
    else if (target.follow === false) size = Number(b.llistxattr(target.path, null, 0));
    else size = Number(b.listxattr(target.path, null, 0));
    if (size < 0) throw libcError(b.koffi.errno(), 'listxattr', describe(target));
    listBuf = Buffer.alloc(Math.max(size, listBuf.length * 2));
  }
}

/** A time for setFileTimes: nanoseconds since the Unix epoch (may be negative), or undefined to keep. */
export interface FileTimesNs {
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

const NS_PER_S = 1_000_000_000n;

function encodeTimes(t: FileTimesNs): Buffer {
  const buf = Buffer.alloc(32);
  const put = (off: number, ns: bigint | undefined) => {
    if (ns === undefined) {
      buf.writeBigInt64LE(0n, off);
      buf.writeBigInt64LE(BigInt(UTIME_OMIT), off + 8);
      return;
    }
    // Floor division, so that pre-1970 times keep 0 <= tv_nsec < 1e9 as the kernel requires.
    let sec = ns / NS_PER_S;
    let nsec = ns % NS_PER_S;
    if (nsec < 0n) {
      sec -= 1n;
      nsec += NS_PER_S;
    }
    buf.writeBigInt64LE(sec, off);
    buf.writeBigInt64LE(nsec, off + 8);
  };
  put(0, t.atimeNs);
  put(16, t.mtimeNs);
  return buf;
}

/**
 * Sets access and/or modification time with full nanosecond precision (fs.utimes goes through a
 * double and loses the low digits). `follow: false` acts on a symlink itself.
 */
export function setFileTimes(target: { path: string; follow?: boolean } | { fd: number }, times: FileTimesNs): void {
  const b = bindings('utimensat', describe(target));
  const buf = encodeTimes(times);
  if ('fd' in target) check(b, b.futimens(target.fd, buf), 'futimens');
  else {
    const flags = target.follow === false ? AT_SYMLINK_NOFOLLOW : 0;
    check(b, b.utimensat(AT_FDCWD, target.path, buf, flags), 'utimensat', target.path);
  }
}

/** True for the error codes meaning "this file system keeps no (user) extended attributes". */
export function isUnsupported(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS';
}

/** fallocate mode: reserve blocks without moving the end of file (Windows' allocation size). */
export const FALLOC_FL_KEEP_SIZE = 1;

export function fallocate(fd: number, mode: number, offset: bigint, length: bigint): void {
  const b = bindings('fallocate');
  check(b, b.fallocate(fd, mode, offset, length), 'fallocate');
}

/** fallocate modes (linux/falloc.h): deallocate a range (with KEEP_SIZE), or zero it keeping its blocks. */
export const FALLOC_FL_PUNCH_HOLE = 2;
export const FALLOC_FL_ZERO_RANGE = 0x10;

const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const ENXIO = 6;

function seek(fd: number, offset: bigint, whence: number, syscall: string): bigint {
  const b = bindings(syscall);
  const ret = BigInt(b.lseek(fd, offset, whence) as number | bigint);
  if (ret >= 0n) return ret;
  const errno = b.koffi.errno();
  if (errno === ENXIO) return -1n;
  throw libcError(errno, syscall);
}

/**
 * lseek(SEEK_DATA): the first offset at or after `offset` that holds data, or -1 when there is
 * none before the end of file (ENXIO). A file system without hole tracking reports all of the file
 * as data, as the kernel's generic implementation does.
 */
export function seekData(fd: number, offset: bigint): bigint {
  return seek(fd, offset, SEEK_DATA, 'lseek(SEEK_DATA)');
}

/** lseek(SEEK_HOLE): the first hole at or after `offset` (the end of file counts as one), or -1 past it. */
export function seekHole(fd: number, offset: bigint): bigint {
  return seek(fd, offset, SEEK_HOLE, 'lseek(SEEK_HOLE)');
}
