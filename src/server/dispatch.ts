import {
  Command,
  HeaderFlags,
  PROTOCOL_SMB1,
  PROTOCOL_SMB2,
  PROTOCOL_TRANSFORM,
  SMB2_HEADER_SIZE,
} from '../protocol/constants.js';
import { decodeHeader, encodeHeader, type Smb2Header } from '../protocol/header.js';
import { NtStatusError, Status, statusName, isError } from '../protocol/status.js';
import { decryptMessage, encryptMessage, parseTransformHeader } from '../crypto/index.js';
import type { Connection } from './connection.js';
import { Request, type FileReply, type Reply } from './request.js';
import { COMMANDS } from './commands.js';
import { channelSigner, signResponse, verifyRequest } from './security.js';
import { handleSmb1Negotiate } from '../handlers/smb1-negotiate.js';
import type { Session } from './state/session.js';
import type { SealedTail, Signer, TailTag } from '../crypto/index.js';
import type { FrameArrival } from '../transport/frame-arrival.js';

/**
 * Entry point for one received frame: SMB1 negotiate, encrypted, or plain SMB2 (possibly compound).
 * Resolves to true when nothing refers to the frame's bytes any more, so its memory may be reused:
 * only said of frames made of WRITEs that completed (they are the large ones, and keep no views).
 * With `arrival`, the frame is still being read: a single unsigned WRITE (server/early-write.ts).
 */
export async function handleFrame(conn: Connection, frame: Buffer, arrival?: FrameArrival): Promise<boolean | void> {
  if (frame.length < 4) return conn.close('frame too short');
  const proto = frame.readUInt32LE(0);
  if (proto === PROTOCOL_SMB2) return processCompound(conn, frame, undefined, arrival);
  if (proto === PROTOCOL_TRANSFORM) return processEncrypted(conn, frame);
  if (proto === PROTOCOL_SMB1 && conn.dialect === 0 && !conn.wildcardSent) return handleSmb1Negotiate(conn, frame);
  conn.close(`unexpected protocol id 0x${proto.toString(16)}`);
}

async function processEncrypted(conn: Connection, frame: Buffer): Promise<boolean | void> {
  if (conn.dialect < 0x0300) return conn.close('encrypted message before an SMB3 negotiate');
  let plain: Buffer;
  let session: Session | undefined;
  try {
    const th = parseTransformHeader(frame);
    session = conn.server.sessions.get(th.sessionId);
    if (!session || !session.channels.has(conn) || session.decryptionKey.length === 0) {
      return conn.close('encrypted message for an unknown session');
    }
    // In place: the frame is ours alone (the framer copies or slices it out of socket reads).
    plain = decryptMessage(session.cipherId, session.decryptionKey, frame, true);
  } catch (err) {
    return conn.close(`decryption failed: ${(err as Error).message}`);
  }
  if (plain.length < SMB2_HEADER_SIZE || plain.readUInt32LE(0) !== PROTOCOL_SMB2) return conn.close('bad encrypted payload');
  const released = await processCompound(conn, plain, session);
  // Decrypted into new memory: the frame itself was done with at once.
  return plain.buffer === frame.buffer ? released : !conn.isClosed;
}

interface Pdu {
  header: Smb2Header;
  pdu: Buffer;
}

/** Splits a message into the PDUs of a compound ([MS-SMB2] 3.3.5.2.7). */
function splitCompound(msg: Buffer): Pdu[] | string {
  const out: Pdu[] = [];
  let off = 0;
  for (;;) {
    if (msg.length - off < SMB2_HEADER_SIZE) return 'truncated SMB2 header';
    let header: Smb2Header;
    try {
      header = decodeHeader(msg.subarray(off));
    } catch {
      return 'invalid SMB2 header';
    }
    const next = header.nextCommand;
    if (next !== 0 && (next < SMB2_HEADER_SIZE || next % 8 !== 0 || off + next > msg.length)) return 'invalid NextCommand';
    const end = next === 0 ? msg.length : off + next;
    out.push({ header, pdu: msg.subarray(off, end) });
    if (next === 0) return out;
    off = end;
  }
}

