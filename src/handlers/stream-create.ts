/**
 * CREATE of a named stream (`file:stream`, `file:stream:$DATA`): the stream is a file object of
 * its own for sharing, oplocks and leases (src/server/stream-files.ts), its data one value of the
 * file's ExtraStore. Creating a stream of a missing file creates the file, as NTFS does.
 */
import { Access, CreateAction, CreateDisposition, CreateOptions, OplockLevel } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { FileAttribute, type ExtraStore, type FileStat } from '../vfs/types.js';
import { StreamHandle } from '../vfs/stream-handle.js';
import { sameStreamName } from '../vfs/stream-names.js';
import { evaluateOpen, grantedOplockLevel, isOplockStatOpen } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import { deletePendingFor, streamFileKey } from '../server/stream-files.js';
import type { Request } from '../server/request.js';
import type { TreeConnect } from '../server/state/tree.js';
import { hasAny } from './access.js';
import { keepsExtras } from './ea-create.js';
import { accessByStoredSd, tokenOf } from './security-descriptor.js';
import {
  arbitrateOpen,
  attachLease,
  checkLeaseFile,
  dropDisconnected,
  encodeResponse,
  flagsFor,
  grantDurable,
  ownerOf,
  registerOpen,
  responseContexts,
  sharingConflict,
  type Attempt,
  type CachingContexts,
  type CreateParams,
} from './create.js';

/** The stored name of a stream, found case-insensitively; undefined when the file has no such stream. */
export function findStream(store: ExtraStore, name: string): string | undefined {
  let found: string | undefined;
  for (const e of store.list('stream')) {
    if (e.name === name) return e.name;
    if (found === undefined && sameStreamName(e.name, name)) found = e.name;
  }
  return found;
}

export function removeAllStreams(store: ExtraStore): void {
  for (const e of store.list('stream')) store.remove('stream', e.name);
}

