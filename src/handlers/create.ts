import {
  Access,
  CreateAction,
  CreateDisposition,
  CreateOptions,
  OplockLevel,
  SMB2_HEADER_SIZE,
  WRITE_ACCESS_MASK,
} from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { FileAttribute, type FileStat, type VfsHandle } from '../vfs/types.js';
import { normalizeSmbPath } from '../vfs/paths.js';
import { checkShareAccess } from '../locking/share-modes.js';
import { grantOplock } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import { openPipe } from '../rpc/index.js';
import { Open } from '../server/state/open.js';
import type { Reply, Request } from '../server/request.js';
import type { TreeConnect } from '../server/state/tree.js';
import { mapGenericAccess, hasAny } from './access.js';
import { parseCreateContexts, encodeCreateContexts, type CreateContext } from './create-contexts.js';
import { rpcContext } from '../server/rpc-context.js';

interface CreateParams {
  oplock: number;
  impersonation: number;
  desiredAccess: number;
  fileAttributes: number;
  shareAccess: number;
  disposition: number;
  options: number;
  name: string;
  contexts: CreateContext[];
}

function decode(req: Request): CreateParams {
  const r = req.r;
  const b = SMB2_HEADER_SIZE;
  const nameOffset = r.u16(b + 44);
  const nameLength = r.u16(b + 46);
  return {
    oplock: r.u8(b + 3),
    impersonation: r.u32(b + 4),
    desiredAccess: r.u32(b + 24),
    fileAttributes: r.u32(b + 28),
    shareAccess: r.u32(b + 32),
    disposition: r.u32(b + 36),
    options: r.u32(b + 40),
    name: nameLength ? r.utf16(nameOffset, nameLength) : '',
    contexts: parseCreateContexts(req.pdu, r.u32(b + 48), r.u32(b + 52)),
  };
}

/** CREATE ([MS-SMB2] 2.2.13, 3.3.5.9). */
export async function create(req: Request): Promise<Reply> {
  const tree = req.requireTree();
  const p = decode(req);
  if (p.disposition > CreateDisposition.OVERWRITE_IF) fail(Status.INVALID_PARAMETER, 'bad disposition');
  if (p.impersonation > 3) fail(Status.BAD_IMPERSONATION_LEVEL);
  if ((p.options & CreateOptions.DIRECTORY_FILE) && (p.options & CreateOptions.NON_DIRECTORY_FILE)) fail(Status.INVALID_PARAMETER);
  if (p.shareAccess & ~0x7) fail(Status.INVALID_PARAMETER, 'bad share access');
  if (tree.share.isIpc) return createPipe(req, tree, p);
  return createFile(req, tree, p);
}

function createPipe(req: Request, tree: TreeConnect, p: CreateParams): Reply {
  const pipe = openPipe(p.name, rpcContext(req.server));
  if (!pipe) fail(Status.OBJECT_NAME_NOT_FOUND, `no pipe ${p.name}`);
  const open = registerOpen(req, tree, '', p.name, false, mapGenericAccess(p.desiredAccess, tree.maximalAccess), p.shareAccess, p.options);
  open.pipe = pipe;
  const stat: FileStat = {
    isDirectory: false,
    size: 0n,
    allocationSize: 4096n,
    creationTime: 0n,
    lastAccessTime: 0n,
    lastWriteTime: 0n,
    changeTime: 0n,
    attributes: FileAttribute.NORMAL,
    fileId: 0n,
    nlink: 1,
  };
  return { body: encodeResponse(open, stat, CreateAction.OPENED, []) };
}