/** What a related request inherits from the one before it ([MS-SMB2] 3.3.5.2.7.2). */
interface Chain {
  sessionId: bigint;
  treeId: number;
  fileId?: bigint;
  /** The previous request could not find its session or tree: related ones fail. */
  valid: boolean;
  /** A CREATE of the chain failed: related requests after it fail the same way. */
  createError?: number;
}

async function processCompound(conn: Connection, msg: Buffer, encryptedFor: Session | undefined, arrival?: FrameArrival): Promise<boolean | void> {
  const pdus = splitCompound(msg);
  if (typeof pdus === 'string') return conn.close(pdus);
  if (arrival && pdus.length !== 1) return conn.close('a frame taken early must hold one request');
  if (conn.dialect === 0 && pdus[0]!.header.command !== Command.NEGOTIATE) return conn.close('request before NEGOTIATE');
  // WRITE handlers keep no views into the message once they are done (pipes copy); others may.
  let released = pdus.every((p) => p.header.command === Command.WRITE);

  const responses: Buffer[][] = [];
  let fileReply: FileReply | undefined;
  const afterSend: NonNullable<Reply['afterSend']>[] = [];
  const onSent: (() => void)[] = [];
  /** Response buffers that sealing may overwrite (READ data): no copy of the ciphertext. */
  const overwrite = new Set<Buffer>();
  /** A READ's data sealed while read: sent in place of its plaintext when the response is sealed alone. */
  let sealedTail: SealedTail | undefined;
  let chain: Chain | undefined;
  let encryptWith = encryptedFor;
  for (const [index, { header, pdu }] of pdus.entries()) {
    if (header.flags & HeaderFlags.SERVER_TO_REDIR) return conn.close('response received from client');
    if (header.command === Command.CANCEL) {
      handleCancel(conn, header);
      continue;
    }
    const related = (header.flags & HeaderFlags.RELATED_OPERATIONS) !== 0;
    if (related && chain?.valid) {
      header.sessionId = chain.sessionId;
      header.treeId = chain.treeId;
    }
    const charge = conn.largeMtu ? Math.max(header.creditCharge, 1) : 1;
    if (!conn.credits.consume(header.messageId, charge)) {
      return conn.close(`message id ${header.messageId} (charge ${charge}) outside the credit window`);
    }
    let signalAsync!: () => void;
    const wentAsync = new Promise<'async'>((resolve) => (signalAsync = () => resolve('async')));
    const req = new Request(conn.server, conn, header, pdu, encryptedFor !== undefined, related ? chain?.fileId : undefined, (r) => {
      r.asyncId = conn.allocateAsyncId();
      conn.async.set(r.asyncId, r);
      signalAsync();
    });
    req.inCompound = pdus.length > 1;
    req.arrival = arrival;
    conn.pending.set(header.messageId, req);
    const work = (async (): Promise<Reply> => {
      try {
        if (related && !chain?.valid) throw new NtStatusError(Status.INVALID_PARAMETER, 'related request without a valid previous one');
        if (related && chain?.createError !== undefined) throw new NtStatusError(chain.createError);
        return await runHandler(req, charge);
      } catch (err) {
        return errorReply(conn, req, err);
      } finally {
        req.finish();
        // Answered only once the client has sent all of it, as a request taken whole would be.
        if (arrival) await arrival.done.catch(() => undefined);
      }
    })();
    let first = await Promise.race([work, wentAsync]);
    if (conn.isClosed) return;
    if (first === 'async' && header.command !== Command.CREATE && index < pdus.length - 1) {
      // Windows fails any other request that would wait in mid-chain ([MS-SMB2] 3.3.5.2.7, note <262>;
      // smbtorture's compound.interim2 checks STATUS_INTERNAL_ERROR).
      req.abort.abort();
      await work;
      if (conn.isClosed) return;
      conn.async.delete(req.asyncId!);
      req.asyncId = undefined;
      first = { status: Status.INTERNAL_ERROR, body: errorBody() };
    } else if (first === 'async' && header.command === Command.CREATE && index < pdus.length - 1) {
      // A CREATE waiting for a break in mid-chain: what follows needs its handle, so the server
      // answers what it has (with the interim response) and resumes the chain once the open is
      // done, as Windows does ([MS-SMB2] 3.3.5.2.7, note <206>).
      responses.push(interimResponse(conn, req));
      flush(responses.splice(0), onSent.splice(0));
      for (const fn of afterSend.splice(0)) await fn();
      first = await work;
      if (conn.isClosed) return;
      conn.async.delete(req.asyncId!);
    }
    const sessionFound = req.session !== undefined || header.command === Command.NEGOTIATE || header.command === Command.SESSION_SETUP || header.command === Command.ECHO;
    // A request that only inherited a failed CREATE's status passes the chain on unchanged.
    const inheritedFailure = related && chain?.valid === true && chain.createError !== undefined;
    const nextChain: Chain = inheritedFailure
      ? { ...chain! }
      : {
          sessionId: req.responseSessionId ?? header.sessionId,
          treeId: req.tree?.id ?? header.treeId,
          fileId: req.resultFileId,
          valid: sessionFound && (req.tree !== undefined || !COMMANDS[header.command]?.needsTree),
        };
    const session = req.session ?? conn.server.sessions.get(nextChain.sessionId);
    if (first === 'async') {
      // Interim response inside the compound; the final one follows on its own and the chain
      // goes on ([MS-SMB2] 3.3.4.2).
      responses.push(interimResponse(conn, req));
      chain = nextChain;
      released = false;
      void work.then((reply) => finishAsync(conn, req, reply, encryptWith));
      continue;
    }
    conn.pending.delete(header.messageId);
    let reply = first;
    if (header.command === Command.CREATE && isError(reply.status ?? Status.SUCCESS)) nextChain.createError = reply.status;
    else if (related && chain?.createError !== undefined) nextChain.createError = chain.createError;
    chain = nextChain;
    if (session && !encryptWith && (session.encryptData || req.tree?.encryptData) && session.encryptionKey.length > 0 && reply.status !== Status.MORE_PROCESSING_REQUIRED) {
      if (header.command !== Command.SESSION_SETUP && header.command !== Command.NEGOTIATE) encryptWith = session;
    }
    // Data to come from a file needs a response that is sent alone and as it is (the handler
    // checked Request.plainResponse); anything else reads it into memory after all.
    if (reply.file && (encryptWith || !req.plainResponse)) reply = await reply.file.inMemory();
    if (conn.isClosed) {
      reply.file?.cancel();
      reply.onSent?.();
      return;
    }
    const status = reply.status ?? Status.SUCCESS;
    if (reply.file) fileReply = reply.file;
    responses.push(buildResponse(conn, req, reply, status, session, encryptWith !== undefined));
    if (reply.afterSend) afterSend.push(reply.afterSend);
    if (reply.onSent) onSent.push(reply.onSent);
    if (reply.bodyOverwritable) addBody(overwrite, reply);
    if (reply.sealedTail) {
      if (pdus.length === 1) sealedTail = reply.sealedTail;
      else reply.sealedTail.restore(); // a compound is sealed whole, as usual
    }
  }
  flush(responses, onSent);
  for (const fn of afterSend) await fn();
  return released && !conn.isClosed;

  function flush(batch: Buffer[][], sent: (() => void)[]): void {
    const done = sent.length ? () => sent.forEach((f) => f()) : undefined;
    if (fileReply && batch.length === 1) {
      conn.sendWithFile(batch[0]!, fileReply, done);
      fileReply = undefined;
    } else if (batch.length > 0) sendCompound(conn, batch, encryptWith, done, overwrite, sealedTail);
    else done?.();
  }
}

