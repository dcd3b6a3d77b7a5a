import { Access, ShareAccess } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { ByteRangeLocks } from './byte-range.js';

const DATA_READ = Access.FILE_READ_DATA | Access.FILE_EXECUTE;
const DATA_WRITE = Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA;

/** What one open contributes to sharing checks. */
export interface SharingOpen {
  grantedAccess: number;
  shareAccess: number;
}

/** Only data and delete access take part in share-mode checks ([MS-FSA] 2.1.5.1.2.1). */
export function takesPartInSharing(access: number): boolean {
  return (access & (DATA_READ | DATA_WRITE | Access.DELETE)) !== 0;
}

/**
 * Throws STATUS_SHARING_VIOLATION when a new open with (access, share) conflicts with an existing one,
 * in either direction ([MS-FSA] 2.1.5.1.2.1 "Algorithm to Check Sharing Access to an Existing Stream").
 */
export function checkShareAccess(existing: Iterable<SharingOpen>, access: number, share: number): void {
  if (!takesPartInSharing(access)) return;
  for (const o of existing) {
    if (!takesPartInSharing(o.grantedAccess)) continue;
    const conflict =
      ((access & DATA_READ) !== 0 && (o.shareAccess & ShareAccess.READ) === 0) ||
      ((access & DATA_WRITE) !== 0 && (o.shareAccess & ShareAccess.WRITE) === 0) ||
      ((access & Access.DELETE) !== 0 && (o.shareAccess & ShareAccess.DELETE) === 0) ||
      ((o.grantedAccess & DATA_READ) !== 0 && (share & ShareAccess.READ) === 0) ||
      ((o.grantedAccess & DATA_WRITE) !== 0 && (share & ShareAccess.WRITE) === 0) ||
      ((o.grantedAccess & Access.DELETE) !== 0 && (share & ShareAccess.DELETE) === 0);
    if (conflict) fail(Status.SHARING_VIOLATION);
  }
}

/** One file (by backend file id) and everything open on it, across sessions and clients. */
export class FileObject<O extends SharingOpen = SharingOpen> {
  readonly opens = new Set<O>();
  readonly locks = new ByteRangeLocks();
  deletePending = false;
  /** The write time clients are told while a delayed write-time update is pending (src/server/write-time.ts). */
  pinnedWriteTime?: bigint;
  constructor(
    readonly key: string,
    public path: string,
  ) {}
}

/** Per-share table of open files: the one place share modes and delete-pending live. */
export class FileTable<O extends SharingOpen = SharingOpen> {
  private readonly files = new Map<string, FileObject<O>>();

  get(key: string): FileObject<O> | undefined {
    return this.files.get(key);
  }

  acquire(key: string, path: string): FileObject<O> {
    let f = this.files.get(key);
    if (!f) {
      f = new FileObject<O>(key, path);
      this.files.set(key, f);
    }
    return f;
  }

  /** Drops an open; returns true when it was the last one on the file. */
  release(file: FileObject<O>, open: O): boolean {
    file.opens.delete(open);
    if (file.opens.size === 0) {
      this.files.delete(file.key);
      return true;
    }
    return false;
  }

  get size(): number {
    return this.files.size;
  }

  values(): IterableIterator<FileObject<O>> {
    return this.files.values();
  }
}
