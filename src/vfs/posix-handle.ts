/**
 * Open files and directories of the POSIX backend.
 */
import * as fs from 'node:fs';
import { Status, fail } from '../protocol/status.js';
import { toNtStatusError } from './errno.js';
import type { StatMapper } from './posix-meta.js';
import type { MetaOps } from './posix-ops.js';
import { FALLOC_FL_KEEP_SIZE, fallocate, isUnsupported } from '../native/libc.js';
import type { ByteRange, ExtraStore, FileStat, ReadPin, VfsHandle } from './types.js';
import { XattrExtraStore } from './posix-extras.js';
import { dataRanges, fillHoles, isSparse, storeSparse, zeroInPlace } from './posix-sparse.js';

/** Largest offset fs accepts exactly (Number.MAX_SAFE_INTEGER); beyond it a double would silently round. */
const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);
/** Zeros written at a time where the file system cannot zero a range in place. */
const ZERO_CHUNK = 1n << 20n;

function toPosition(position: bigint): number {
  if (position < 0n || position > MAX_POSITION) fail(Status.INVALID_PARAMETER, 'file offset out of range');
  return Number(position);
}

/** A callback-style fs call as a promise: data I/O stays on the thread pool, whatever MetaOps does. */
function viaCallback<T>(start: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)));
  });
}

/** Reads until `length` bytes or end of file: a regular file returns short only at EOF, but a signal or FUSE may split reads. */
async function readFully(fd: number, buf: Buffer, bufOffset: number, length: number, pos: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const n = await viaCallback<number>((cb) => fs.read(fd, buf, bufOffset + total, length - total, pos + total, cb));
    if (n === 0) break;
    total += n;
  }
  return total;
}

/** Reads of at least this size are split over the thread pool (see readSpread). */
const SPREAD_MIN = 2 * 1024 * 1024;
/** libuv's default thread pool size: more pieces would only queue. */
const SPREAD_PIECES = 4;

/**
 * Reads like readFully, in up to SPREAD_PIECES pieces that run in parallel on the thread pool.
 * A signed or sealed READ must hold all its data before the signature can be computed, so its
 * latency is the copy out of the page cache; one pread of 8 MiB keeps one core busy for it while
 * the other idles (smbclient keeps only two 8 MiB READs in flight). Measured on this 2-core VM,
 * signed 1 GiB gets went from 845 to 1481 MB/s, sealed ones from 897 to 1241 MB/s.
 * The bytes counted are those up to the first short piece: a regular file reads short only at
 * its end, and data a racing writer put beyond a gap must not be reported as read.
 */
export async function readSpread(fd: number, buf: Buffer, bufOffset: number, length: number, pos: number): Promise<number> {
  if (length < SPREAD_MIN) return readFully(fd, buf, bufOffset, length, pos);
  const piece = Math.ceil(length / SPREAD_PIECES / 4096) * 4096;
  const starts: number[] = [];
  for (let at = 0; at < length; at += piece) starts.push(at);
  const sizes = starts.map((at) => Math.min(piece, length - at));
  const got = await Promise.all(starts.map((at, i) => readFully(fd, buf, bufOffset + at, sizes[i]!, pos + at)));
  let total = 0;
  for (let i = 0; i < got.length; i++) {
    total += got[i]!;
    if (got[i]! < sizes[i]!) break;
  }
  return total;
}

/**
 * A file or directory with an open descriptor (directories keep one so stat survives renames).
 *
 * The descriptor is a bare number (a sync open cannot make an fs.promises FileHandle), so this class
 * does what FileHandle would: close waits for reads and writes still on the thread pool, since a
 * number closed under them could be reused by the next open and the I/O would hit another file.
 */
export class PosixFileHandle implements VfsHandle {
  private closed = false;
  private inFlight = 0;
  /**
   * This handle's writes go to the file one at a time, in the order they were issued. The kernel
   * runs buffered writes of one file one at a time anyway (the inode lock), and a thread waiting
   * for it spins on the lock's owner: 2-4% of the server's CPU samples in a put, where smbclient
   * keeps two WRITEs in flight, and a pool thread held meanwhile.
   */
  private writes: Promise<unknown> = Promise.resolve();
  private drained: (() => void) | null = null;