/** Sends the final response of a request that went async, on its own. */
async function finishAsync(conn: Connection, req: Request, first: Reply, encryptWith: Session | undefined): Promise<void> {
  // The final response of an async request goes out through sendCompound: data in memory.
  const reply = first.file ? await first.file.inMemory() : first;
  conn.pending.delete(req.header.messageId);
  if (req.asyncId !== undefined) conn.async.delete(req.asyncId);
  if (conn.isClosed) {
    reply.onSent?.();
    return;
  }
  const status = reply.status ?? Status.SUCCESS;
  const session = req.session;
  const encrypt = encryptWith ?? (session && session.encryptionKey.length > 0 && (session.encryptData || req.tree?.encryptData) ? session : undefined);
  const overwrite = new Set<Buffer>();
  if (reply.bodyOverwritable) addBody(overwrite, reply);
  sendCompound(conn, [buildResponse(conn, req, reply, status, session, encrypt !== undefined)], encrypt, reply.onSent, overwrite, reply.sealedTail);
  await reply.afterSend?.();
}

async function runHandler(req: Request, charge: number): Promise<Reply> {
  const { conn, header } = req;
  const spec = COMMANDS[header.command];
  if (!spec) throw new NtStatusError(Status.INVALID_PARAMETER, `unknown command ${header.command}`);
  if (header.command !== Command.NEGOTIATE && conn.dialect === 0) throw new NtStatusError(Status.INVALID_PARAMETER);
  const sizes = spec.structureSizes ?? [spec.structureSize];
  const got = req.pdu.length >= SMB2_HEADER_SIZE + 2 ? req.r.u16(SMB2_HEADER_SIZE) : -1;
  if (!sizes.includes(got) || req.pdu.length < SMB2_HEADER_SIZE + (got & ~1)) {
    throw new NtStatusError(Status.INVALID_PARAMETER, `${spec.name}: bad StructureSize`);
  }
  if (spec.payloadSize && conn.largeMtu) {
    const needed = Math.max(1, Math.ceil(spec.payloadSize(req) / 65536));
    if (charge < needed) throw new NtStatusError(Status.INVALID_PARAMETER, `credit charge ${charge} < ${needed}`);
  }
  if (spec.needsSession && !spec.sessionless?.(req)) {
    const session = conn.server.sessions.get(header.sessionId);
    if (!session || !session.channels.has(conn)) {
      if (!session) req.deletedSessionSigner = deletedSessionSigner(req);
      throw new NtStatusError(Status.USER_SESSION_DELETED);
    }
    if (!session.isValid) {
      throw new NtStatusError(session.state === 'expired' ? Status.NETWORK_SESSION_EXPIRED : Status.USER_SESSION_DELETED);
    }
    req.session = session;
    checkSignature(req, session);
    if (session.encryptData && !req.encrypted) throw new NtStatusError(Status.ACCESS_DENIED, 'session requires encryption');
    if (spec.needsTree) {
      const tree = session.trees.get(header.treeId);
      if (!tree) throw new NtStatusError(Status.NETWORK_NAME_DELETED);
      if (tree.encryptData && !req.encrypted) throw new NtStatusError(Status.ACCESS_DENIED, 'share requires encryption');
      req.tree = tree;
    }
  } else if (header.sessionId !== 0n && header.command !== Command.NEGOTIATE) {
    // SESSION_SETUP continuing an exchange, or ECHO on a session: check what can be checked.
    const session = conn.server.sessions.get(header.sessionId);
    if (session && session.channels.has(conn)) {
      req.session = session;
      // Re-authentication is checked like any request of the session; binding checks its own signature.
      const binding = header.command === Command.SESSION_SETUP && (req.r.u8(SMB2_HEADER_SIZE + 2) & 0x01) !== 0;
      if (session.isValid && !binding) checkSignature(req, session);
    }
  }
  return spec.handler(req);
}