async function createFile(req: Request, tree: TreeConnect, p: CreateParams): Promise<Reply> {
  const backend = tree.share.backend!;
  const readOnlyShare = tree.share.config.readOnly;
  const path = normalizeSmbPath(p.name);
  let access = mapGenericAccess(p.desiredAccess, tree.maximalAccess);
  if (access === 0 && !(p.desiredAccess & Access.MAXIMUM_ALLOWED)) fail(Status.ACCESS_DENIED, 'no access requested');
  if (readOnlyShare) {
    if (p.desiredAccess & Access.MAXIMUM_ALLOWED) access &= tree.maximalAccess;
    if (hasAny(access, WRITE_ACCESS_MASK)) fail(Status.ACCESS_DENIED, 'read-only share');
    if (p.disposition !== CreateDisposition.OPEN && p.disposition !== CreateDisposition.OPEN_IF) fail(Status.ACCESS_DENIED, 'read-only share');
  }
  if ((p.options & CreateOptions.DELETE_ON_CLOSE) && !(access & Access.DELETE)) fail(Status.ACCESS_DENIED, 'delete-on-close without DELETE access');

  return tree.share.pathLocks.run(path.toLowerCase(), async () => {
    const existing = await backend.resolveCase(path);
    const stat = existing !== null ? await backend.stat(existing) : null;
    const wantDir = (p.options & CreateOptions.DIRECTORY_FILE) !== 0;
    let handle: VfsHandle;
    let action: number;
    let diskPath: string;
    let oplock: number = OplockLevel.NONE;
    if (stat && existing !== null) {
      diskPath = existing;
      if (p.disposition === CreateDisposition.CREATE) fail(Status.OBJECT_NAME_COLLISION);
      if (wantDir && !stat.isDirectory) fail(Status.NOT_A_DIRECTORY);
      if ((p.options & CreateOptions.NON_DIRECTORY_FILE) && stat.isDirectory) fail(Status.FILE_IS_A_DIRECTORY);
      const overwrite = p.disposition === CreateDisposition.OVERWRITE || p.disposition === CreateDisposition.OVERWRITE_IF || p.disposition === CreateDisposition.SUPERSEDE;
      if (overwrite && stat.isDirectory) fail(Status.INVALID_PARAMETER, 'cannot overwrite a directory');
      if (readOnlyShare && overwrite) fail(Status.ACCESS_DENIED);
      const file = tree.share.files.get(String(stat.fileId));
      if (file?.deletePending) fail(Status.DELETE_PENDING);
      // Exclusive oplocks are broken before the sharing check, so a caching client can close first.
      if (!stat.isDirectory) oplock = await grantOplock(file, p.oplock, overwrite, sendOplockBreak, () => req.goAsync());
      if (file?.deletePending) fail(Status.DELETE_PENDING);
      if (file) checkShareAccess(file.opens, access, p.shareAccess);
      if (stat.attributes & FileAttribute.READONLY) {
        if (p.options & CreateOptions.DELETE_ON_CLOSE) fail(Status.CANNOT_DELETE);
        if (!stat.isDirectory && (hasAny(access, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA) || overwrite)) fail(Status.ACCESS_DENIED, 'read-only file');
      }
      handle = await backend.open(existing, flagsFor(access, overwrite));
      if (overwrite) {
        await handle.truncate(0n);
        if (p.fileAttributes) await backend.setAttributes(existing, p.fileAttributes).catch(() => undefined);
      }
      action = p.disposition === CreateDisposition.SUPERSEDE ? CreateAction.SUPERSEDED : overwrite ? CreateAction.OVERWRITTEN : CreateAction.OPENED;
    } else {
      if (p.disposition === CreateDisposition.OPEN || p.disposition === CreateDisposition.OVERWRITE) fail(Status.OBJECT_NAME_NOT_FOUND);
      if (path === '') fail(Status.OBJECT_NAME_COLLISION);
      diskPath = path;
      const attrs = p.fileAttributes & ~FileAttribute.NORMAL;
      if (wantDir) {
        await backend.mkdir(path, attrs);
        handle = await backend.open(path, { read: true, write: false });
      } else {
        handle = await backend.createFile(path, flagsFor(access, true), attrs);
      }
      action = CreateAction.CREATED;
      if (!wantDir) oplock = await grantOplock(undefined, p.oplock, false, sendOplockBreak, () => undefined);
    }
    let finalStat: FileStat;
    try {
      finalStat = await handle.stat();
    } catch (err) {
      await handle.close();
      throw err;
    }
    const open = registerOpen(req, tree, diskPath, p.name, finalStat.isDirectory, access, p.shareAccess, p.options);
    open.handle = handle;
    open.deleteOnClose = (p.options & CreateOptions.DELETE_ON_CLOSE) !== 0;
    const file = tree.share.files.acquire(String(finalStat.fileId), diskPath);
    file.opens.add(open);
    open.file = file;
    open.oplockLevel = oplock;
    open.connection = req.conn;
    return { body: encodeResponse(open, finalStat, action, responseContexts(p.contexts, open, finalStat)) };
  });
}

function flagsFor(access: number, forWrite: boolean): { read: boolean; write: boolean } {
  const write = forWrite || hasAny(access, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA);
  return { read: true, write };
}

function registerOpen(req: Request, tree: TreeConnect, path: string, name: string, isDir: boolean, access: number, share: number, options: number): Open {
  const session = req.requireSession();
  const id = req.server.allocateFileId();
  const open = new Open(id, id, session, tree, path, name, isDir, access, share, options);
  session.opens.set(id, open);
  tree.opens.add(id);
  req.resultFileId = id;
  return open;
}

function responseContexts(requested: CreateContext[], open: Open, stat: FileStat): CreateContext[] {
  const out: CreateContext[] = [];
  for (const c of requested) {
    if (c.name === 'MxAc') {
      const d = Buffer.alloc(8);
      d.writeUInt32LE(Status.SUCCESS, 0);
      d.writeUInt32LE(open.tree.maximalAccess, 4);
      out.push({ name: 'MxAc', data: d });
    } else if (c.name === 'QFid') {
      const d = Buffer.alloc(32);
      d.writeBigUInt64LE(stat.fileId, 0);
      out.push({ name: 'QFid', data: d });
    }
  }
  return out;
}

function encodeResponse(open: Open, st: FileStat, action: number, contexts: CreateContext[]): Buffer {
  const ctx = contexts.length ? encodeCreateContexts(contexts) : Buffer.alloc(0);
  const w = new Writer();
  w.u16(89).u8(open.oplockLevel).u8(0).u32(action);
  w.u64(st.creationTime).u64(st.lastAccessTime).u64(st.lastWriteTime).u64(st.changeTime);
  w.u64(st.isDirectory ? 0n : st.allocationSize).u64(st.isDirectory ? 0n : st.size);
  w.u32(st.attributes).u32(0);
  w.put(open.fileIdBytes());
  w.u32(ctx.length ? SMB2_HEADER_SIZE + 88 : 0).u32(ctx.length);
  w.put(ctx.length ? ctx : Buffer.alloc(1));
  return w.toBuffer();
}