export async function openStreamOnce(
  req: Request,
  tree: TreeConnect,
  p: CreateParams,
  ctx: CachingContexts,
  path: string,
  access: number,
  firstAttempt: boolean,
): Promise<Attempt> {
  const share = tree.share;
  const backend = share.backend!;
  if (p.options & CreateOptions.DIRECTORY_FILE) fail(Status.NOT_A_DIRECTORY, 'a stream is not a directory');
  // As on a file system without streams (FAT): the name is invalid, and nothing gets created.
  if (!backend.extras || !(await keepsExtras(backend))) fail(Status.OBJECT_NAME_INVALID, 'this share keeps no streams');
  const clientGuid = req.conn.client?.guid ?? '';
  let existing = await backend.resolveCase(path);
  let baseStat: FileStat | null = existing !== null ? await backend.stat(existing) : null;
  let action: number = CreateAction.OPENED;
  if (baseStat === null || existing === null) {
    if (p.disposition === CreateDisposition.OPEN || p.disposition === CreateDisposition.OVERWRITE) fail(Status.OBJECT_NAME_NOT_FOUND);
    if (path === '') fail(Status.OBJECT_NAME_INVALID);
    const made = await backend.createFile(path, { read: false, write: false }, p.fileAttributes & ~FileAttribute.NORMAL);
    baseStat = await made.stat();
    await made.close();
    existing = made.path;
    action = CreateAction.CREATED;
  }
  const baseKey = String(baseStat.fileId);
  if (deletePendingFor(share, baseKey)) fail(Status.DELETE_PENDING);
  const store = await backend.extras(existing);
  const stored = findStream(store, p.stream!);
  const name = stored ?? p.stream!;
  const fileKey = streamFileKey(baseKey, name);
  const leaseIntent = p.oplock === OplockLevel.LEASE && ctx.lease ? { clientGuid, key: ctx.lease.key, state: ctx.lease.state } : undefined;
  if (leaseIntent) checkLeaseFile(req, leaseIntent.key, stored !== undefined ? fileKey : undefined);
  const overwrite =
    p.disposition === CreateDisposition.OVERWRITE || p.disposition === CreateDisposition.OVERWRITE_IF || p.disposition === CreateDisposition.SUPERSEDE;
  // A stream is part of its file: the file's stored DACL decides (making or truncating one writes it).
  if (action === CreateAction.OPENED) {
    const implied = overwrite || stored === undefined ? Access.FILE_WRITE_DATA : 0;
    ({ access } = await accessByStoredSd(backend, existing, tokenOf(req.session), p.desiredAccess, access, tree.maximalAccess, implied));
  }
  let granted = 0;
  if (stored !== undefined) {
    if (p.disposition === CreateDisposition.CREATE) fail(Status.OBJECT_NAME_COLLISION);
    const file = share.files.get(fileKey);
    if (file?.deletePending) fail(Status.DELETE_PENDING);
    const breakAccess = overwrite ? access | Access.FILE_WRITE_DATA : access;
    if (file && !isOplockStatOpen(breakAccess) && (await dropDisconnected(file))) return openStreamOnce(req, tree, p, ctx, path, access, firstAttempt);
    const sharingViolation = sharingConflict(file, access, p.shareAccess);
    const decision = arbitrateOpen(file, p, { breakAccess, leaseIntent, overwrite, sharingViolation, firstAttempt });
    if (decision.waitFor.length) return { wait: decision.waitFor };
    granted = decision.granted;
    if (sharingViolation) fail(Status.SHARING_VIOLATION);
    if (overwrite) action = p.disposition === CreateDisposition.SUPERSEDE ? CreateAction.SUPERSEDED : CreateAction.OVERWRITTEN;
  } else {
    if (p.disposition === CreateDisposition.OPEN || p.disposition === CreateDisposition.OVERWRITE) fail(Status.OBJECT_NAME_NOT_FOUND);
    granted = evaluateOpen(
      undefined,
      { access, oplock: leaseIntent ? OplockLevel.LEASE : p.oplock, lease: leaseIntent, willOverwrite: false, sharingViolation: false, firstAttempt: true },
      sendOplockBreak,
      false,
    ).granted;
    action = CreateAction.CREATED;
  }
  const flags = flagsFor(access, overwrite || stored === undefined);
  if (baseStat.attributes & FileAttribute.READONLY) {
    if (p.options & CreateOptions.DELETE_ON_CLOSE) fail(Status.CANNOT_DELETE);
    if (hasAny(access, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA) || overwrite || stored === undefined) fail(Status.ACCESS_DENIED, 'read-only file');
  }
  // The file itself is held open for metadata only: the stream's data never goes through it.
  const base = await backend.open(existing, { read: false, write: false });
  let handle: StreamHandle;
  let finalStat: FileStat;
  try {
    const byHandle = base.extras ? base.extras() : store;
    if (stored === undefined || overwrite) byHandle.set('stream', name, Buffer.alloc(0));
    handle = new StreamHandle(existing, base, byHandle, name, flags);
    finalStat = await handle.stat();
  } catch (err) {
    await base.close();
    throw err;
  }
  const open = registerOpen(req, tree, existing, p.name, false, access, p.shareAccess, p.options);
  open.stream = name;
  open.handle = handle;
  open.deleteOnClose = (p.options & CreateOptions.DELETE_ON_CLOSE) !== 0;
  open.clientGuid = clientGuid;
  open.owner = ownerOf(req);
  const file = share.files.acquire(fileKey, existing);
  file.opens.add(open);
  open.file = file;
  open.connection = req.conn;
  if (leaseIntent && ctx.lease) attachLease(req, open, ctx.lease, fileKey, granted);
  else open.oplockLevel = grantedOplockLevel(granted);
  grantDurable(req, open, ctx);
  open.createAction = action;
  return { reply: { body: encodeResponse(open, finalStat, action, responseContexts(p.contexts, open, finalStat, ctx)) } };
}
