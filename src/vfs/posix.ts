/**
 * Backend on a local POSIX directory tree: the share root and everything below it.
 */
import { constants as fsc, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { lstatFields, statxAvailable, type StatFields } from '../native/statx.js';
import * as nodePath from 'node:path';
import { Status, fail } from '../protocol/status.js';
import { DEFAULT_FS_ATTRIBUTES, FsAttribute, STREAMS_AND_EAS } from '../protocol/fscc/constants.js';
import { errnoCode, toNtStatusError } from './errno.js';
import { PosixFileHandle, PosixPathHandle } from './posix-handle.js';
import { PathResolver } from './posix-resolve.js';
import { DirNameIndex, indexedOps } from './dir-name-index.js';
import { asyncMetadataOps, syncMetadataOps, type MetaOps } from './posix-ops.js';
import { watchDirectory } from './posix-watch.js';
import { OwnRenames } from './own-renames.js';
import { FILETIME_UNIX_EPOCH, fileStatFromStats, filetimeToUnixSeconds, modeForAttributes } from './posix-stat.js';
import {
  CLIENT_SET_ATTRIBUTES,
  defaultCreationTime,
  fileStatWithMeta,
  implicitMeta,
  probeXattrs,
  readMeta,
  statMapper,
  writeMeta,
  type MetaRecord,
  type StatMapper,
} from './posix-meta.js';
import { available as nativeAvailable, isUnsupported, setFileTimes, type XattrTarget } from '../native/libc.js';
import {
  FileAttribute,
  listWithStats,
  type Backend,
  type DirEntry,
  type FileStat,
  type FsInfo,
  type OpenFlags,
  type SetTimes,
  type VfsHandle,
  type ChangeEvent,
  type ExtraStore,
  type Watch,
} from './types.js';
import { XattrExtraStore } from './posix-extras.js';
import { eaSizeFromEntries } from './ea-size.js';
import { ListedMetaCache } from './listed-meta-cache.js';

export interface PosixBackendOptions {
  /** Refuse every modification with ACCESS_DENIED (the SMB layer also refuses; this is a second wall). */
  readOnly?: boolean;
  /**
   * Keep creation time, change time and DOS attributes in the `user.smb3d` xattr (posix-meta.ts).
   * Default: when the share's file system supports user xattrs. `false` forces the fallback, which
   * maps DOS attributes onto permission bits and cannot keep set creation/change times.
   */
  xattrs?: boolean;
  /**
   * Run metadata system calls (path lookup, stat, open/close, mkdir, rename, readdir, ...) on the
   * main thread. Default true: ~5 us each instead of ~120 us through the libuv thread pool, which
   * is most of the latency of a CREATE or a directory listing. Data I/O (read, write, flush,
   * truncate) stays asynchronous either way. Set false for a share on a file system that can be
   * slow to answer (NFS, SMB, FUSE): there a blocking stat would stall every client of the server,
   * where the async path only delays the request that made it. See posix-ops.ts.
   */
  syncMetadata?: boolean;
}

export interface BackendCapabilities {
  /** Metadata lives in xattrs; false: the permission-bit fallback (worth a log line at start). */
  xattrs: boolean;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** Async metadata: stats fetched at once while listing a directory, enough to hide latency, few enough to spare the fd table. */
const READDIR_CONCURRENCY = 32;
/** Sync metadata: entries stat'ed (a few ms) between yields to the event loop while listing. */
const READDIR_SYNC_SLICE = 1024;
/**
 * O_NOFOLLOW: the path was resolved a moment ago; if the last component has since become a symlink,
 * fail rather than follow it. O_NONBLOCK: never hang on a FIFO swapped in the same way.
 */
const OPEN_GUARDS = fsc.O_NOFOLLOW | fsc.O_NONBLOCK;

export class PosixBackend implements Backend {
  readonly root: string;
  readonly readOnly: boolean;
  readonly capabilities: BackendCapabilities;
  private readonly resolver: PathResolver;
  private readonly toFileStat: StatMapper;
  /** Records of listed files, read again only once a file changes (listed-meta-cache.ts). */
  private readonly listedMeta = new ListedMetaCache();
  private readonly ops: MetaOps;
  /** Case-insensitive lookups in big directories without reading them per request. */
  private readonly names = new DirNameIndex();
  /** Renames made here, which change notify reports as rename pairs. */
  private readonly renames = new OwnRenames();
  private volumeSerial = 0;
  private volumeCreationTime = 0n;

  /** Prefer `PosixBackend.create`, which checks the root. */
  constructor(root: string, opts: PosixBackendOptions = {}) {
    // Containment checks compare realpath results, so the root itself must be a real path.
    this.root = realpathSync(nodePath.resolve(root));
    this.readOnly = opts.readOnly === true;
    this.ops = indexedOps(opts.syncMetadata === false ? asyncMetadataOps : syncMetadataOps, this.names);
    this.resolver = new PathResolver(this.root, this.ops, this.names);
    // The probe is synchronous (two system calls), so the constructor can decide too.
    const xattrs = opts.xattrs !== false && probeXattrs(this.root);
    this.capabilities = { xattrs };
    this.toFileStat = statMapper(xattrs);
  }

  static async create(root: string, opts: PosixBackendOptions = {}): Promise<PosixBackend> {
    let st: BigIntStats;
    try {
      // Once, at start: sync is fine whichever flavour the backend uses.
      st = statSync(root, { bigint: true });
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
    return this.toFileStat(await this.statOf(real), { path: real, follow: false });
  }

  async watch(path: string, recursive: boolean, onChange: (e: ChangeEvent) => void, onOverflow: () => void): Promise<Watch> {
    const real = await this.existingTarget(path);
    return watchDirectory(real, recursive, onChange, onOverflow, this.renames);
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
    const st = await this.statOf(real);
    if (st.isDirectory()) return this.openDirectory(path, real);
    // Devices, FIFOs and sockets are not files a client can use; opening some would block or worse.
    if (!st.isFile()) fail(Status.ACCESS_DENIED, 'not a regular file');
    // root ignores permission bits, so READONLY is enforced here, as Windows does at open.
    if (flags.write && (Number(st.mode) & 0o200) === 0) fail(Status.ACCESS_DENIED, 'file is read-only');
    try {
      const fd = await this.ops.open(real, accessFlags(flags) | OPEN_GUARDS);
      return new PosixFileHandle(path, false, fd, this.ops, flags.read, flags.write, this.readOnly, this.toFileStat, this.capabilities.xattrs);
    } catch (err) {
      if (!flags.read && !flags.write && errnoCode(err) === 'EACCES') return new PosixPathHandle(path, real, false, this.ops, this.toFileStat);
      throw toNtStatusError(err);
    }
  }

  private async openDirectory(path: string, real: string): Promise<VfsHandle> {
    try {
      const fd = await this.ops.open(real, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
      return new PosixFileHandle(path, true, fd, this.ops, false, false, this.readOnly, this.toFileStat, this.capabilities.xattrs);
    } catch (err) {
      if (errnoCode(err) === 'EACCES') return new PosixPathHandle(path, real, true, this.ops, this.toFileStat);
      throw toNtStatusError(err);
    }
  }

  async createFile(path: string, flags: OpenFlags, attributes: number): Promise<VfsHandle> {
    this.refuseIfReadOnly();
    const entry = await this.resolver.entry(path);
    if (entry.exists) fail(Status.OBJECT_NAME_COLLISION);
    // [MS-FSA] 2.1.5.1.2.1: a new file always gets ARCHIVE.
    const attrs = (attributes | FileAttribute.ARCHIVE) & ~(FileAttribute.DIRECTORY | FileAttribute.SPARSE_FILE);
    const xattrs = this.capabilities.xattrs;
    const mode = xattrs ? modeWithReadOnly(FILE_MODE, attrs) : modeForAttributes(FILE_MODE, attrs);
    let fd: number;
    try {
      // Created writable: the record must be written before READONLY takes the write bit away.
      fd = await this.ops.open(entry.entryPath, fsc.O_CREAT | fsc.O_EXCL | accessFlags(flags) | OPEN_GUARDS, FILE_MODE);
    } catch (err) {
      throw toNtStatusError(err);
    }
    try {
      if (xattrs) {
        const st = await this.ops.fstat(fd);
        this.storeMeta({ fd }, { attributes: attrs, creationTime: defaultCreationTime(st), eaSize: 0 });
      }
      // Also undoes the umask, which may have cleared bits that carry DOS attributes.
      await this.ops.fchmod(fd, mode);
    } catch (err) {
      await this.ops.close(fd).catch(() => undefined);
      await this.ops.unlink(entry.entryPath).catch(() => undefined);
      throw toNtStatusError(err);
    }
    return new PosixFileHandle(entry.sharePath, false, fd, this.ops, flags.read, flags.write, this.readOnly, this.toFileStat, this.capabilities.xattrs);
  }

  async mkdir(path: string, attributes: number): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.resolver.entry(path);
    if (entry.exists) fail(Status.OBJECT_NAME_COLLISION);
    try {
      await this.ops.mkdir(entry.entryPath, DIR_MODE);
      await this.ops.chmod(entry.entryPath, DIR_MODE);
    } catch (err) {
      throw toNtStatusError(err);
    }
    if (!this.capabilities.xattrs) return;
    try {
      const st = await this.ops.lstat(entry.entryPath);
      this.storeMeta({ path: entry.entryPath, follow: false }, { attributes, creationTime: defaultCreationTime(st), eaSize: 0 });
    } catch (err) {
      await this.ops.rmdir(entry.entryPath).catch(() => undefined);
      throw toNtStatusError(err);
    }
  }

  async rmdir(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.existingEntry(path);
    try {
      const st = await this.ops.lstat(entry.entryPath);
      // A symlink to a directory looks like a directory to the client; removing it removes the link.
      if (st.isSymbolicLink()) await this.ops.unlink(entry.entryPath);
      else if (!st.isDirectory()) fail(Status.NOT_A_DIRECTORY);
      else await this.ops.rmdir(entry.entryPath);
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') fail(Status.NOT_A_DIRECTORY);
      throw toNtStatusError(err);
    }
  }

  async unlink(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const entry = await this.existingEntry(path);
    try {
      const st = await this.ops.lstat(entry.entryPath);
      if (st.isDirectory()) fail(Status.FILE_IS_A_DIRECTORY);
      await this.ops.unlink(entry.entryPath);
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
        if (wantedName !== src.name) await this.renameNoted(src.entryPath, wantedPath);
        return;
      }
      if (dst.exists) {
        if (!replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
        const target = await this.ops.lstat(dst.entryPath);
        // [MS-FSA] 2.1.5.14.11: a directory is never replaced.
        if (target.isDirectory()) fail(Status.ACCESS_DENIED, 'rename target is a directory');
        // Overwrite the existing entry atomically, then give it the requested case.
        if (dst.name === wantedName) await this.renameNoted(src.entryPath, dst.entryPath);
        else {
          await this.ops.rename(src.entryPath, dst.entryPath);
          await this.ops.rename(dst.entryPath, wantedPath);
        }
        return;
      }
      await this.renameNoted(src.entryPath, wantedPath);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  private async renameNoted(from: string, to: string): Promise<void> {
    // Noted first: the inotify events can be handled before the await returns.
    this.renames.note(from, to);
    try {
      await this.ops.rename(from, to);
    } catch (err) {
      this.renames.drop(from, to);
      throw err;
    }
  }

  readdir(path: string): Promise<DirEntry[]> {
    return listWithStats(this, path);
  }

  async readdirNames(path: string): Promise<string[]> {
    const real = await this.resolver.target(path);
    if (real === null) fail(Status.OBJECT_NAME_NOT_FOUND);
    try {
      return await this.ops.readdir(real);
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') fail(Status.NOT_A_DIRECTORY);
      throw toNtStatusError(err);
    }
  }

  async statListed(dir: string, names: readonly string[]): Promise<(FileStat | null)[]> {
    const real = await this.resolver.target(dir);
    if (real === null) return names.map(() => null);
    // Names from readdir hold no slash; path.join's normalising is not needed.
    const at = real.endsWith('/') ? real : `${real}/`;
    const out: (FileStat | null)[] = [];
    if (this.ops.sync) {
      for (let i = 0; i < names.length; i++) {
        // A huge directory takes tens of milliseconds of stats; let other clients in now and then.
        if (i > 0 && i % READDIR_SYNC_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const full = at + names[i]!;
        const now = statxAvailable ? this.listedStatNow(full) : 'later';
        out.push(now === 'later' ? await this.listedStat(full) : now);
      }
      return out;
    }
    for (let i = 0; i < names.length; i += READDIR_CONCURRENCY) {
      const batch = names.slice(i, i + READDIR_CONCURRENCY);
      out.push(...(await Promise.all(batch.map((name) => this.listedStat(at + name)))));
    }
    return out;
  }

  /**
   * Stat of one listed entry; null hides it: gone since the listing, a dangling symlink, or a
   * symlink leaving the share (listing it would leak the target's metadata).
   */
  private async listedStat(full: string): Promise<FileStat | null> {
    try {
      let target = full;
      let st: StatFields = await this.ops.lstat(full);
      if (st.isSymbolicLink()) {
        target = await this.ops.realpath(full);
        if (!this.resolver.isInside(target)) return null;
        st = await this.ops.stat(target);
      }
      return this.listedFileStat(st, target);
    } catch {
      return null;
    }
  }

  /** listedStat without a promise, through statx (src/native/statx.ts); a symlink is left to listedStat. */
  private listedStatNow(full: string): FileStat | null | 'later' {
    const st = lstatFields(full);
    if (st === null) return null;
    if (st.isSymbolicLink()) return 'later';
    try {
      return this.listedFileStat(st, full);
    } catch {
      return null;
    }
  }

  private listedFileStat(st: StatFields, target: string): FileStat {
    if (!this.capabilities.xattrs) return this.toFileStat(st, { path: target, follow: false });
    const cached = this.listedMeta.get(target, st);
    const rec = cached ? cached.rec : readMeta({ path: target, follow: false });
    const fst = fileStatWithMeta(st, rec);
    if (cached) {
      fst.eaSize = cached.eaSize;
      return fst;
    }
    // The record keeps the EA size where smb3d made the file; only others need their xattrs listed.
    fst.eaSize ??= eaSizeFromEntries(new XattrExtraStore({ path: target, follow: false }).list('ea'));
    this.listedMeta.set(target, st, { rec, eaSize: fst.eaSize });
    return fst;
  }

  async setTimes(path: string, times: SetTimes): Promise<void> {
    this.refuseIfReadOnly();
    const real = await this.existingTarget(path);
    const atime = settable(times.lastAccessTime);
    const mtime = settable(times.lastWriteTime);
    try {
      if (atime !== undefined || mtime !== undefined) await setUnixTimes(this.ops, real, atime, mtime);
    } catch (err) {
      throw toNtStatusError(err);
    }
    // Without xattrs there is nowhere to keep them; clients set all four times together, so they
    // are dropped without error.
    const creation = settable(times.creationTime);
    const change = settable(times.changeTime);
    if (!this.capabilities.xattrs || (creation === undefined && change === undefined)) return;
    // Stat after utimensat: the change-time override is tied to the mtime it leaves.
    const st = await this.statOf(real);
    const target: XattrTarget = { path: real, follow: false };
    const rec = readMeta(target) ?? implicitMeta(st);
    if (creation !== undefined) rec.creationTime = creation;
    if (change !== undefined) {
      rec.changeTime = change;
      rec.changeMtimeNs = st.mtimeNs;
    }
    await this.storeMetaAt(real, rec);
  }

  async setAttributes(path: string, attributes: number): Promise<void> {
    this.refuseIfReadOnly();
    const real = await this.existingTarget(path);
    const st = await this.statOf(real);
    const mode = Number(st.mode);
    try {
      if (!this.capabilities.xattrs) {
        // Directories have no bits to spare for DOS attributes (their x bits mean "searchable").
        if (!st.isDirectory()) await this.ops.chmod(real, modeForAttributes(mode, attributes));
        return;
      }
      const target: XattrTarget = { path: real, follow: false };
      const rec = readMeta(target) ?? implicitMeta(st);
      rec.attributes = (attributes & CLIENT_SET_ATTRIBUTES) | (rec.attributes & FileAttribute.SPARSE_FILE);
      const wanted = st.isDirectory() ? mode & 0o7777 : modeWithReadOnly(mode, attributes);
      // Clearing READONLY: write bit first, so the record can be written by a non-root owner.
      if (wanted !== (mode & 0o7777) && (wanted & 0o200) !== 0) await this.ops.chmod(real, wanted);
      await this.storeMetaAt(real, rec);
      if (wanted !== (mode & 0o7777) && (wanted & 0o200) === 0) await this.ops.chmod(real, wanted);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  /**
   * Writes a record. A file system inside the share without xattrs (another mount) silently keeps
   * nothing, like the fallback; anything else is an error.
   */
  private storeMeta(target: XattrTarget, rec: MetaRecord): void {
    try {
      writeMeta(target, rec);
    } catch (err) {
      if (!isUnsupported(err)) throw err;
    }
  }

  /**
   * storeMeta by path, for a file that may be READONLY: user xattrs need write permission, which
   * root has anyway; an owner who is not root gets the write bit lent for the moment.
   */
  private async storeMetaAt(real: string, rec: MetaRecord): Promise<void> {
    const target: XattrTarget = { path: real, follow: false };
    try {
      this.storeMeta(target, rec);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EACCES' && code !== 'EPERM') throw toNtStatusError(err);
      const now = await this.statOf(real);
      const mode = Number(now.mode) & 0o7777;
      const lendable = now.isFile() && (mode & 0o200) === 0 && now.uid === BigInt(process.getuid?.() ?? -1);
      if (!lendable) throw toNtStatusError(err);
      try {
        await this.ops.chmod(real, mode | 0o200);
        this.storeMeta(target, rec);
      } catch (err2) {
        throw toNtStatusError(err2);
      } finally {
        await this.ops.chmod(real, mode).catch(() => undefined);
      }
    }
  }

  /** Streams and EAs live in user xattrs (posix-extras.ts); without xattrs there are none. */
  async extras(path: string): Promise<ExtraStore> {
    if (!this.capabilities.xattrs) fail(Status.NOT_SUPPORTED, 'no user xattrs on this file system');
    return new XattrExtraStore({ path: await this.existingTarget(path), follow: false });
  }

  async fsInfo(): Promise<FsInfo> {
    let sf;
    try {
      sf = await this.ops.statfs(this.root);
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
      // Sparse files keep their attribute in the same record; holes are the file system's own.
      fsAttributes: this.capabilities.xattrs ? DEFAULT_FS_ATTRIBUTES | STREAMS_AND_EAS | FsAttribute.SUPPORTS_SPARSE_FILES : DEFAULT_FS_ATTRIBUTES,
    };
  }

  private async statOf(real: string): Promise<BigIntStats> {
    try {
      return await this.ops.stat(real);
    } catch (err) {
      throw toNtStatusError(err);
    }
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

/** Mode with the owner write bit standing for READONLY (xattr mode: nothing else is mapped). */
function modeWithReadOnly(currentMode: number, attributes: number): number {
  const mode = currentMode & 0o7777;
  return attributes & FileAttribute.READONLY ? mode & ~0o222 : mode | 0o200;
}

function filetimeToNs(ft: bigint): bigint {
  return (ft - FILETIME_UNIX_EPOCH) * 100n;
}

/** Sets atime/mtime, leaving an undefined one alone; exact to 100 ns where libc is reachable. */
async function setUnixTimes(ops: MetaOps, real: string, atime: bigint | undefined, mtime: bigint | undefined): Promise<void> {
  if (nativeAvailable) {
    setFileTimes(
      { path: real, follow: false },
      { atimeNs: atime === undefined ? undefined : filetimeToNs(atime), mtimeNs: mtime === undefined ? undefined : filetimeToNs(mtime) },
    );
    return;
  }
  // fs.utimes takes both times and goes through a double (about 0.2 us off today).
  let current: FileStat | undefined;
  if (atime === undefined || mtime === undefined) current = fileStatFromStats(await ops.stat(real));
  await ops.utimes(real, filetimeToUnixSeconds(atime ?? current!.lastAccessTime), filetimeToUnixSeconds(mtime ?? current!.lastWriteTime));
}

