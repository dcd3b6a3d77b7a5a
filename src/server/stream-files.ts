/**
 * Opens of named streams in the share's file table, and what ties them to their file.
 *
 * A stream open is a file object of its own for sharing, oplocks and leases, keyed
 * `<file id>:<folded stream name>` beside the file's `<file id>`. What crosses between them, as
 * on Windows (smbtorture smb2.streams.delete):
 * - opening the file with DELETE access fails while a stream is open without FILE_SHARE_DELETE;
 * - a file whose delete is pending stays, name and all, until its last stream open is closed too,
 *   and opening it or any of its streams meanwhile answers DELETE_PENDING;
 * - a file with open streams cannot be renamed.
 */
import { NtStatusError, Status, fail } from '../protocol/status.js';
import { Access, ShareAccess } from '../protocol/constants.js';
import { checkShareAccess, type FileObject } from '../locking/share-modes.js';
import { foldName } from '../vfs/paths.js';
import type { Open } from './state/open.js';
import type { Share } from './shares.js';

const ALL_SHARE = ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE;

export function streamFileKey(baseKey: string, stream: string): string {
  return `${baseKey}:${foldName(stream)}`;
}

/** File objects of the file's streams that have opens. */
export function openStreamFiles(share: Share, baseKey: string): FileObject<Open>[] {
  const prefix = `${baseKey}:`;
  const out: FileObject<Open>[] = [];
  for (const f of share.files.values()) if (f.key.startsWith(prefix)) out.push(f);
  return out;
}

/** An open of the file with DELETE access must be shared by every open of its streams. */
export function checkStreamsAllowDelete(share: Share, baseKey: string, access: number): void {
  if (!(access & Access.DELETE)) return;
  for (const f of openStreamFiles(share, baseKey)) {
    checkShareAccess([...f.opens].filter((o) => !o.closed), Access.DELETE, ALL_SHARE);
  }
}

/** Files whose delete waits for their streams' opens to close, per share: key -> what to remove. */
const waitingDeletes = new WeakMap<Share, Map<string, { path: string; isDirectory: boolean }>>();

export function isDeleteWaiting(share: Share, baseKey: string): boolean {
  return waitingDeletes.get(share)?.has(baseKey) ?? false;
}

/** A delete is pending on the file or, for a stream, on the file it belongs to. */
export function deletePendingFor(share: Share, baseKey: string): boolean {
  return (share.files.get(baseKey)?.deletePending ?? false) || isDeleteWaiting(share, baseKey);
}

/**
 * Runs the removal a pending delete asked for. A name already gone is fine. So is a directory that
 * is not empty when its last open closes: it was empty when the delete was asked for (SET_INFO
 * checks), or the delete came with the open (DELETE_ON_CLOSE), and Windows then keeps the directory
 * and answers the CLOSE with success (smbtorture's smb2.notify.mask-change checks that status; its
 * raw.unlink opens a full directory delete-on-close and finds it still there after the close).
 */
async function removeQuietly(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof NtStatusError)) throw err;
    if (err.status !== Status.OBJECT_NAME_NOT_FOUND && err.status !== Status.DIRECTORY_NOT_EMPTY) throw err;
  }
}

/**
 * What the last close of a file object does when a delete is pending on it: a stream is removed
 * from its file; a file is removed, or, while streams of it are open, once the last of them closes.
 */
export async function afterLastClose(share: Share, open: Open, file: FileObject<Open>): Promise<void> {
  const backend = share.backend;
  if (!backend) return;
  if (open.stream !== undefined) {
    const baseKey = file.key.slice(0, file.key.indexOf(':'));
    if (file.deletePending && backend.extras) {
      const stream = open.stream;
      await removeQuietly(async () => (await backend.extras!(file.path)).remove('stream', stream));
    }
    const waiting = waitingDeletes.get(share)?.get(baseKey);
    if (waiting && openStreamFiles(share, baseKey).length === 0 && !share.files.get(baseKey)) {
      waitingDeletes.get(share)!.delete(baseKey);
      await removeQuietly(() => (waiting.isDirectory ? backend.rmdir(waiting.path) : backend.unlink(waiting.path)));
    }
    return;
  }
  if (!file.deletePending) return;
  if (openStreamFiles(share, file.key).length > 0) {
    let m = waitingDeletes.get(share);
    if (!m) waitingDeletes.set(share, (m = new Map()));
    m.set(file.key, { path: file.path, isDirectory: open.isDirectory });
    return;
  }
  await removeQuietly(() => (open.isDirectory ? backend.rmdir(file.path) : backend.unlink(file.path)));
}

/** A file with open streams keeps its name (smb2.streams.basefile-rename-with-open-stream). */
export function refuseRenameWithOpenStreams(share: Share, baseKey: string): void {
  if (openStreamFiles(share, baseKey).length > 0) fail(Status.ACCESS_DENIED, 'streams of the file are open');
}
