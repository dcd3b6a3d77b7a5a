/**
 * An open named stream: its data is one value of the file's ExtraStore, read and rewritten whole
 * (streams live in xattrs, a few KB at most on ext4; 64 KiB is the Linux ceiling). Times,
 * attributes and file id are the file's own, as on NTFS, where a stream has no metadata of its own.
 */
import { Status, fail } from '../protocol/status.js';
import type { ExtraStore, FileStat, OpenFlags, VfsHandle } from './types.js';

/** XATTR_SIZE_MAX: no stream grows past it whatever the file system. */
export const MAX_STREAM_SIZE = 65536;
const ALLOCATION_UNIT = 4096n;

export class StreamHandle implements VfsHandle {
  readonly isDirectory = false;

  constructor(
    readonly path: string,
    /** The file the stream belongs to, opened for metadata only; closed with the stream. */
    private readonly base: VfsHandle,
    private readonly store: ExtraStore,
    /** The stream's name as stored; changes when the stream is renamed. */
    public name: string,
    private readonly flags: OpenFlags,
  ) {}

  /** The stream's data; an empty value when the stream has gone (deleted under a still-open handle). */
  private data(): Buffer {
    return this.store.get('stream', this.name) ?? Buffer.alloc(0);
  }

  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    if (!this.flags.read) fail(Status.ACCESS_DENIED, 'handle not opened for reading');
    if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length || position < 0n) fail(Status.INVALID_PARAMETER);
    const data = this.data();
    if (position >= BigInt(data.length)) return 0;
    const pos = Number(position);
    return data.copy(buf, bufOffset, pos, Math.min(data.length, pos + length));
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    if (!this.flags.write) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    if (position < 0n) fail(Status.INVALID_PARAMETER);
    const end = position + BigInt(data.length);
    if (end > BigInt(MAX_STREAM_SIZE)) fail(Status.DISK_FULL, 'stream larger than an xattr can be');
    const cur = this.data();
    const next = end > BigInt(cur.length) ? Buffer.alloc(Number(end)) : cur;
    if (next !== cur) cur.copy(next);
    data.copy(next, Number(position));
    this.store.set('stream', this.name, next);
    return data.length;
  }

  async truncate(size: bigint): Promise<void> {
    if (!this.flags.write) fail(Status.ACCESS_DENIED, 'handle not opened for writing');
    if (size < 0n) fail(Status.INVALID_PARAMETER);
    if (size > BigInt(MAX_STREAM_SIZE)) fail(Status.DISK_FULL, 'stream larger than an xattr can be');
    const cur = this.data();
    const len = Number(size);
    if (len === cur.length) return;
    const next = Buffer.alloc(len);
    cur.copy(next, 0, 0, Math.min(len, cur.length));
    this.store.set('stream', this.name, next);
  }

  /** Below the end of the stream it truncates; above, there is nothing to reserve. */
  async setAllocationSize(size: bigint): Promise<void> {
    if (size < BigInt(this.data().length)) await this.truncate(size);
  }

  async sync(): Promise<void> {}

  async stat(): Promise<FileStat> {
    const st = await this.base.stat();
    const size = BigInt(this.data().length);
    return {
      ...st,
      isDirectory: false,
      size,
      allocationSize: ((size + ALLOCATION_UNIT - 1n) / ALLOCATION_UNIT) * ALLOCATION_UNIT,
    };
  }

  /** Stat of the file the stream belongs to. */
  baseStat(): Promise<FileStat> {
    return this.base.stat();
  }

  extras(): ExtraStore {
    return this.store;
  }

  async close(): Promise<void> {
    await this.base.close();
  }
}