/** The kept signer of a deleted session, when the request is signed and verifies with it. */
function deletedSessionSigner(req: Request): Signer | undefined {
  if (req.encrypted || !(req.header.flags & HeaderFlags.SIGNED)) return undefined;
  const signer = req.conn.server.deletedSessions.signerFor(req.header.sessionId, req.conn);
  if (!signer || !verifyRequest(req.pdu, signer, req.header.messageId, req.header.command)) return undefined;
  return signer;
}

/** Signed requests must verify; a session that requires signing refuses unsigned ones ([MS-SMB2] 3.3.5.2.4). */
function checkSignature(req: Request, session: Session): void {
  if (req.encrypted) return;
  const signed = (req.header.flags & HeaderFlags.SIGNED) !== 0;
  if (!signed) {
    if (session.signingRequired) throw new NtStatusError(Status.ACCESS_DENIED, 'unsigned request on a signed session');
    return;
  }
  const signer = channelSigner(session, req.conn);
  if (!signer) return;
  if (!verifyRequest(req.pdu, signer, req.header.messageId, req.header.command)) {
    throw new NtStatusError(Status.ACCESS_DENIED, 'bad signature');
  }
}

function errorReply(conn: Connection, req: Request, err: unknown): Reply {
  if (err instanceof NtStatusError) {
    if (err.status !== Status.NO_MORE_FILES && err.status !== Status.OBJECT_NAME_NOT_FOUND) {
      conn.log.debug({ cmd: req.header.command, status: statusName(err.status), detail: err.message }, 'request failed');
    }
    return { status: err.status, body: errorBody() };
  }
  conn.log.error({ err, cmd: req.header.command }, 'handler threw');
  return { status: Status.INTERNAL_ERROR, body: errorBody() };
}

