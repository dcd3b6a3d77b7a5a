/**
 * Open files and directories of the POSIX backend.
 */
import { promises as fsp } from 'node:fs';
import { Status, fail } from '../protocol/status.js';
import { toNtStatusError } from './errno.js';
import type { StatMapper } from './posix-meta.js';
import { FALLOC_FL_KEEP_SIZE, fallocate, isUnsupported } from '../native/libc.js';
import type { FileStat, VfsHandle } from './types.js';

/** Largest offset fs accepts exactly (Number.MAX_SAFE_INTEGER); beyond it a double would silently round. */
const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);

function toPosition(position: bigint): number {
  if (position < 0n || position > MAX_POSITION) fail(Status.INVALID_PARAMETER, 'file offset out of range');
  return Number(position);
}

/** A file or directory with an open descriptor (directories keep one so stat survives renames). */
export class PosixFileHandle implements VfsHandle {
  private closed = false;

  constructor(
    readonly path: string,
    readonly isDirectory: boolean,
    private readonly fh: fsp.FileHandle,
    private readonly canRead: boolean,
    private readonly canWrite: boolean,
    private readonly readOnlyBackend: boolean,
    private readonly toFileStat: StatMapper,
  ) {}

  /** Reads straight into the caller's buffer: this is the hot path for large READs. */
  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    if (this.isDirectory) fail(Status.INVALID_DEVICE_REQUEST, 'read on a directory');
    if (!this.canRead) fail(Status.ACCESS_DENIED, 'handle not opened for reading');
    if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length) fail(Status.INVALID_PARAMETER);
    const pos = toPosition(position);
    let total = 0;
    try {
      // A regular file returns short only at EOF, but a signal or FUSE may split reads: keep going.
      while (total < length) {
        const { bytesRead } = await this.fh.read(buf, bufOffset + total, length - total, pos + total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
    } catch (err) {
      throw toNtStatusError(err);
    }
    return total;
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    if (this.isDirectory) fail(Status.FILE_IS_A_DIRECTORY, 'write on a directory');
    if (!this.canWrite || this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    const pos = toPosition(position);
    if (pos + data.length > Number.MAX_SAFE_INTEGER) fail(Status.INVALID_PARAMETER, 'write past the largest offset');
    let total = 0;
    try {
      while (total < data.length) {
        const { bytesWritten } = await this.fh.write(data, total, data.length - total, pos + total);
        if (bytesWritten === 0) fail(Status.DISK_FULL);
        total += bytesWritten;
      }
    } catch (err) {
      throw toNtStatusError(err);
    }
    return total;
  }

  async truncate(size: bigint): Promise<void> {
    if (this.isDirectory) fail(Status.FILE_IS_A_DIRECTORY, 'truncate on a directory');
    if (!this.canWrite || this.readOnlyBackend) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    const len = toPosition(size);
    try {
      await this.fh.truncate(len);
    } catch (err) {
      throw toNtStatusError(err);
    }
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
    let st;
    try {
      st = await this.fh.stat({ bigint: true });
    } catch (err) {
      throw toNtStatusError(err);
    }
    if (size < st.size) return this.truncate(size);
    if (size === 0n || st.blocks * 512n >= size) return;
    try {
      fallocate(this.fh.fd, FALLOC_FL_KEEP_SIZE, 0n, size);
    } catch (err) {
      if (!isUnsupported(err)) throw toNtStatusError(err);
    }
  }

  async sync(): Promise<void> {
    try {
      await this.fh.sync();
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async stat(): Promise<FileStat> {
    try {
      // By descriptor: still right after the file was renamed or replaced under its old name.
      return this.toFileStat(await this.fh.stat({ bigint: true }), { fd: this.fh.fd });
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.fh.close();
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
      return this.toFileStat(await fsp.stat(this.realPath, { bigint: true }), { path: this.realPath });
    } catch (err) {
      throw toNtStatusError(err);
    }
  }

  async close(): Promise<void> {}
}
