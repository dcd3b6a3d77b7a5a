import { Access, InfoType, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import {
  decodeFileBasicInformation,
  decodeFileRenameInformation,
  decodeFileDispositionInformation,
  decodeFileEndOfFileInformation,
  decodeFileAllocationInformation,
  decodeFilePositionInformation,
  decodeFileModeInformation,
} from '../protocol/fscc/index.js';
import { normalizeSmbPath } from '../vfs/paths.js';
import { FileAttribute } from '../vfs/types.js';
import type { Open } from '../server/state/open.js';
import type { FileObject } from '../locking/share-modes.js';
import { breakHandleLeasesForRename, breakLevelIIOthers } from '../locking/oplocks.js';
import { waitOrAbort } from './create.js';
import { sendOplockBreak } from '../server/breaks.js';
import { writeTimeOf } from '../server/write-time.js';
import type { Reply, Request } from '../server/request.js';
import { refuseRenameWithOpenStreams } from '../server/stream-files.js';
import { renameStream, setEas } from './stream-set-info.js';
import { setSecurity } from './security-descriptor.js';

const b = SMB2_HEADER_SIZE;

const FileInfoClass = {
  Basic: 4,
  Rename: 10,
  Disposition: 13,
  Position: 14,
  FullEa: 15,
  Mode: 16,
  Allocation: 19,
  EndOfFile: 20,
  DispositionEx: 64,
} as const;

/** SET_INFO ([MS-SMB2] 2.2.39, 3.3.5.21). */
export async function setInfo(req: Request): Promise<Reply> {
  const r = req.r;
  const infoType = r.u8(b + 2);
  const infoClass = r.u8(b + 3);
  const length = r.u32(b + 4);
  const offset = r.u16(b + 8);
  const open = req.open(b + 16);
  const data = r.bytes(offset, length);
  if (open.pipe) fail(Status.NOT_SUPPORTED);
  if (open.tree.share.config.readOnly && infoType !== InfoType.FILE) fail(Status.ACCESS_DENIED);
  switch (infoType) {
    case InfoType.FILE:
      await setFileInfo(req, open, infoClass, data);
      break;
    case InfoType.FILESYSTEM:
      fail(Status.NOT_SUPPORTED);
    case InfoType.SECURITY:
      await setSecurity(open, r.u32(b + 12), data);
      break;
    default:
      fail(Status.INVALID_PARAMETER);
  }
  const out = Buffer.alloc(2);
  out.writeUInt16LE(2, 0);
  return { body: out };
}

function need(open: Open, bits: number): void {
  if (!(open.grantedAccess & bits)) fail(Status.ACCESS_DENIED);
}

async function setFileInfo(req: Request, open: Open, infoClass: number, data: Buffer): Promise<void> {
  const backend = open.tree.share.backend!;
  const readOnly = open.tree.share.config.readOnly;
  const writes = infoClass !== FileInfoClass.Position && infoClass !== FileInfoClass.Mode;
  if (readOnly && writes) fail(Status.ACCESS_DENIED);
  switch (infoClass) {
    case FileInfoClass.Basic: {
      need(open, Access.FILE_WRITE_ATTRIBUTES);
      const info = decodeFileBasicInformation(data);
      const times = {
        creationTime: info.creationTime,
        lastAccessTime: info.lastAccessTime,
        lastWriteTime: info.lastWriteTime,
        changeTime: info.changeTime,
      };
      // Any basic-information set settles a delayed write-time update first, even one of all-zero times.
      const writeTime = writeTimeOf(open);
      await writeTime?.settle();
      if (info.lastWriteTime !== undefined && info.lastWriteTime > 0n) writeTime?.force(info.lastWriteTime);
      if (times.creationTime || times.lastAccessTime || times.lastWriteTime || times.changeTime) await backend.setTimes(open.path, times);
      if (info.attributes) {
        if (open.isDirectory && info.attributes & FileAttribute.TEMPORARY) fail(Status.INVALID_PARAMETER);
        if (!open.isDirectory && info.attributes & FileAttribute.DIRECTORY) fail(Status.INVALID_PARAMETER);
        await backend.setAttributes(open.path, info.attributes);
      }
      return;
    }
    case FileInfoClass.Rename:
      return rename(req, open, data);
    case FileInfoClass.Disposition: {
      need(open, Access.DELETE);
      const { deletePending } = decodeFileDispositionInformation(data);
      if (deletePending) {
        const st = await open.handle!.stat();
        if (st.attributes & FileAttribute.READONLY) fail(Status.CANNOT_DELETE);
        if (open.isDirectory && (await backend.readdirNames(open.path)).length > 0) fail(Status.DIRECTORY_NOT_EMPTY);
      }
      if (open.file) {
        open.file.deletePending = deletePending;
        // Watches on a directory about to go away end now ([MS-SMB2] 3.3.5.19, as Windows does).
        if (deletePending) for (const o of open.file.opens) o.notify?.failAll(Status.DELETE_PENDING);
      }
      return;
    }
    case FileInfoClass.EndOfFile: {
      need(open, Access.FILE_WRITE_DATA);
      if (open.isDirectory) fail(Status.INVALID_PARAMETER);
      // Changing the size ends read caching of every open, as a write does (smb2.oplock.batch11).
      breakLevelIIOthers(open.file, open, sendOplockBreak);
      await open.handle!.truncate(decodeFileEndOfFileInformation(data));
      await writeTimeOf(open)?.touch();
      return;
    }
    case FileInfoClass.Allocation: {
      need(open, Access.FILE_WRITE_DATA);
      if (open.isDirectory) fail(Status.INVALID_PARAMETER);
      const size = decodeFileAllocationInformation(data);
      breakLevelIIOthers(open.file, open, sendOplockBreak);
      const handle = open.handle!;
      if (handle.setAllocationSize) {
        await handle.setAllocationSize(size);
      } else if (size < (await handle.stat()).size) {
        // A backend without allocation control: below the end of file still truncates.
        await handle.truncate(size);
      }
      await writeTimeOf(open)?.touch();
      return;
    }
    case FileInfoClass.Position:
      open.position = decodeFilePositionInformation(data);
      return;
    case FileInfoClass.Mode:
      open.mode = decodeFileModeInformation(data);
      return;
    case FileInfoClass.FullEa:
      need(open, Access.FILE_WRITE_EA);
      return setEas(open, data);
    default:
      fail(Status.INVALID_INFO_CLASS);
  }
}

async function rename(req: Request, open: Open, data: Buffer): Promise<void> {
  need(open, Access.DELETE);
  const info = decodeFileRenameInformation(data);
  if (info.rootDirectory !== 0n) fail(Status.INVALID_PARAMETER, 'relative rename not supported');
  if (open.stream !== undefined || info.fileName.startsWith(':')) return renameStream(open, info.fileName, info.replaceIfExists);
  const share = open.tree.share;
  if (open.file) refuseRenameWithOpenStreams(share, open.file.key);
  const backend = share.backend!;
  const target = normalizeSmbPath(info.fileName);
  if (target === '') fail(Status.OBJECT_NAME_INVALID);
  if (open.file?.deletePending) fail(Status.DELETE_PENDING);
  refuseIfParentOpenForDelete(share.files.values(), target);
  // Other leases caching a handle give H up first; the rename answers interim meanwhile.
  for (;;) {
    const waits = breakHandleLeasesForRename(open.file, open, sendOplockBreak);
    if (waits.length === 0) break;
    req.goAsync();
    await waitOrAbort(waits, req.signal);
    if (open.closed) fail(Status.FILE_CLOSED);
  }
  await share.pathLocks.run(target.toLowerCase(), async () => {
    const existing = await backend.resolveCase(target);
    const sameFile = existing !== null && existing.toLowerCase() === open.path.toLowerCase();
    if (existing !== null && !sameFile) {
      if (!info.replaceIfExists) fail(Status.OBJECT_NAME_COLLISION);
      const st = await backend.stat(existing);
      if (st?.isDirectory) fail(Status.ACCESS_DENIED, 'cannot replace a directory');
      if (st && share.files.get(String(st.fileId))) fail(Status.ACCESS_DENIED, 'target is open');
      if (st) refuseRenameWithOpenStreams(share, String(st.fileId));
    }
    if (open.isDirectory) {
      const prefix = open.path + '/';
      for (const f of share.files.values()) {
        if (f.path.startsWith(prefix)) fail(Status.ACCESS_DENIED, 'files open below the directory');
      }
    }
    await backend.rename(open.path, target, info.replaceIfExists && !sameFile);
    open.path = target;
    open.fileName = target.replace(/\//g, '\\');
    if (open.file) open.file.path = target;
  });
}

/**
 * Windows refuses to rename into a directory that someone holds open with DELETE access
 * (smbtorture smb2.rename.share_delete_and_delete_access, no_share_delete_but_delete_access).
 */
function refuseIfParentOpenForDelete(files: Iterable<FileObject<Open>>, target: string): void {
  const slash = target.lastIndexOf('/');
  const parent = (slash < 0 ? '' : target.slice(0, slash)).toLowerCase();
  for (const f of files) {
    if (f.path.toLowerCase() !== parent) continue;
    for (const o of f.opens) if (!o.closed && o.isDirectory && o.grantedAccess & Access.DELETE) fail(Status.SHARING_VIOLATION, 'destination directory is open with DELETE access');
  }
}