/** SMB2 ERROR Response ([MS-SMB2] 2.2.2): StructureSize 9, no error data. */
export function errorBody(): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt16LE(9, 0);
  return b;
}

function buildResponse(conn: Connection, req: Request, reply: Reply, status: number, session: Session | undefined, willEncrypt: boolean): Buffer[] {
  const h = req.header;
  const isAsync = req.asyncId !== undefined;
  const credits = isAsync ? 0 : conn.credits.grant(h.credits, conn.largeMtu ? Math.max(h.creditCharge, 1) : 1, creditPolicy(h.command, status));
  // A final async response travels alone: it is no longer part of a related chain.
  let flags = HeaderFlags.SERVER_TO_REDIR | (h.flags & (isAsync ? HeaderFlags.PRIORITY_MASK : HeaderFlags.RELATED_OPERATIONS | HeaderFlags.PRIORITY_MASK));
  if (isAsync) flags |= HeaderFlags.ASYNC_COMMAND;
  const header = encodeHeader({
    creditCharge: h.creditCharge,
    status,
    command: h.command,
    credits,
    flags,
    nextCommand: 0,
    messageId: h.messageId,
    asyncId: req.asyncId ?? 0n,
    treeId: h.treeId,
    sessionId: req.responseSessionId ?? h.sessionId,
    signature: Buffer.alloc(16),
  });
  const body = Array.isArray(reply.body) ? reply.body : [reply.body];
  const parts = [header, ...body];
  if (!willEncrypt && session) maybeSign(conn, req, parts, session, status, reply.forceSign === true, reply.tailTag);
  else if (!willEncrypt && req.deletedSessionSigner) signResponse(parts, req.deletedSessionSigner, h.messageId);
  // After signing: the pre-auth hash covers the bytes as sent (signed bind responses included).
  reply.afterEncode?.(parts);
  return parts;
}

function creditPolicy(command: number, status: number): 'all' | 'none' {
  if (command === Command.NEGOTIATE) return 'none';
  if (command === Command.SESSION_SETUP && status !== Status.SUCCESS) return 'none';
  return 'all';
}

function maybeSign(conn: Connection, req: Request, parts: Buffer[], session: Session, status: number, force: boolean, tail?: TailTag): void {
  const requestSigned = (req.header.flags & HeaderFlags.SIGNED) !== 0;
  if (!force && !requestSigned && !session.signingRequired) return;
  if (!force && !session.isValid) return;
  const signer = channelSigner(session, conn);
  if (signer) signResponse(parts, signer, req.header.messageId, tail);
}