  constructor(
    readonly path: string,
    readonly isDirectory: boolean,
    private readonly fd: number,
    private readonly ops: MetaOps,
    private readonly canRead: boolean,
    private readonly canWrite: boolean,
    private readonly readOnlyBackend: boolean,
    private readonly toFileStat: StatMapper,
    /** Sparse files need somewhere to keep the attribute: the backend's xattr record. */
    private readonly sparseFiles = false,
  ) {}

  /** Runs thread-pool I/O on the descriptor, counted so close can wait for it. */
  private async io<T>(run: (fd: number) => Promise<T>): Promise<T> {
    if (this.closed) fail(Status.INVALID_HANDLE, 'handle closed');
    this.inFlight++;
    try {
      return await run(this.fd);
    } catch (err) {
      throw toNtStatusError(err);
    } finally {
      if (--this.inFlight === 0 && this.drained) this.drained();
    }
  }

  /**
   * The descriptor for reading outside this class (sendfile), held open until `release`: close
   * waits for it as for thread-pool I/O. Undefined where this handle cannot read.
   */
  pinForRead(): ReadPin | undefined {
    if (this.closed || this.isDirectory || !this.canRead) return undefined;
    this.inFlight++;
    let released = false;
    const fd = this.fd;
    return {
      fd,
      read: (buf, length, position) => readFully(fd, buf, 0, length, toPosition(position)),
      release: () => {
        if (released) return;
        released = true;
        if (--this.inFlight === 0 && this.drained) this.drained();
      },
    };
  }

