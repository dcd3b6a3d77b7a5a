import {
  Access,
  CreateAction,
  CreateDisposition,
  CreateOptions,
  HeaderFlags,
  OplockLevel,
  SMB2_HEADER_SIZE,
  WRITE_ACCESS_MASK,
} from '../protocol/constants.js';
import { NtStatusError, Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { FileAttribute, pipeStat, type FileStat, type VfsHandle } from '../vfs/types.js';
import { normalizeSmbPath } from '../vfs/paths.js';
import { checkShareAccess } from '../locking/share-modes.js';
import { breakHandleLeasesForDelete, evaluateOpen, grantedOplockLevel, isOplockStatOpen } from '../locking/oplocks.js';
import { Lease, LeaseState, encodeLeaseContext, parseLeaseContext, type LeaseRequest } from '../locking/leases.js';
import { DURABLE_V1_TIMEOUT_MS, durableV2Timeout } from '../server/durable.js';
import { closeOpen } from '../server/lifecycle.js';
import { reportedStat } from '../server/write-time.js';
import { sendOplockBreak } from '../server/breaks.js';
import { openPipe } from '../rpc/index.js';
import { Open } from '../server/state/open.js';
import type { Reply, Request } from '../server/request.js';
import type { TreeConnect } from '../server/state/tree.js';
import { mapGenericAccess, hasAny } from './access.js';
import { parseCreateContexts, encodeCreateContexts, type CreateContext } from './create-contexts.js';
import { rpcContext } from '../server/rpc-context.js';
import { sameStreamName, slashesAsSeparators, splitStreamPath } from '../vfs/stream-names.js';
import { checkStreamsAllowDelete, isDeleteWaiting } from '../server/stream-files.js';
import { openStreamOnce, removeAllStreams } from './stream-create.js';
import { applyCreateEas, checkCreateEas } from './ea-create.js';
import { applyAllocationSize } from './create-alloc.js';
import { ChannelSequence } from '../server/channel-sequence.js';
import type { SecurityDescriptor } from '../protocol/security-descriptor.js';
import { accessByStoredSd, applyCreateSd, checkCreateSd, tokenOf } from './security-descriptor.js';

export interface CreateParams {
  oplock: number;
  impersonation: number;
  desiredAccess: number;
  fileAttributes: number;
  shareAccess: number;
  disposition: number;
  options: number;
  name: string;
  contexts: CreateContext[];
  /** A named stream of the file (`file:stream[:$DATA]`). */
  stream?: string;
  /** `file::$DATA`: the file's data stream, never a directory. */
  defaultData?: boolean;
  /** The SecD context, checked; stored on a file the CREATE makes. */
  securityDescriptor?: SecurityDescriptor;
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
  if (!tree.share.isIpc) {
    // A durable reconnect ignores everything but its context ([MS-SMB2] 3.3.5.9.7): check nothing else.
    const ctx = cachingContexts(req, p);
    if (ctx.reconnect) return reconnectDurable(req, tree, p, ctx);
  }
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
  const stat = pipeStat();
  return { body: encodeResponse(open, stat, CreateAction.OPENED, [], OplockLevel.NONE) };
}

/** Create contexts that steer durability and caching ([MS-SMB2] 2.2.13.2.x). */
export interface CachingContexts {
  lease?: LeaseRequest;
  dhnq: boolean;
  dh2q?: { timeout: number; flags: number; createGuid: Buffer };
  reconnect?: { persistentId: bigint; createGuid?: Buffer };
}

function cachingContexts(req: Request, p: CreateParams): CachingContexts {
  const find = (n: string): CreateContext | undefined => p.contexts.find((c) => c.name === n);
  const dhnq = find('DHnQ');
  const dhnc = find('DHnC');
  const dh2q = find('DH2Q');
  const dh2c = find('DH2C');
  const rqls = find('RqLs');
  if ((dhnc && dh2c) || (dhnc && dh2q) || (dh2c && dhnq) || (dh2q && dh2c)) fail(Status.INVALID_PARAMETER, 'conflicting durable contexts');
  const out: CachingContexts = { dhnq: false };
  if (dhnc) {
    if (dhnc.data.length !== 16) fail(Status.INVALID_PARAMETER);
    const allowed = 1 + (dhnq ? 1 : 0) + (rqls ? 1 : 0);
    if (p.contexts.length !== allowed) fail(Status.OBJECT_NAME_NOT_FOUND, 'extra contexts on a durable reconnect');
    out.reconnect = { persistentId: dhnc.data.readBigUInt64LE(0) };
  }
  if (dh2c) {
    if (dh2c.data.length !== 36) fail(Status.INVALID_PARAMETER);
    if (p.contexts.length !== 1 + (rqls ? 1 : 0)) fail(Status.OBJECT_NAME_NOT_FOUND, 'extra contexts on a durable reconnect');
    out.reconnect = { persistentId: dh2c.data.readBigUInt64LE(0), createGuid: Buffer.from(dh2c.data.subarray(16, 32)) };
  }
  if (dhnq && !out.reconnect) {
    if (dhnq.data.length !== 16) fail(Status.INVALID_PARAMETER);
    if (dh2q) fail(Status.INVALID_PARAMETER);
    out.dhnq = true;
  }
  if (dh2q) {
    if (dh2q.data.length !== 32) fail(Status.INVALID_PARAMETER);
    out.dh2q = { timeout: dh2q.data.readUInt32LE(0), flags: dh2q.data.readUInt32LE(4), createGuid: Buffer.from(dh2q.data.subarray(16, 32)) };
  }
  if (rqls) {
    const lease = parseLeaseContext(rqls.data);
    const keyValid = !lease.key.equals(ZERO_KEY);
    // v2 leases are SMB3 only; an all-zero key asks for nothing.
    if (keyValid && (lease.version === 1 || req.conn.dialect >= 0x0300)) out.lease = lease;
  }
  return out;
}

const ZERO_KEY = Buffer.alloc(16);

export type Attempt = { wait: Promise<void>[] } | { reply: Reply };

async function createFile(req: Request, tree: TreeConnect, p: CreateParams): Promise<Reply> {
  const backend = tree.share.backend!;
  const readOnlyShare = tree.share.config.readOnly;
  const ctx = cachingContexts(req, p);
  if (ctx.reconnect) return reconnectDurable(req, tree, p, ctx);
  await checkCreateEas(p.contexts, backend);
  // Names are relative to the share root; Windows refuses a leading separator (smb2.create.leading-slash).
  if (p.name.startsWith('\\')) fail(Status.INVALID_PARAMETER, 'name starts with a backslash');
  const split = splitStreamPath(slashesAsSeparators(p.name));
  const path = normalizeSmbPath(split.base);
  p.stream = split.stream;
  p.defaultData = split.defaultData;
  let access = mapGenericAccess(p.desiredAccess, tree.maximalAccess);
  if (access === 0 && !(p.desiredAccess & Access.MAXIMUM_ALLOWED)) fail(Status.ACCESS_DENIED, 'no access requested');
  // ACCESS_SYSTEM_SECURITY needs SeSecurityPrivilege, which no smb3d user holds.
  if (p.desiredAccess & Access.ACCESS_SYSTEM_SECURITY) fail(Status.PRIVILEGE_NOT_HELD, 'ACCESS_SYSTEM_SECURITY without SeSecurityPrivilege');
  p.securityDescriptor = await checkCreateSd(p.contexts, backend, tokenOf(req.session));
  if (readOnlyShare) {
    if (p.desiredAccess & Access.MAXIMUM_ALLOWED) access &= tree.maximalAccess;
    if (hasAny(access, WRITE_ACCESS_MASK)) fail(Status.ACCESS_DENIED, 'read-only share');
    if (p.disposition !== CreateDisposition.OPEN && p.disposition !== CreateDisposition.OPEN_IF) fail(Status.ACCESS_DENIED, 'read-only share');
  }
  if ((p.options & CreateOptions.DELETE_ON_CLOSE) && !(access & Access.DELETE)) fail(Status.ACCESS_DENIED, 'delete-on-close without DELETE access');

  const clientGuid = req.conn.client?.guid ?? '';
  let settle: ((open: Open | undefined) => void) | undefined;
  if (ctx.dh2q) {
    const replay = (req.header.flags & HeaderFlags.REPLAY_OPERATION) !== 0;
    const found = req.server.durable.lookupCreate(clientGuid, ctx.dh2q.createGuid);
    if (found.open || found.pending) {
      if (!replay) fail(Status.DUPLICATE_OBJECTID, 'CreateGuid in use');
      // The original still running: the client retries until it has its answer ([MS-SMB2] 3.3.5.9.10).
      if (!found.open) fail(Status.FILE_NOT_AVAILABLE, 'the CREATE being replayed is still pending');
      if (!found.open.closed) return replayResponse(req, p, ctx, found.open);
    }
    settle = req.server.durable.reserve(clientGuid, ctx.dh2q.createGuid);
  }
  let result: Open | undefined;
  try {
    let first = true;
    for (;;) {
      const attempt: Attempt = await tree.share.pathLocks.run(path.toLowerCase(), () => openOnce(req, tree, p, ctx, path, access, first));
      if ('reply' in attempt) {
        result = req.resultFileId !== undefined ? req.session?.opens.get(req.resultFileId) : undefined;
        return attempt.reply;
      }
      // Breaks are outstanding: answer interim and try again once the holders acknowledged or closed.
      req.goAsync();
      await waitOrAbort(attempt.wait, req.signal);
      first = false;
    }
  } finally {
    settle?.(result?.createGuid ? result : undefined);
  }
}

/** Waits for every promise, or rejects with STATUS_CANCELLED when the request is cancelled. */
export function waitOrAbort(waits: Promise<void>[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new NtStatusError(Status.CANCELLED));
    const onAbort = (): void => reject(new NtStatusError(Status.CANCELLED));
    signal.addEventListener('abort', onAbort, { once: true });
    void Promise.all(waits).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

async function openOnce(req: Request, tree: TreeConnect, p: CreateParams, ctx: CachingContexts, path: string, access: number, firstAttempt: boolean): Promise<Attempt> {
  if (p.stream !== undefined) return openStreamOnce(req, tree, p, ctx, path, access, firstAttempt);
  const backend = tree.share.backend!;
  const readOnlyShare = tree.share.config.readOnly;
  const clientGuid = req.conn.client?.guid ?? '';
  const existing = await backend.resolveCase(path);
  const stat = existing !== null ? await backend.stat(existing) : null;
  const wantDir = (p.options & CreateOptions.DIRECTORY_FILE) !== 0;
  if (p.defaultData) {
    if (wantDir) fail(Status.NOT_A_DIRECTORY, 'a data stream is not a directory');
    if (stat?.isDirectory) fail(Status.FILE_IS_A_DIRECTORY, 'a directory has no data stream');
  }
  let handle: VfsHandle;
  let action: number;
  let diskPath: string;
  let granted = 0;
  let maximal = tree.maximalAccess;
  const leaseIntent = p.oplock === OplockLevel.LEASE && ctx.lease ? { clientGuid, key: ctx.lease.key, state: ctx.lease.state } : undefined;
  // A lease key names one file: using it for another is refused before anything else, as Samba does.
  if (leaseIntent) checkLeaseFile(req, leaseIntent.key, stat ? String(stat.fileId) : undefined);
  if (stat && existing !== null) {
    diskPath = existing;
    if (p.disposition === CreateDisposition.CREATE) fail(Status.OBJECT_NAME_COLLISION);
    if (wantDir && !stat.isDirectory) fail(Status.NOT_A_DIRECTORY);
    if ((p.options & CreateOptions.NON_DIRECTORY_FILE) && stat.isDirectory) fail(Status.FILE_IS_A_DIRECTORY);
    const overwrite = p.disposition === CreateDisposition.OVERWRITE || p.disposition === CreateDisposition.OVERWRITE_IF || p.disposition === CreateDisposition.SUPERSEDE;
    if (overwrite && stat.isDirectory) fail(Status.INVALID_PARAMETER, 'cannot overwrite a directory');
    if (readOnlyShare && overwrite) fail(Status.ACCESS_DENIED);
    const file = tree.share.files.get(String(stat.fileId));
    if (file?.deletePending || isDeleteWaiting(tree.share, String(stat.fileId))) fail(Status.DELETE_PENDING);
    // A DACL a client stored decides, within what the share grants.
    ({ access, maximal } = await accessByStoredSd(backend, existing, tokenOf(req.session), p.desiredAccess, access, tree.maximalAccess, overwrite ? Access.FILE_WRITE_DATA : 0));
    if (p.options & CreateOptions.DELETE_ON_CLOSE && !(access & Access.DELETE)) fail(Status.ACCESS_DENIED, 'delete-on-close without DELETE access');
    checkStreamsAllowDelete(tree.share, String(stat.fileId), access);
    // Overwriting adds write access for the purpose of oplock breaks, as Samba's open access mask does.
    const breakAccess = overwrite ? access | Access.FILE_WRITE_DATA : access;
    // Closing them may have deleted the file (delete-on-close): look again.
    if (file && !isOplockStatOpen(breakAccess) && (await dropDisconnected(file))) return openOnce(req, tree, p, ctx, path, access, firstAttempt);
    const sharingViolation = sharingConflict(file, access, p.shareAccess);
    if (!stat.isDirectory) {
      const decision = arbitrateOpen(file, p, { breakAccess, leaseIntent, overwrite, sharingViolation, firstAttempt });
      if (decision.waitFor.length) return { wait: decision.waitFor };
      granted = decision.granted;
    }
    if (sharingViolation) fail(Status.SHARING_VIOLATION);
    if (stat.attributes & FileAttribute.READONLY) {
      if (p.options & CreateOptions.DELETE_ON_CLOSE) fail(Status.CANNOT_DELETE);
      if (!stat.isDirectory && (hasAny(access, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA) || overwrite)) fail(Status.ACCESS_DENIED, 'read-only file');
    }
    // Leases caching a handle give H up before a delete-on-close open goes ahead.
    if (p.options & CreateOptions.DELETE_ON_CLOSE && !stat.isDirectory) {
      const waits = breakHandleLeasesForDelete(file, leaseIntent, sendOplockBreak);
      if (waits.length) return { wait: waits };
    }
    handle = await backend.open(existing, flagsFor(access, overwrite));
    if (overwrite) {
      await handle.truncate(0n);
      // Overwriting a file replaces its named streams too (smb2.streams.create-disposition).
      if (handle.extras) removeAllStreams(handle.extras());
      // Overwriting replaces the attributes and marks the file for archiving, as Windows does.
      await backend.setAttributes(existing, (p.fileAttributes | FileAttribute.ARCHIVE) & ~FileAttribute.NORMAL).catch(() => undefined);
    }
    action = p.disposition === CreateDisposition.SUPERSEDE ? CreateAction.SUPERSEDED : overwrite ? CreateAction.OVERWRITTEN : CreateAction.OPENED;
  } else {
    if (p.disposition === CreateDisposition.OPEN || p.disposition === CreateDisposition.OVERWRITE) fail(Status.OBJECT_NAME_NOT_FOUND);
    if (path === '') fail(Status.OBJECT_NAME_COLLISION);
    diskPath = path;
    const attrs = p.fileAttributes & ~FileAttribute.NORMAL;
    // A read-only file cannot be deleted, so it cannot be made delete-on-close either (as Samba and Windows).
    if (!wantDir && attrs & FileAttribute.READONLY && p.options & CreateOptions.DELETE_ON_CLOSE) fail(Status.CANNOT_DELETE, 'read-only and delete-on-close');
    if (wantDir) {
      await backend.mkdir(path, attrs);
      handle = await backend.open(path, { read: true, write: false });
    } else {
      handle = await backend.createFile(path, flagsFor(access, true), attrs);
      granted = evaluateOpen(undefined, {
        access,
        oplock: leaseIntent ? OplockLevel.LEASE : p.oplock,
        lease: leaseIntent,
        willOverwrite: false,
        sharingViolation: false,
        firstAttempt: true,
      }, sendOplockBreak, false).granted;
    }
    action = CreateAction.CREATED;
  }
  let finalStat: FileStat;
  try {
    // ExtA: EAs given at creation, kept when the file is made or replaced ([MS-SMB2] 2.2.13.2.1).
    if (action === CreateAction.CREATED) await applyCreateSd(backend, diskPath, handle, p.securityDescriptor, tokenOf(req.session), wantDir);
    if (action !== CreateAction.OPENED) {
      applyCreateEas(handle, p.contexts);
      await applyAllocationSize(handle, p.contexts);
    }
    finalStat = await handle.stat();
  } catch (err) {
    await handle.close();
    throw err;
  }
  const open = registerOpen(req, tree, diskPath, p.name, finalStat.isDirectory, access, p.shareAccess, p.options);
  open.handle = handle;
  open.maximalAccess = maximal;
  open.deleteOnClose = (p.options & CreateOptions.DELETE_ON_CLOSE) !== 0;
  open.clientGuid = clientGuid;
  open.owner = ownerOf(req);
  const fileKey = String(finalStat.fileId);
  const file = tree.share.files.acquire(fileKey, diskPath);
  file.opens.add(open);
  open.file = file;
  open.connection = req.conn;
  if (!finalStat.isDirectory) {
    if (leaseIntent && ctx.lease) attachLease(req, open, ctx.lease, fileKey, granted);
    else open.oplockLevel = grantedOplockLevel(granted);
  }
  grantDurable(req, open, ctx);
  open.createAction = action;
  const shown = reportedStat(file, finalStat);
  return { reply: { body: encodeResponse(open, shown, action, responseContexts(p.contexts, open, shown, ctx)) } };
}

/** Whether the other opens' share modes refuse this open (decided later, after breaks, as Windows does). */
export function sharingConflict(file: Open['file'], access: number, shareAccess: number): boolean {
  if (!file) return false;
  try {
    checkShareAccess([...file.opens].filter((o) => !o.closed), access, shareAccess);
    return false;
  } catch (err) {
    if (!(err instanceof NtStatusError) || err.status !== Status.SHARING_VIOLATION) throw err;
    return true;
  }
}

/** The caching decision for an open of an existing file or stream: breaks to wait for, or what to grant. */
export function arbitrateOpen(
  file: Open['file'],
  p: CreateParams,
  o: { breakAccess: number; leaseIntent: Parameters<typeof evaluateOpen>[1]['lease']; overwrite: boolean; sharingViolation: boolean; firstAttempt: boolean },
): ReturnType<typeof evaluateOpen> {
  const { breakAccess, leaseIntent } = o;
  return evaluateOpen(
    file,
    {
      access: breakAccess,
      oplock: isOplockStatOpen(breakAccess) && !leaseIntent ? OplockLevel.NONE : leaseIntent ? OplockLevel.LEASE : p.oplock,
      lease: leaseIntent,
      willOverwrite: o.overwrite,
      sharingViolation: o.sharingViolation,
      firstAttempt: o.firstAttempt,
    },
    sendOplockBreak,
    (file?.locks.count ?? 0) > 0,
  );
}

export function ownerOf(req: Request): string {
  const id = req.session?.identity;
  return id ? `${id.domain}\\${id.user}`.toLowerCase() : '';
}

/** A lease key names one file: using it for another is refused, as Samba and Windows do. */
export function checkLeaseFile(req: Request, key: Buffer, fileKey: string | undefined): void {
  const lease = req.server.leases.get(req.conn.client?.guid ?? '', key);
  if (lease && lease.fileKey !== fileKey) fail(Status.INVALID_PARAMETER, 'lease key in use on another file');
}

export function attachLease(req: Request, open: Open, want: LeaseRequest, fileKey: string, granted: number): void {
  const table = req.server.leases;
  let lease = table.get(open.clientGuid, want.key);
  if (lease) {
    lease.tryUpgrade(want.state, granted);
  } else {
    lease = new Lease<Open>(open.clientGuid, want.key, fileKey, want.version, want.parentKey, want.version === 2 ? (want.epoch + 1) & 0xffff : 0);
    lease.state = granted;
    table.add(lease);
  }
  lease.opens.add(open);
  open.lease = lease;
  open.leaseTable = table;
  open.oplockLevel = OplockLevel.LEASE;
}

/** Durability needs handle caching: a batch oplock or an H lease ([MS-SMB2] 3.3.5.9.6, 3.3.5.9.10). */
export function grantDurable(req: Request, open: Open, ctx: CachingContexts): void {
  if (!ctx.dhnq && !ctx.dh2q) return;
  if (open.isDirectory) return;
  const handleCaching = open.lease ? (open.lease.state & LeaseState.HANDLE) !== 0 : open.oplockLevel === OplockLevel.BATCH;
  if (ctx.dh2q) open.createGuid = ctx.dh2q.createGuid;
  if (!handleCaching) return;
  open.durable = true;
  open.durableVersion = ctx.dh2q ? 2 : 1;
  open.durableTimeoutMs = ctx.dh2q ? durableV2Timeout(ctx.dh2q.timeout) : DURABLE_V1_TIMEOUT_MS;
  req.server.durable.add(open);
  open.durableTable = req.server.durable;
}

/** Closes disconnected durable opens in the way of a new open: their client cannot answer a break. */
export async function dropDisconnected(file: NonNullable<Open['file']>): Promise<boolean> {
  let dropped = false;
  for (const o of [...file.opens]) {
    if (!o.disconnected || o.closed) continue;
    await closeOpen(o).catch(() => undefined);
    dropped = true;
  }
  return dropped;
}

/** A replayed CREATE answers with the open the first one made ([MS-SMB2] 3.3.5.9.10). */
async function replayResponse(req: Request, p: CreateParams, ctx: CachingContexts, open: Open): Promise<Reply> {
  if (ctx.lease) {
    if (!open.lease || !open.lease.key.equals(ctx.lease.key)) fail(Status.ACCESS_DENIED, 'replay with another lease');
  }
  if (open.disconnected || open.session !== req.session) fail(Status.FILE_NOT_AVAILABLE);
  const stat = await open.handle!.stat();
  req.resultFileId = open.volatileId;
  const out: CreateContext[] = [];
  if (open.durable && (p.oplock === OplockLevel.BATCH || p.oplock === OplockLevel.LEASE)) out.push({ name: 'DH2Q', data: dh2qResponse(open) });
  if (ctx.lease && open.lease) out.push({ name: 'RqLs', data: encodeLeaseContext(open.lease) });
  return { body: encodeResponse(open, stat, open.createAction, out, p.oplock) };
}

function dh2qResponse(open: Open): Buffer {
  const d = Buffer.alloc(8);
  d.writeUInt32LE(open.durableTimeoutMs, 0);
  return d;
}

/** DHnC / DH2C: a client back after a disconnect takes its durable open again ([MS-SMB2] 3.3.5.9.7, 3.3.5.9.12). */
async function reconnectDurable(req: Request, tree: TreeConnect, p: CreateParams, ctx: CachingContexts): Promise<Reply> {
  const rc = ctx.reconnect!;
  const session = req.requireSession();
  const open = req.server.durable.get(rc.persistentId);
  const notFound = (why: string): never => fail(Status.OBJECT_NAME_NOT_FOUND, why);
  if (!open || open.closed || !open.durable) return notFound('no durable open');
  if (!open.disconnected) return notFound('durable open still connected');
  if (rc.createGuid) {
    // A v1 open has the zero CreateGuid, so DH2C with a zero guid takes it back (durable-open.reopen2-lease).
    if (!(open.createGuid ?? ZERO_KEY).equals(rc.createGuid)) return notFound('CreateGuid differs');
  }
  // A v1 reconnect may take a v2 open back too (smbtorture durable-v2-open.reopen2b).
  if (open.tree.share !== tree.share) return notFound('other share');
  if (open.owner !== ownerOf(req)) fail(Status.ACCESS_DENIED, 'durable open of another user');
  if (!ctx.lease) {
    if (open.lease) return notFound('lease open reconnected without a lease');
  } else if (open.lease && open.lease.clientGuid !== (req.conn.client?.guid ?? '')) {
    return notFound('lease of another client');
  } else {
    if (!open.lease) return notFound('lease requested, open has none');
    if (!open.lease.key.equals(ctx.lease.key)) return notFound('other lease key');
    if (!sameOpenName(p.name, open)) fail(Status.INVALID_PARAMETER, 'reconnect under another name');
  }
  req.server.durable.reattach(open);
  open.session = session;
  open.tree = tree;
  open.connection = req.conn;
  session.opens.set(open.volatileId, open);
  tree.opens.add(open.volatileId);
  req.resultFileId = open.volatileId;
  const stat = await open.handle!.stat();
  const out: CreateContext[] = [];
  if (ctx.lease && open.lease) out.push({ name: 'RqLs', data: encodeLeaseContext(open.lease) });
  return { body: encodeResponse(open, stat, CreateAction.OPENED, out) };
}

/** A reconnect names the open's file (and stream) again, in any case. */
function sameOpenName(name: string, open: Open): boolean {
  const split = splitStreamPath(slashesAsSeparators(name));
  if (normalizeSmbPath(split.base).toLowerCase() !== open.path.toLowerCase()) return false;
  if (split.stream === undefined || open.stream === undefined) return split.stream === open.stream;
  return sameStreamName(split.stream, open.stream);
}

export function flagsFor(access: number, forWrite: boolean): { read: boolean; write: boolean } {
  const write = forWrite || hasAny(access, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA);
  return { read: true, write };
}

export function registerOpen(req: Request, tree: TreeConnect, path: string, name: string, isDir: boolean, access: number, share: number, options: number): Open {
  const session = req.requireSession();
  const id = req.server.allocateFileId();
  const open = new Open(id, id, session, tree, path, name, isDir, access, share, options);
  open.sequence = new ChannelSequence(req.header.status);
  session.opens.set(id, open);
  tree.opens.add(id);
  req.resultFileId = id;
  return open;
}

export function responseContexts(requested: CreateContext[], open: Open, stat: FileStat, ctx: CachingContexts): CreateContext[] {
  const out: CreateContext[] = [];
  if (open.durable && ctx.dhnq) out.push({ name: 'DHnQ', data: Buffer.alloc(8) });
  if (open.durable && ctx.dh2q) out.push({ name: 'DH2Q', data: dh2qResponse(open) });
  for (const c of requested) {
    if (c.name === 'MxAc') {
      const d = Buffer.alloc(8);
      d.writeUInt32LE(Status.SUCCESS, 0);
      d.writeUInt32LE(open.maximalAccess ?? open.tree.maximalAccess, 4);
      out.push({ name: 'MxAc', data: d });
    } else if (c.name === 'QFid') {
      const d = Buffer.alloc(32);
      d.writeBigUInt64LE(stat.fileId, 0);
      out.push({ name: 'QFid', data: d });
    }
  }
  if (open.lease && ctx.lease) out.push({ name: 'RqLs', data: encodeLeaseContext(open.lease) });
  return out;
}

export function encodeResponse(open: Open, st: FileStat, action: number, contexts: CreateContext[], oplockLevel = open.oplockLevel): Buffer {
  const ctx = contexts.length ? encodeCreateContexts(contexts) : Buffer.alloc(0);
  const w = new Writer();
  w.u16(89).u8(oplockLevel).u8(0).u32(action);
  w.u64(st.creationTime).u64(st.lastAccessTime).u64(st.lastWriteTime).u64(st.changeTime);
  w.u64(st.isDirectory ? 0n : st.allocationSize).u64(st.isDirectory ? 0n : st.size);
  w.u32(st.attributes).u32(0);
  w.put(open.fileIdBytes());
  w.u32(ctx.length ? SMB2_HEADER_SIZE + 88 : 0).u32(ctx.length);
  w.put(ctx.length ? ctx : Buffer.alloc(1));
  return w.toBuffer();
}