function addBody(set: Set<Buffer>, reply: Reply): void {
  for (const b of Array.isArray(reply.body) ? reply.body : [reply.body]) set.add(b);
}

/**
 * Chains PDUs of a compound with 8-byte alignment, then encrypts or sends as they are.
 * Buffers in `overwrite` may receive their own ciphertext; `onSent` then waits for the socket.
 */
function sendCompound(conn: Connection, responses: Buffer[][], encryptWith: Session | undefined, onSent?: () => void, overwrite?: ReadonlySet<Buffer>, sealedTail?: SealedTail): void {
  if (responses.length > 1) {
    // Windows pads the last response of a compound too (smbtorture's compound-padding checks it).
    for (let i = 0; i < responses.length; i++) {
      const parts = responses[i]!;
      const len = parts.reduce((n, p) => n + p.length, 0);
      const pad = (8 - (len % 8)) % 8;
      if (pad) parts.push(Buffer.alloc(pad));
      if (i < responses.length - 1) parts[0]!.writeUInt32LE(len + pad, 20);
    }
    // NextCommand changed the headers: signatures must cover the final bytes, so re-sign where signed.
    for (const parts of responses) resignIfSigned(conn, parts);
  }
  const flat = responses.flat();
  if (encryptWith) {
    const sealed = encryptMessage(encryptWith.cipherId, encryptWith.encryptionKey, encryptWith.id, flat, { overwrite, sealedTail });
    // The plaintext is no longer needed once sealed, unless the ciphertext went over it.
    if (overwrite && sealed.some((b) => overwrite.has(b))) {
      conn.send(sealed, onSent);
    } else {
      onSent?.();
      conn.send(sealed);
    }
  } else {
    // Sealed ahead but going out in the clear after all: the data must be the data again.
    sealedTail?.restore();
    conn.send(flat, onSent);
  }
}

function resignIfSigned(conn: Connection, parts: Buffer[]): void {
  const hdr = parts[0]!;
  if (!(hdr.readUInt32LE(16) & HeaderFlags.SIGNED)) return;
  const session = conn.server.sessions.get(hdr.readBigUInt64LE(40));
  if (!session) return;
  const signer = channelSigner(session, conn);
  if (signer) signResponse(parts, signer, hdr.readBigUInt64LE(24));
}

/** The interim STATUS_PENDING response of a request that went async; it grants the credits. */
function interimResponse(conn: Connection, req: Request): Buffer[] {
  const h = req.header;
  const credits = conn.credits.grant(h.credits, conn.largeMtu ? Math.max(h.creditCharge, 1) : 1);
  const header = encodeHeader({
    creditCharge: h.creditCharge,
    status: Status.PENDING,
    command: h.command,
    credits,
    flags: HeaderFlags.SERVER_TO_REDIR | HeaderFlags.ASYNC_COMMAND | (h.flags & HeaderFlags.RELATED_OPERATIONS),
    nextCommand: 0,
    messageId: h.messageId,
    asyncId: req.asyncId!,
    treeId: 0,
    sessionId: h.sessionId,
    signature: Buffer.alloc(16),
  });
  const parts = [header, errorBody()];
  const session = req.session;
  if (session && !req.encrypted && h.flags & HeaderFlags.SIGNED) {
    const signer = channelSigner(session, conn);
    if (signer) signResponse(parts, signer, h.messageId);
  }
  return parts;
}

/** CANCEL ([MS-SMB2] 3.3.5.16): no response of its own; the cancelled request answers STATUS_CANCELLED. */
function handleCancel(conn: Connection, header: Smb2Header): void {
  const target = header.flags & HeaderFlags.ASYNC_COMMAND ? conn.async.get(header.asyncId) : conn.pending.get(header.messageId);
  if (target && !target.signal.aborted) target.abort.abort();
}
