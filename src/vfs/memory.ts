/**
 * In-memory backend: the same semantics as PosixBackend (case-insensitive, case-preserving,
 * NTSTATUS failures) without touching the disk. For tests and embedding.
 */
import { Status, fail } from '../protocol/status.js';
import { DEFAULT_FS_ATTRIBUTES, FsAttribute, STREAMS_AND_EAS } from '../protocol/fscc/constants.js';
import { foldName } from './paths.js';
import { FILETIME_UNIX_EPOCH } from './posix-stat.js';
import { MapExtraStore } from './map-extras.js';
import { eaSizeFromEntries } from './ea-size.js';
import { addExtent, clipExtents, removeExtent, type Extent } from './extents.js';
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
  type ExtraStore,
  type ByteRange,
} from './types.js';

interface Meta {
  id: bigint;
  attributes: number;
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  /** Named streams and EAs. */
  extras: MapExtraStore;
}

interface FileNode extends Meta {
  kind: 'file';
  data: Buffer;
  size: number;
  /** Present while the file is sparse: its allocated blocks (a non-sparse file is allocated to EOF). */
  allocated?: Extent[];
}

interface DirNode extends Meta {
  kind: 'dir';
  children: Map<string, Node>;
}

type Node = FileNode | DirNode;

const DOS_ATTRIBUTES =
  FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE;
const ALLOCATION_UNIT = 4096n;
const BLOCK = Number(ALLOCATION_UNIT);

function blockFloor(n: number): number {
  return Math.floor(n / BLOCK) * BLOCK;
}

