/**
 * The backend interface: everything the SMB layer needs from a file system, nothing about SMB.
 * Paths are share-relative, '/'-separated, without a leading slash ('' is the share root).
 * Backends throw NtStatusError (see src/protocol/status.ts) for every failure.
 */

/** FILE_ATTRIBUTE_* values ([MS-FSCC] 2.6). */
export const FileAttribute = {
  READONLY: 0x1,
  HIDDEN: 0x2,
  SYSTEM: 0x4,
  DIRECTORY: 0x10,
  ARCHIVE: 0x20,
  NORMAL: 0x80,
  TEMPORARY: 0x100,
  SPARSE_FILE: 0x200,
  REPARSE_POINT: 0x400,
  COMPRESSED: 0x800,
  OFFLINE: 0x1000,
  NOT_CONTENT_INDEXED: 0x2000,
  ENCRYPTED: 0x4000,
} as const;

export interface FileStat {
  isDirectory: boolean;
  /** End of file, bytes. */
  size: bigint;
  /** Allocation size, bytes (blocks * 512, rounded up to the cluster size). */
  allocationSize: bigint;
  /** Times as Windows FILETIME (100 ns since 1601-01-01). */
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  /** FILE_ATTRIBUTE_* bits, DIRECTORY set for directories, NORMAL when nothing else is set. */
  attributes: number;
  /** Stable, unique within the share (inode based). */
  fileId: bigint;
  nlink: number;
  /** FileEaInformation's EaSize, where a directory listing fills it in (0 when absent). */
  eaSize?: number;
}

export interface DirEntry {
  name: string;
  stat: FileStat;
}

export interface FsInfo {
  totalBytes: bigint;
  freeBytes: bigint;
  /** Bytes available to the caller. */
  availableBytes: bigint;
  bytesPerSector: number;
  sectorsPerAllocationUnit: number;
  volumeSerial: number;
  volumeLabel: string;
  fsName: string;
  volumeCreationTime: bigint;
  maxNameLength: number;
  /** FileFsAttributeInformation's FileSystemAttributes; the protocol default when absent. */
  fsAttributes?: number;
}

/** A byte range of a file: `length` bytes from `offset`. */
export interface ByteRange {
  offset: bigint;
  length: bigint;
}

export interface OpenFlags {
  read: boolean;
  write: boolean;
}

/** An open file or directory in the backend. */
export interface VfsHandle {
  readonly path: string;
  readonly isDirectory: boolean;
  /** Reads into buf[bufOffset..bufOffset+length) from file position; returns bytes read (0 at EOF). */
  read(buf: Buffer, bufOffset: number, length: number, position: bigint): Promise<number>;
  /**
   * A kernel descriptor of the file for a READ sent with sendfile, which the handle keeps open
   * (close waits) until `release`. Optional: backends without one are read into memory.
   */
  pinForRead?(): ReadPin | undefined;
  /** Writes all of data at position; returns bytes written. */
  write(data: Buffer, position: bigint): Promise<number>;
  truncate(size: bigint): Promise<void>;
  /** FileAllocationInformation: below the end of file truncates; above it reserves space where it can. */
  setAllocationSize?(size: bigint): Promise<void>;
  sync(): Promise<void>;
  stat(): Promise<FileStat>;
  close(): Promise<void>;
  /** Named streams and EAs of the file this handle has open; follows the file through renames. */
  extras?(): ExtraStore;
  /**
   * Sparse files (FSCTL_SET_SPARSE, _SET_ZERO_DATA, _QUERY_ALLOCATED_RANGES). Optional, all three or
   * none; a backend that has them says so with FILE_SUPPORTS_SPARSE_FILES in FsInfo.fsAttributes.
   *
   * setSparse marks the file sparse or not: FILE_ATTRIBUTE_SPARSE_FILE in its attributes from then
   * on, kept with the DOS attributes. Clearing it allocates the file's holes where the storage can.
   * Directories: INVALID_PARAMETER.
   */
  setSparse?(sparse: boolean): Promise<void>;
  /**
   * Zeroes [start, end) without moving the end of file (the caller clips `end` to it). On a sparse
   * file the range is deallocated where the storage can (whole blocks only); otherwise it stays
   * allocated.
   */
  zeroRange?(start: bigint, end: bigint): Promise<void>;
  /**
   * The parts of [start, end) that are allocated (hold data), in order and merged, clipped to
   * [start, end); the caller clips `end` to the end of file. Granularity is the storage's block.
   */
  allocatedRanges?(start: bigint, end: bigint): Promise<ByteRange[]>;
}

/**
 * What a file keeps beside its data, separate namespaces: named streams, extended attributes, and
 * 'ntacl', the NT security descriptor record (src/security/stored-sd.ts) under the one name ''.
 */
export type ExtraKind = 'stream' | 'ea' | 'ntacl';

export interface ExtraEntry {
  /** As stored (case preserved); callers compare names case-insensitively. */
  name: string;
  size: number;
}

