/**
 * Backend on a local POSIX directory tree: the share root and everything below it.
 */
import { constants as fsc, promises as fsp, realpathSync, type BigIntStats } from 'node:fs';
import * as nodePath from 'node:path';
import { Status, fail } from '../protocol/status.js';
import { errnoCode, toNtStatusError } from './errno.js';
import { PosixFileHandle, PosixPathHandle } from './posix-handle.js';
import { PathResolver } from './posix-resolve.js';
import { watchDirectory } from './posix-watch.js';
import { fileStatFromStats, filetimeToUnixSeconds, modeForAttributes } from './posix-stat.js';
import {
  FileAttribute,
  type Backend,
  type DirEntry,
  type FileStat,
  type FsInfo,
  type OpenFlags,
  type SetTimes,
  type VfsHandle,
  type ChangeEvent,
  type Watch,
} from './types.js';

export interface PosixBackendOptions {
  /** Refuse every modification with ACCESS_DENIED (the SMB layer also refuses; this is a second wall). */
  readOnly?: boolean;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** Stats fetched at once while listing a directory: enough to hide latency, few enough to spare the fd table. */
const READDIR_CONCURRENCY = 32;
/**
 * O_NOFOLLOW: the path was resolved a moment ago; if the last component has since become a symlink,
 * fail rather than follow it. O_NONBLOCK: never hang on a FIFO swapped in the same way.
 */
const OPEN_GUARDS = fsc.O_NOFOLLOW | fsc.O_NONBLOCK;

export class PosixBackend implements Backend {
  readonly root: string;
  readonly readOnly: boolean;
  private readonly resolver: PathResolver;
  private volumeSerial = 0;
  private volumeCreationTime = 0n;

  /** Prefer `PosixBackend.create`, which checks the root. */
  constructor(root: string, opts: PosixBackendOptions = {}) {
    // Containment checks compare realpath results, so the root itself must be a real path.
    this.root = realpathSync(nodePath.resolve(root));
    this.readOnly = opts.readOnly === true;
    this.resolver = new PathResolver(this.root);
  }

  static async create(root: string, opts: PosixBackendOptions = {}): Promise<PosixBackend> {
    let st: BigIntStats;
    try {
      st = await fsp.stat(root, { bigint: true });
    } catch (err) {
      throw new Error(`share root ${root}: ${errnoCode(err) ?? String(err)}`);
    }
    if (!st.isDirectory()) throw new Error(`share root ${root} is not a directory`);
    const backend = new PosixBackend(root, opts);
    backend.volumeSerial = Number((st.dev ^ (st.dev >> 32n)) & 0xffffffffn);
    backend.volumeCreationTime = fileStatFromStats(st).creationTime;
    return backend;
  }

  async stat(path: string): Promise<FileStat | null> {
    const real = await this.resolver.target(path);
    if (real === null) return null;
    return fileStatFromStats(await statOf(real));
  }

  async watch(path: string, recursive: boolean, onChange: (e: ChangeEvent) => void, onOverflow: () => void): Promise<Watch> {
    const real = await this.existingTarget(path);
    return watchDirectory(real, recursive, onChange, onOverflow);
  }

  async resolveCase(path: string): Promise<string | null> {
    if (this.resolver.components(path).length === 0) return '';
    const entry = await this.resolver.entry(path);
    return entry.exists ? entry.sharePath : null;
  }

  async open(path: string, flags: OpenFlags): Promise<VfsHandle> {
    if (flags.write) this.refuseIfReadOnly();
    const real = await this.resolver.target(path);
    if (real === null) fail(Status.OBJECT_NAME_NOT_FOUND);
    const st = await statOf(real);
    if (st.isDirectory()) return this.openDirectory(path, real);
    // Devices, FIFOs and sockets are not files a client can use; opening some would block or worse.
    if (!st.isFile()) fail(Status.ACCESS_DENIED, 'not a regular file');
    // root ignores permission bits, so READONLY is enforced here, as Windows does at open.
    if (flags.write && (Number(st.mode) & 0o200) === 0) fail(Status.ACCESS_DENIED, 'file is read-only');
    try {
      const fh = await fsp.open(real, accessFlags(flags) | OPEN_GUARDS);
      return new PosixFileHandle(path, false, fh, flags.read, flags.write, this.readOnly);
    } catch (err) {
      if (!flags.read && !flags.write && errnoCode(err) === 'EACCES') return new PosixPathHandle(path, real, false);
      throw toNtStatusError(err);
    }
  }

