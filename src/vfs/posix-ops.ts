/**
 * The metadata system calls of the POSIX backend, in two flavours behind one promise-returning face:
 *
 * - syncMetadataOps: the calls run on the main thread (`*Sync`), as Samba's smbd does. One costs
 *   about 4-7 us on a local disk, while the fs.promises version pays ~120 us to hop through the
 *   libuv thread pool and back; a CREATE makes half a dozen of them, so this is what makes small-file
 *   work and directory-heavy clients fast. The price: while a call blocks, the whole server waits.
 *   On a local file system that is microseconds; on a slow or hung network file system (NFS, SMB,
 *   FUSE) under the share, one stat can stall every client for seconds.
 * - asyncMetadataOps: the same calls through the thread pool; each costs more, but a slow file
 *   system only delays the requests that touch it. Meant for shares on such file systems.
 *
 * Errors are Node's system errors (with `.code`) in both; the methods are `async`, so a synchronous
 * throw becomes a rejection and callers handle both flavours the same way.
 */
import * as fs from 'node:fs';
import type { BigIntStats, BigIntStatsFs } from 'node:fs';

export interface MetaOps {
  /** True when the calls block the main thread (callers may then yield during long loops). */
  readonly sync: boolean;
  realpath(p: string): Promise<string>;
  stat(p: string): Promise<BigIntStats>;
  lstat(p: string): Promise<BigIntStats>;
  /** lstat, but undefined for ENOENT: a lookup miss is common and building an error is not free. */
  lstatIfExists(p: string): Promise<BigIntStats | undefined>;
  fstat(fd: number): Promise<BigIntStats>;
  readdir(p: string): Promise<string[]>;
  open(p: string, flags: number, mode?: number): Promise<number>;
  close(fd: number): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  fchmod(fd: number, mode: number): Promise<void>;
  mkdir(p: string, mode: number): Promise<void>;
  rmdir(p: string): Promise<void>;
  unlink(p: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  utimes(p: string, atimeSec: number, mtimeSec: number): Promise<void>;
  statfs(p: string): Promise<BigIntStatsFs>;
}

const BIG = { bigint: true } as const;

export const syncMetadataOps: MetaOps = {
  sync: true,
  async realpath(p) {
    // .native: one realpath(3) call, where the JS version lstats every component.
    return fs.realpathSync.native(p);
  },
  async stat(p) {
    return fs.statSync(p, BIG);
  },
  async lstat(p) {
    return fs.lstatSync(p, BIG);
  },
  async lstatIfExists(p) {
    return fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
  },
  async fstat(fd) {
    return fs.fstatSync(fd, BIG);
  },
  async readdir(p) {
    return fs.readdirSync(p);
  },
  async open(p, flags, mode) {
    return fs.openSync(p, flags, mode);
  },
  async close(fd) {
    fs.closeSync(fd);
  },
  async chmod(p, mode) {
    fs.chmodSync(p, mode);
  },
  async fchmod(fd, mode) {
    fs.fchmodSync(fd, mode);
  },
  async mkdir(p, mode) {
    fs.mkdirSync(p, mode);
  },
  async rmdir(p) {
    fs.rmdirSync(p);
  },
  async unlink(p) {
    fs.unlinkSync(p);
  },
  async rename(from, to) {
    fs.renameSync(from, to);
  },
  async utimes(p, atime, mtime) {
    fs.utimesSync(p, atime, mtime);
  },
  async statfs(p) {
    return fs.statfsSync(p, BIG);
  },
};

/** A callback-style fs call as a promise (fs.promises has no descriptor-number functions). */
function viaCallback<T>(start: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)));
  });
}

export const asyncMetadataOps: MetaOps = {
  sync: false,
  realpath: (p) => fs.promises.realpath(p),
  stat: (p) => fs.promises.stat(p, BIG),
  lstat: (p) => fs.promises.lstat(p, BIG),
  async lstatIfExists(p) {
    try {
      return await fs.promises.lstat(p, BIG);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  fstat: (fd) => viaCallback<BigIntStats>((cb) => fs.fstat(fd, BIG, cb)),
  readdir: (p) => fs.promises.readdir(p),
  open: (p, flags, mode) => viaCallback<number>((cb) => fs.open(p, flags, mode, cb)),
  close: (fd) => viaCallback<void>((cb) => fs.close(fd, (err) => cb(err, undefined))),
  chmod: (p, mode) => fs.promises.chmod(p, mode),
  fchmod: (fd, mode) => viaCallback<void>((cb) => fs.fchmod(fd, mode, (err) => cb(err, undefined))),
  mkdir: async (p, mode) => {
    await fs.promises.mkdir(p, mode);
  },
  rmdir: (p) => fs.promises.rmdir(p),
  unlink: (p) => fs.promises.unlink(p),
  rename: (from, to) => fs.promises.rename(from, to),
  utimes: (p, atime, mtime) => fs.promises.utimes(p, atime, mtime),
  statfs: (p) => fs.promises.statfs(p, BIG),
};