/**
 * Named values of one file, by kind. Calls are synchronous (one system call each on the POSIX
 * backend), so a read-modify-write of a value cannot interleave with another. Failures are
 * NtStatusError; a value beyond what the storage can hold is DISK_FULL (ext4 keeps about 4 KB of
 * xattrs per file in all).
 */
export interface ExtraStore {
  list(kind: ExtraKind): ExtraEntry[];
  /** The value, or null when there is none by that exact name. */
  get(kind: ExtraKind, name: string): Buffer | null;
  set(kind: ExtraKind, name: string, value: Buffer): void;
  /** Removing a missing value is not an error. */
  remove(kind: ExtraKind, name: string): void;
}

export interface SetTimes {
  creationTime?: bigint;
  lastAccessTime?: bigint;
  lastWriteTime?: bigint;
  changeTime?: bigint;
}

/** A change seen under a watched directory; `name` is relative to it, '/'-separated. */
export interface ChangeEvent {
  /** 'renamed-old' and 'renamed-new' come in that order, for a rename within one directory. */
  kind: 'added' | 'removed' | 'modified' | 'renamed-old' | 'renamed-new';
  name: string;
  /** Undefined when not known: an entry gone before the watch could look at it. */
  isDirectory: boolean | undefined;
}

export interface Watch {
  close(): void;
}

/** A file's descriptor held open for a READ answered outside the handle (see VfsHandle.pinForRead). */
export interface ReadPin {
  fd: number;
  /** Reads up to `length` bytes at `position` into `buf`; fewer only at end of file. */
  read(buf: Buffer, length: number, position: bigint): Promise<number>;
  release(): void;
}

export interface Backend {
  /**
   * Watches a directory (and below it when recursive) for changes; optional: a backend without it
   * answers CHANGE_NOTIFY with STATUS_NOT_SUPPORTED. `onOverflow` reports lost events.
   */
  watch?(path: string, recursive: boolean, onChange: (e: ChangeEvent) => void, onOverflow: () => void): Promise<Watch>;
  /** Stat of a path; null when it does not exist. Throws OBJECT_PATH_NOT_FOUND when a parent is missing. */
  stat(path: string): Promise<FileStat | null>;
  /**
   * Case-insensitive lookup as Windows clients expect: returns the path as it exists on disk,
   * or null when no such entry exists (the parent must exist, else OBJECT_PATH_NOT_FOUND).
   */
  resolveCase(path: string): Promise<string | null>;
  /** Opens an existing file or directory. */
  open(path: string, flags: OpenFlags): Promise<VfsHandle>;
  /**
   * Creates a new file (fails with OBJECT_NAME_COLLISION if it exists) and opens it. A new file is
   * never sparse: SPARSE_FILE in `attributes` is ignored, as Windows does.
   */
  createFile(path: string, flags: OpenFlags, attributes: number): Promise<VfsHandle>;
  mkdir(path: string, attributes: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string, replaceIfExists: boolean): Promise<void>;
  /** The entries of a directory with their stats (readdirNames, then statListed). */
  readdir(path: string): Promise<DirEntry[]>;
  /** The names in a directory, without `.` and `..`; nothing is statted. */
  readdirNames(path: string): Promise<string[]>;
  /**
   * Stats of entries of directory `dir`, in the order asked, as a listing shows them: null for one
   * gone by now, or hidden (a dangling symlink, or one leading out of the share). A listing stats
   * each entry when it sends it, so one removed in mid-listing is not reported.
   */
  statListed(dir: string, names: readonly string[]): Promise<(FileStat | null)[]>;
  setTimes(path: string, times: SetTimes): Promise<void>;
  /**
   * Sets the DOS attributes (READONLY, HIDDEN, SYSTEM, ARCHIVE, ...); DIRECTORY is ignored, and
   * SPARSE_FILE keeps its current value (only VfsHandle.setSparse changes it, as on Windows).
   */
  setAttributes(path: string, attributes: number): Promise<void>;
  fsInfo(): Promise<FsInfo>;
  /**
   * Named streams and EAs of an existing file or directory; optional: without it, streams are
   * OBJECT_NAME_INVALID and EAs EAS_NOT_SUPPORTED, as on a file system that keeps neither.
   */
  extras?(path: string): Promise<ExtraStore>;
}

/** What a named pipe reports when asked for file information: an empty, normal file. */
export function pipeStat(fileId = 0n): FileStat {
  return {
    isDirectory: false,
    size: 0n,
    allocationSize: 4096n,
    creationTime: 0n,
    lastAccessTime: 0n,
    lastWriteTime: 0n,
    changeTime: 0n,
    attributes: FileAttribute.NORMAL,
    fileId,
    nlink: 1,
  };
}

/** A directory's entries with their stats, as Backend.readdir gives them: readdirNames, then statListed. */
export async function listWithStats(backend: Pick<Backend, 'readdirNames' | 'statListed'>, path: string): Promise<DirEntry[]> {
  const names = await backend.readdirNames(path);
  const stats = await backend.statListed(path, names);
  return names.flatMap((name, i) => (stats[i] ? [{ name, stat: stats[i]! }] : []));
}