  private async openDirectory(path: string, real: string): Promise<VfsHandle> {
    try {
      const fh = await fsp.open(real, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
      return new PosixFileHandle(path, true, fh, false, false, this.readOnly);
    } catch (err) {
      if (errnoCode(err) === 'EACCES') return new PosixPathHandle(path, real, true);
      throw toNtStatusError(err);
    }
  }

  async createFile(path: string, flags: OpenFlags, attributes: number): Promise<VfsHandle> {
    this.refuseIfReadOnly();
    const entry = await this.resolver.entry(path);
    if (entry.exists) fail(Status.OBJECT_NAME_COLLISION);
    // [MS-FSA] 2.1.5.1.2.1: a new file always gets ARCHIVE.
    const mode = modeForAttributes(FILE_MODE, (attributes | FileAttribute.ARCHIVE) & ~FileAttribute.DIRECTORY);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(entry.entryPath, fsc.O_CREAT | fsc.O_EXCL | accessFlags(flags) | OPEN_GUARDS, mode);
    } catch (err) {
      throw toNtStatusError(err);
    }
    try {
      // The umask may have cleared bits that carry DOS attributes.
      await fh.chmod(mode);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw toNtStatusError(err);
    }
    return new PosixFileHandle(entry.sharePath, false, fh, flags.read, flags.write, this.readOnly);
  }