  /** Reads straight into the caller's buffer: this is the hot path for large READs. */
  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    if (this.isDirectory) fail(Status.INVALID_DEVICE_REQUEST, 'read on a directory');
    if (!this.canRead) fail(Status.ACCESS_DENIED, 'handle not opened for reading');
    if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length) fail(Status.INVALID_PARAMETER);
    const pos = toPosition(position);
    return this.io((fd) => readSpread(fd, buf, bufOffset, length, pos));
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    if (this.isDirectory) fail(Status.FILE_IS_A_DIRECTORY, 'write on a directory');
    if (!this.canWrite || this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    const pos = toPosition(position);
    if (pos + data.length > Number.MAX_SAFE_INTEGER) fail(Status.INVALID_PARAMETER, 'write past the largest offset');
    // Counted as in flight from now, not from its turn: a close issued meanwhile waits for it.
    const turn = this.io(async (fd) => {
      await this.writes;
      let total = 0;
      while (total < data.length) {
        const n = await viaCallback<number>((cb) => fs.write(fd, data, total, data.length - total, pos + total, cb));
        if (n === 0) fail(Status.DISK_FULL);
        total += n;
      }
      return total;
    });
    this.writes = turn.catch(() => undefined);
    return turn;
  }

  async truncate(size: bigint): Promise<void> {
    if (this.isDirectory) fail(Status.FILE_IS_A_DIRECTORY, 'truncate on a directory');
    if (!this.canWrite || this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    const len = toPosition(size);
    // Asynchronous: shrinking a large file frees its blocks, which can take a while.
    await this.io((fd) => viaCallback<void>((cb) => fs.ftruncate(fd, len, (err) => cb(err, undefined))));
  }

  /**
   * FileAllocationInformation: below the end of file it truncates ([MS-FSA] 2.1.5.15.1); above it,
   * blocks are reserved (fallocate, end of file unchanged) so the allocation size reads back. Where
   * the file system cannot reserve, the request is a hint and is accepted.
   */
  async setAllocationSize(size: bigint): Promise<void> {
    if (this.isDirectory) fail(Status.INVALID_PARAMETER, 'allocation size of a directory');
    if (!this.canWrite || this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    toPosition(size);
    const st = await this.fstat();
    if (size < st.size) return this.truncate(size);
    if (size === 0n || st.blocks * 512n >= size) return;
    try {
      fallocate(this.fd, FALLOC_FL_KEEP_SIZE, 0n, size);
    } catch (err) {
      if (!isUnsupported(err)) throw toNtStatusError(err);
    }
  }

  /** The descriptor, for the sparse-file calls (each one short system call, so not counted as in flight). */
  private sparseFd(modifies: boolean): number {
    if (this.closed) fail(Status.INVALID_HANDLE, 'handle closed');
    if (this.isDirectory) fail(Status.INVALID_PARAMETER, 'a directory is never sparse');
    if (!this.sparseFiles) fail(Status.INVALID_DEVICE_REQUEST, 'sparse files need user xattrs');
    if (modifies && this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'read-only share');
    return this.fd;
  }

  async setSparse(sparse: boolean): Promise<void> {
    const fd = this.sparseFd(true);
    const st = await this.fstat();
    try {
      storeSparse({ fd }, st, sparse);
    } catch (err) {
      throw toNtStatusError(err);
    }
    if (!sparse && this.canWrite) fillHoles(fd, st.size);
  }

  async zeroRange(start: bigint, end: bigint): Promise<void> {
    const fd = this.sparseFd(true);
    if (!this.canWrite) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    toPosition(start);
    toPosition(end);
    if (end <= start) return;
    let done: boolean;
    try {
      done = zeroInPlace(fd, start, end, isSparse({ fd }));
    } catch (err) {
      throw toNtStatusError(err);
    }
    if (done) return;
    const zeros = Buffer.alloc(Number(end - start < ZERO_CHUNK ? end - start : ZERO_CHUNK));
    for (let pos = start; pos < end; ) {
      const n = end - pos < ZERO_CHUNK ? Number(end - pos) : zeros.length;
      await this.write(zeros.subarray(0, n), pos);
      pos += BigInt(n);
    }
  }

  async allocatedRanges(start: bigint, end: bigint): Promise<ByteRange[]> {
    const fd = this.sparseFd(false);
    if (end <= start) return [];
    try {
      return dataRanges(fd, start, end);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async sync(): Promise<void> {
    await this.io((fd) => viaCallback<void>((cb) => fs.fsync(fd, (err) => cb(err, undefined))));
  }

  private async fstat() {
    if (this.closed) fail(Status.INVALID_HANDLE, 'handle closed');
    try {
      return await this.ops.fstat(this.fd);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async stat(): Promise<FileStat> {
    // By descriptor: still right after the file was renamed or replaced under its old name.
    const st = await this.fstat();
    return this.toFileStat(st, { fd: this.fd });
  }

  /** By descriptor, like stat: the streams and EAs of this very file, wherever it has moved. */
  extras(): ExtraStore {
    if (this.closed) fail(Status.INVALID_HANDLE, 'handle closed');
    return new XattrExtraStore({ fd: this.fd });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    try {
      await this.ops.close(this.fd);
    } catch (err) {
      throw toNtStatusError(err);
    }
  }
}

/**
 * An object opened for neither reading nor writing (attributes, delete) whose data the server
 * user may not open: no descriptor is kept, stat goes by path.
 */
export class PosixPathHandle implements VfsHandle {
  constructor(
    readonly path: string,
    private readonly realPath: string,
    readonly isDirectory: boolean,
    private readonly ops: MetaOps,
    private readonly toFileStat: StatMapper,
  ) {}

  async read(): Promise<number> {
    fail(this.isDirectory ? Status.INVALID_DEVICE_REQUEST : Status.ACCESS_DENIED);
  }

  async write(): Promise<number> {
    fail(this.isDirectory ? Status.FILE_IS_A_DIRECTORY : Status.ACCESS_DENIED);
  }

  async truncate(): Promise<void> {
    fail(this.isDirectory ? Status.FILE_IS_A_DIRECTORY : Status.ACCESS_DENIED);
  }

  async sync(): Promise<void> {}

  async stat(): Promise<FileStat> {
    try {
      return this.toFileStat(await this.ops.stat(this.realPath), { path: this.realPath });
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  extras(): ExtraStore {
    return new XattrExtraStore({ path: this.realPath, follow: false });
  }

  async close(): Promise<void> {}
}