function blockCeil(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

function now(): bigint {
  return FILETIME_UNIX_EPOCH + BigInt(Date.now()) * 10_000n;
}

export interface MemoryBackendOptions {
  readOnly?: boolean;
  /** Capacity reported by fsInfo and enforced on writes. */
  capacityBytes?: bigint;
}

export class MemoryBackend implements Backend {
  private nextId = 1n;
  private readonly root: DirNode;
  private used = 0n;
  readonly readOnly: boolean;
  private readonly capacity: bigint;

  constructor(opts: MemoryBackendOptions = {}) {
    this.readOnly = opts.readOnly === true;
    this.capacity = opts.capacityBytes ?? 1n << 30n;
    this.root = { kind: 'dir', children: new Map(), ...this.newMeta(FileAttribute.DIRECTORY) };
  }

  private newMeta(attributes: number): Meta {
    const t = now();
    return { id: this.nextId++, attributes, creationTime: t, lastAccessTime: t, lastWriteTime: t, changeTime: t, extras: new MapExtraStore() };
  }

  private parts(path: string): string[] {
    if (path === '') return [];
    const parts = path.split('/');
    for (const p of parts) if (p === '' || p === '.' || p === '..') fail(Status.OBJECT_NAME_INVALID);
    return parts;
  }

  private static find(dir: DirNode, name: string): [string, Node] | undefined {
    const exact = dir.children.get(name);
    if (exact) return [name, exact];
    const wanted = foldName(name);
    for (const entry of dir.children) if (foldName(entry[0]) === wanted) return entry;
    return undefined;
  }

  /** Parent directory, the leaf as requested, and the existing entry if any. */
  private locate(path: string): { parent: DirNode; leaf: string; found?: [string, Node]; onDisk: string } {
    const parts = this.parts(path);
    if (parts.length === 0) fail(Status.ACCESS_DENIED, 'the share root is not an entry');
    let dir = this.root;
    const onDisk: string[] = [];
    for (const part of parts.slice(0, -1)) {
      const hit = MemoryBackend.find(dir, part);
      if (!hit || hit[1].kind !== 'dir') fail(Status.OBJECT_PATH_NOT_FOUND);
      dir = hit[1];
      onDisk.push(hit[0]);
    }
    const leaf = parts[parts.length - 1]!;
    const found = MemoryBackend.find(dir, leaf);
    onDisk.push(found ? found[0] : leaf);
    return { parent: dir, leaf, found, onDisk: onDisk.join('/') };
  }

  private node(path: string): Node | null {
    if (this.parts(path).length === 0) return this.root;
    return this.locate(path).found?.[1] ?? null;
  }

  private existing(path: string): Node {
    const n = this.node(path);
    if (!n) fail(Status.OBJECT_NAME_NOT_FOUND);
    return n;
  }

  private refuseIfReadOnly(): void {
    if (this.readOnly) fail(Status.ACCESS_DENIED, 'read-only share');
  }

  static statOf(n: Node): FileStat {
    const isDirectory = n.kind === 'dir';
    const size = n.kind === 'file' ? BigInt(n.size) : 0n;
    let attrs = isDirectory ? FileAttribute.DIRECTORY : n.attributes & DOS_ATTRIBUTES;
    let allocationSize = ((size + ALLOCATION_UNIT - 1n) / ALLOCATION_UNIT) * ALLOCATION_UNIT;
    if (n.kind === 'file' && n.allocated) {
      attrs |= FileAttribute.SPARSE_FILE;
      allocationSize = BigInt(n.allocated.reduce((sum, [a, b]) => sum + b - a, 0));
    }
    return {
      isDirectory,
      size,
      allocationSize,
      creationTime: n.creationTime,
      lastAccessTime: n.lastAccessTime,
      lastWriteTime: n.lastWriteTime,
      changeTime: n.changeTime,
      attributes: attrs === 0 ? FileAttribute.NORMAL : attrs,
      fileId: n.id,
      nlink: 1,
    };
  }

  async stat(path: string): Promise<FileStat | null> {
    const n = this.node(path);
    return n ? MemoryBackend.statOf(n) : null;
  }

  async resolveCase(path: string): Promise<string | null> {
    if (this.parts(path).length === 0) return '';
    const loc = this.locate(path);
    return loc.found ? loc.onDisk : null;
  }

  async open(path: string, flags: OpenFlags): Promise<VfsHandle> {
    if (flags.write) this.refuseIfReadOnly();
    const n = this.existing(path);
    if (n.kind === 'file' && flags.write && n.attributes & FileAttribute.READONLY) fail(Status.ACCESS_DENIED);
    return new MemoryHandle(this, path, n, flags);
  }

  async createFile(path: string, flags: OpenFlags, attributes: number): Promise<VfsHandle> {
    this.refuseIfReadOnly();
    const loc = this.locate(path);
    if (loc.found) fail(Status.OBJECT_NAME_COLLISION);
    const meta = this.newMeta(((attributes & DOS_ATTRIBUTES) | FileAttribute.ARCHIVE) >>> 0);
    const n: FileNode = { kind: 'file', data: Buffer.alloc(0), size: 0, ...meta };
    loc.parent.children.set(loc.leaf, n);
    return new MemoryHandle(this, loc.onDisk, n, flags);
  }

  async mkdir(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const loc = this.locate(path);
    if (loc.found) fail(Status.OBJECT_NAME_COLLISION);
    loc.parent.children.set(loc.leaf, { kind: 'dir', children: new Map(), ...this.newMeta(FileAttribute.DIRECTORY) });
  }

  async rmdir(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const loc = this.locate(path);
    if (!loc.found) fail(Status.OBJECT_NAME_NOT_FOUND);
    const n = loc.found[1];
    if (n.kind !== 'dir') fail(Status.NOT_A_DIRECTORY);
    if (n.children.size > 0) fail(Status.DIRECTORY_NOT_EMPTY);
    loc.parent.children.delete(loc.found[0]);
  }

  async unlink(path: string): Promise<void> {
    this.refuseIfReadOnly();
    const loc = this.locate(path);
    if (!loc.found) fail(Status.OBJECT_NAME_NOT_FOUND);
    if (loc.found[1].kind === 'dir') fail(Status.FILE_IS_A_DIRECTORY);
    this.used -= BigInt((loc.found[1] as FileNode).data.length);
    loc.parent.children.delete(loc.found[0]);
  }

  async rename(from: string, to: string, replaceIfExists: boolean): Promise<void> {
    this.refuseIfReadOnly();
    const src = this.locate(from);
    if (!src.found) fail(Status.OBJECT_NAME_NOT_FOUND);
    const dst = this.locate(to);
    const moving = src.found[1];
    if (dst.found && dst.found[1] !== moving) {
      if (!replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
      if (dst.found[1].kind === 'dir') fail(Status.ACCESS_DENIED, 'rename target is a directory');
    }
    if (moving.kind === 'dir' && this.contains(moving, dst.parent)) fail(Status.INVALID_PARAMETER);
    src.parent.children.delete(src.found[0]);
    if (dst.found) dst.parent.children.delete(dst.found[0]);
    dst.parent.children.set(dst.leaf, moving);
    moving.changeTime = now();
  }

  private contains(dir: DirNode, target: DirNode): boolean {
    if (dir === target) return true;
    for (const child of dir.children.values()) if (child.kind === 'dir' && this.contains(child, target)) return true;
    return false;
  }

  readdir(path: string): Promise<DirEntry[]> {
    return listWithStats(this, path);
  }

  async readdirNames(path: string): Promise<string[]> {
    const n = this.existing(path);
    if (n.kind !== 'dir') fail(Status.NOT_A_DIRECTORY);
    return [...n.children.keys()];
  }

  async statListed(dir: string, names: readonly string[]): Promise<(FileStat | null)[]> {
    let n: Node | null = null;
    try {
      n = this.node(dir);
    } catch {
      // The directory itself is gone: so are its entries.
    }
    return names.map((name) => {
      const child = n?.kind === 'dir' ? n.children.get(name) : undefined;
      return child ? { ...MemoryBackend.statOf(child), eaSize: eaSizeFromEntries(child.extras.list('ea')) } : null;
    });
  }

  async setTimes(path: string, times: SetTimes): Promise<void> {
    this.refuseIfReadOnly();
    const n = this.existing(path);
    // Unlike POSIX, memory can keep all four times.
    if (times.creationTime !== undefined && times.creationTime > 0n) n.creationTime = times.creationTime;
    if (times.lastAccessTime !== undefined && times.lastAccessTime > 0n) n.lastAccessTime = times.lastAccessTime;
    if (times.lastWriteTime !== undefined && times.lastWriteTime > 0n) n.lastWriteTime = times.lastWriteTime;
    if (times.changeTime !== undefined && times.changeTime > 0n) n.changeTime = times.changeTime;
  }

  async setAttributes(path: string, attributes: number): Promise<void> {
    this.refuseIfReadOnly();
    const n = this.existing(path);
    if (n.kind === 'dir') return;
    n.attributes = attributes & DOS_ATTRIBUTES;
    n.changeTime = now();
  }

  async extras(path: string): Promise<ExtraStore> {
    return this.existing(path).extras;
  }

  async fsInfo(): Promise<FsInfo> {
    const free = this.capacity > this.used ? this.capacity - this.used : 0n;
    return {
      totalBytes: this.capacity,
      freeBytes: free,
      availableBytes: free,
      bytesPerSector: 512,
      sectorsPerAllocationUnit: Number(ALLOCATION_UNIT / 512n),
      volumeSerial: 0x4d454d31,
      volumeLabel: '',
      fsName: 'NTFS',
      volumeCreationTime: this.root.creationTime,
      maxNameLength: 255,
      fsAttributes: DEFAULT_FS_ATTRIBUTES | STREAMS_AND_EAS | FsAttribute.SUPPORTS_SPARSE_FILES,
    };
  }

  /** Grows a file's buffer, charging the capacity. */
  reserve(n: FileNode, size: number): void {
    if (size <= n.data.length) return;
    const cap = Math.max(size, n.data.length * 2, 4096);
    const extra = BigInt(cap - n.data.length);
    if (this.used + extra > this.capacity) fail(Status.DISK_FULL);
    const grown = Buffer.alloc(cap);
    n.data.copy(grown, 0, 0, n.size);
    n.data = grown;
    this.used += extra;
  }
}

class MemoryHandle implements VfsHandle {
  readonly isDirectory: boolean;

  constructor(
    private readonly backend: MemoryBackend,
    readonly path: string,
    private readonly node: Node,
    private readonly flags: OpenFlags,
  ) {
    this.isDirectory = node.kind === 'dir';
  }

  private file(forWrite: boolean): FileNode {
    if (this.node.kind === 'dir') fail(forWrite ? Status.FILE_IS_A_DIRECTORY : Status.INVALID_DEVICE_REQUEST);
    if (forWrite ? !this.flags.write || this.backend.readOnly : !this.flags.read) fail(Status.ACCESS_DENIED);
    return this.node;
  }

  async read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number> {
    const n = this.file(false);
    if (bufOffset < 0 || length < 0 || bufOffset + length > buf.length || position < 0n) fail(Status.INVALID_PARAMETER);
    if (position >= BigInt(n.size)) return 0;
    const pos = Number(position);
    const count = Math.min(length, n.size - pos);
    n.data.copy(buf, bufOffset, pos, pos + count);
    return count;
  }

  async write(data: Buffer, position: bigint): Promise<number> {
    const n = this.file(true);
    if (position < 0n || position + BigInt(data.length) > BigInt(2 ** 40)) fail(Status.INVALID_PARAMETER);
    const pos = Number(position);
    this.backend.reserve(n, pos + data.length);
    data.copy(n.data, pos);
    if (n.allocated && data.length) n.allocated = addExtent(n.allocated, blockFloor(pos), blockCeil(pos + data.length));
    n.size = Math.max(n.size, pos + data.length);
    n.lastWriteTime = n.changeTime = now();
    return data.length;
  }

  async truncate(size: bigint): Promise<void> {
    const n = this.file(true);
    if (size < 0n || size > BigInt(2 ** 40)) fail(Status.INVALID_PARAMETER);
    const len = Number(size);
    this.backend.reserve(n, len);
    if (len < n.size) n.data.fill(0, len, n.size);
    if (n.allocated) n.allocated = removeExtent(n.allocated, blockCeil(len), Infinity);
    n.size = len;
    n.lastWriteTime = n.changeTime = now();
  }

  /** The file, for the sparse-file calls: directories are never sparse. */
  private sparseFile(modifies: boolean): FileNode {
    if (this.node.kind === 'dir') fail(Status.INVALID_PARAMETER, 'a directory is never sparse');
    if (modifies && this.backend.readOnly) fail(Status.ACCESS_DENIED);
    return this.node;
  }

  async setSparse(sparse: boolean): Promise<void> {
    const n = this.sparseFile(true);
    if (sparse && !n.allocated) n.allocated = n.size > 0 ? [[0, blockCeil(n.size)]] : [];
    // Memory holes read as zeros and cost nothing to fill: clearing just forgets them.
    if (!sparse) delete n.allocated;
    n.changeTime = now();
  }

  async zeroRange(start: bigint, end: bigint): Promise<void> {
    const n = this.sparseFile(true);
    if (!this.flags.write) fail(Status.ACCESS_DENIED);
    if (start < 0n || end <= start || start >= BigInt(n.size)) return;
    const s = Number(start);
    const e = Math.min(Number(end), n.size);
    n.data.fill(0, s, e);
    // Whole blocks are freed; the last block of the file counts as whole when the range reaches EOF.
    if (n.allocated) n.allocated = removeExtent(n.allocated, blockCeil(s), e >= n.size ? blockCeil(e) : blockFloor(e));
    n.lastWriteTime = n.changeTime = now();
  }

  async allocatedRanges(start: bigint, end: bigint): Promise<ByteRange[]> {
    const n = this.sparseFile(false);
    const s = Number(start);
    const e = Math.min(Number(end), n.size);
    if (e <= s) return [];
    const extents = n.allocated ? clipExtents(n.allocated, s, e) : [[s, e] as Extent];
    return extents.map(([a, b]) => ({ offset: BigInt(a), length: BigInt(b - a) }));
  }

  async sync(): Promise<void> {}

  async stat(): Promise<FileStat> {
    return MemoryBackend.statOf(this.node);
  }

  extras(): ExtraStore {
    return this.node.extras;
  }

  async close(): Promise<void> {}
}