  async mkdir(path: string, _attributes: number): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.resolver.entry(path);
    if (entry.exists) fail(Status.OBJECT_NAME_COLLISION);
    try {
      await fsp.mkdir(entry.entryPath, DIR_MODE);
      await fsp.chmod(entry.entryPath, DIR_MODE);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async rmdir(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.existingEntry(path);
    try {
      const st = await fsp.lstat(entry.entryPath);
      // A symlink to a directory looks like a directory to the client; removing it removes the link.
      if (st.isSymbolicLink()) await fsp.unlink(entry.entryPath);
      else if (!st.isDirectory()) fail(Status.NOT_A_DIRECTORY);
      else await fsp.rmdir(entry.entryPath);
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') fail(Status.NOT_A_DIRECTORY);
      throw toNtStatusError(err);
    }
  }

  async unlink(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.existingEntry(path);
    try {
      const st = await fsp.lstat(entry.entryPath);
      if (st.isDirectory()) fail(Status.FILE_IS_A_DIRECTORY);
      await fsp.unlink(entry.entryPath);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async rename(from: string, to: string, replaceIfExists: boolean): Promise<void> {
    this.refuseIfReadOnly();
    const src = await this.existingEntry(from);
    const dst = await this.resolver.entry(to);
    const toParts = this.resolver.components(to);
    const wantedName = toParts[toParts.length - 1]!;
    const wantedPath = nodePath.join(dst.parentReal, wantedName);
    try {
      const sameEntry = dst.exists && dst.parentReal === src.parentReal && dst.name === src.name;
      if (sameEntry) {
        // Renaming to another case of its own name is allowed; to exactly itself, a no-op.
        if (wantedName !== src.name) await fsp.rename(src.entryPath, wantedPath);
        return;
      }
      if (dst.exists) {
        if (!replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
        const target = await fsp.lstat(dst.entryPath);
        // [MS-FSA] 2.1.5.14.11: a directory is never replaced.
        if (target.isDirectory()) fail(Status.ACCESS_DENIED, 'rename target is a directory');
        await fsp.rename(src.entryPath, dst.entryPath);
        // Overwrite the existing entry atomically, then give it the requested case.
        if (dst.name !== wantedName) await fsp.rename(dst.entryPath, wantedPath);
        return;
      }
      await fsp.rename(src.entryPath, wantedPath);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const real = await this.resolver.target(path);
    if (real === null) fail(Status.OBJECT_NAME_NOT_FOUND);
    let dirents;
    try {
      dirents = await fsp.readdir(real, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') fail(Status.NOT_A_DIRECTORY);
      throw toNtStatusError(err);
    }
    const out: DirEntry[] = [];
    for (let i = 0; i < dirents.length; i += READDIR_CONCURRENCY) {
      const batch = dirents.slice(i, i + READDIR_CONCURRENCY);
      const stats = await Promise.all(
        batch.map((d) => this.listedStat(nodePath.join(real, d.name), d.isSymbolicLink())),
      );
      batch.forEach((d, j) => {
        const st = stats[j];
        if (st) out.push({ name: d.name, stat: st });
      });
    }
    return out;
  }

  /**
   * Stat of one listed entry; null hides it: gone since the listing, a dangling symlink, or a
   * symlink leaving the share (listing it would leak the target's metadata).
   */
  private async listedStat(full: string, isLink: boolean): Promise<FileStat | null> {
    try {
      let target = full;
      if (isLink) {
        target = await fsp.realpath(full);
        if (!this.resolver.isInside(target)) return null;
      }
      return fileStatFromStats(await fsp.stat(target, { bigint: true }));
    } catch {
      return null;
    }
  }

  async setTimes(path: string, times: SetTimes): Promise<void> {
    this.refuseIfReadOnly();
    const real = await this.existingTarget(path);
    // Linux cannot set a birth time or a change time; Samba keeps them in xattrs, which Node cannot
    // reach. They are dropped without error, as clients set all four times together.
    const atime = settable(times.lastAccessTime);
    const mtime = settable(times.lastWriteTime);
    if (atime === undefined && mtime === undefined) return;
    try {
      let current: FileStat | undefined;
      if (atime === undefined || mtime === undefined) current = fileStatFromStats(await statOf(real));
      const a = atime ?? current!.lastAccessTime;
      const m = mtime ?? current!.lastWriteTime;
      await fsp.utimes(real, filetimeToUnixSeconds(a), filetimeToUnixSeconds(m));
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async setAttributes(path: string, attributes: number): Promise<void> {
    this.refuseIfReadOnly();
    const real = await this.existingTarget(path);
    const st = await statOf(real);
    // Directories have no bits to spare for DOS attributes (their x bits mean "searchable").
    if (st.isDirectory()) return;
    try {
      await fsp.chmod(real, modeForAttributes(Number(st.mode), attributes));
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async fsInfo(): Promise<FsInfo> {
    let sf;
    try {
      sf = await fsp.statfs(this.root, { bigint: true });
    } catch (err) {
      throw toNtStatusError(err);
    }
    const bsize = sf.bsize > 0n ? sf.bsize : 4096n;
    return {
      totalBytes: sf.blocks * bsize,
      freeBytes: sf.bfree * bsize,
      availableBytes: sf.bavail * bsize,
      bytesPerSector: 512,
      sectorsPerAllocationUnit: Math.max(1, Number(bsize / 512n)),
      volumeSerial: this.volumeSerial,
      volumeLabel: '',
      // Clients key behaviour on the name; Samba reports NTFS for the same reason.
      fsName: 'NTFS',
      volumeCreationTime: this.volumeCreationTime,
      maxNameLength: 255,
    };
  }

  private refuseIfReadOnly(): void {
    if (this.readOnly) fail(Status.ACCESS_DENIED, 'read-only share');
  }

  private async existingEntry(path: string) {
    const entry = await this.resolver.entry(path);
    if (!entry.exists) fail(Status.OBJECT_NAME_NOT_FOUND);
    return entry;
  }

  private async existingTarget(path: string): Promise<string> {
    const real = await this.resolver.target(path);
    if (real === null) fail(Status.OBJECT_NAME_NOT_FOUND);
    return real;
  }
}

function accessFlags(flags: OpenFlags): number {
  if (flags.read && flags.write) return fsc.O_RDWR;
  if (flags.write) return fsc.O_WRONLY;
  return fsc.O_RDONLY;
}

/** Times of 0 and -1/-2 ([MS-FSCC] 2.4.7) mean "leave alone"; only real timestamps are applied. */
function settable(t: bigint | undefined): bigint | undefined {
  return t !== undefined && t > 0n ? t : undefined;
}

async function statOf(real: string): Promise<BigIntStats> {
  try {
    return await fsp.stat(real, { bigint: true });
  } catch (err) {
    throw toNtStatusError(err);
  }
}
