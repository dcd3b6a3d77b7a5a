import { Dialect } from '../server/options.js';
import { SecurityMode, SessionFlags, SessionSetupFlags, SigningAlgorithm, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { deriveSessionKeys } from '../crypto/index.js';
import { SpnegoNtlmAcceptor } from '../auth/index.js';
import { Session } from '../server/state/session.js';
import { closeSession } from '../server/lifecycle.js';
import { bindSession } from './session-bind.js';
import type { Reply, Request } from '../server/request.js';

/** SESSION_SETUP ([MS-SMB2] 2.2.5, 3.3.5.5): SPNEGO/NTLMSSP authentication and key derivation. */
export async function sessionSetup(req: Request): Promise<Reply> {
  const { conn, server, header } = req;
  const r = req.r;
  const b = SMB2_HEADER_SIZE;
  const flags = r.u8(b + 2);
  const securityMode = r.u8(b + 3);
  const secOffset = r.u16(b + 12);
  const secLength = r.u16(b + 14);
  const token = secLength ? r.bytes(secOffset, secLength) : Buffer.alloc(0);

  if (flags & SessionSetupFlags.BINDING) return bindSession(req, token, responseBody);

  let session: Session;
  if (header.sessionId === 0n) {
    session = new Session(server.allocateSessionId());
    session.dialect = conn.dialect;
    session.channels.set(conn, { connection: conn, signingKey: Buffer.alloc(0) });
    if (conn.preauth) session.preauth = conn.preauth.clone();
    server.sessions.set(session.id, session);
  } else {
    const found = server.sessions.get(header.sessionId);
    if (!found || !found.channels.has(conn)) fail(Status.USER_SESSION_DELETED);
    session = found;
    if (session.state === 'expired') fail(Status.NETWORK_SESSION_EXPIRED);
  }
  req.responseSessionId = session.id;
  if (!session.authenticator) {
    session.authenticator = new SpnegoNtlmAcceptor({
      users: server.users,
      serverName: server.serverName,
      domain: server.workgroup,
      allowGuest: server.options.mapToGuest === 'bad_user',
    });
  }
  const reauth = session.isValid;
  if (session.preauth && !reauth) session.preauth.update(req.pdu);

  const step = await session.authenticator.step(token);
  if (step.status === Status.MORE_PROCESSING_REQUIRED) {
    const preauth = reauth ? undefined : session.preauth;
    return {
      status: Status.MORE_PROCESSING_REQUIRED,
      body: responseBody(0, step.outputToken),
      afterEncode: preauth ? (parts) => preauth.update(parts) : undefined,
    };
  }
  session.authenticator = undefined;
  if (step.status !== Status.SUCCESS || !step.identity) {
    conn.log.info({ status: step.status }, 'authentication failed');
    // A failed re-authentication ends the session too, as Windows and Samba do.
    if (reauth) server.deletedSessions.remember(session);
    await closeSession(server, session);
    fail(step.status === Status.SUCCESS ? Status.LOGON_FAILURE : step.status);
  }
  const id = step.identity;
  if (reauth) {
    // Re-authentication keeps the keys of the original setup ([MS-SMB2] 3.3.5.5.3).
    return { body: responseBody(sessionFlags(session), step.outputToken) };
  }

  session.identity = { user: id.user, domain: id.domain, isGuest: id.isGuest, isAnonymous: id.isAnonymous };
  const hasKey = !id.isGuest && !id.isAnonymous && id.sessionKey.length > 0;
  if (hasKey) {
    session.sessionKey = id.sessionKey;
    const keys = deriveSessionKeys(conn.dialect, id.sessionKey, session.preauth?.digest(), conn.cipherId);
    session.signingKey = keys.signingKey;
    session.encryptionKey = conn.cipherId ? keys.encryptionKey : Buffer.alloc(0);
    session.decryptionKey = conn.cipherId ? keys.decryptionKey : Buffer.alloc(0);
    session.applicationKey = keys.applicationKey;
    session.channels.get(conn)!.signingKey = keys.signingKey;
  }
  session.cipherId = conn.cipherId;
  session.signingAlgorithmId = conn.dialect >= Dialect.SMB3_00 ? conn.signingAlgorithmId : SigningAlgorithm.HMAC_SHA256;
  const clientRequires = ((conn.negotiate?.securityMode ?? 0) | securityMode) & SecurityMode.SIGNING_REQUIRED;
  session.signingRequired = hasKey && (server.options.signing === 'mandatory' || clientRequires !== 0);
  const globalEncrypt = server.options.encrypt ?? 'if_required';
  if (globalEncrypt === 'required' && (!hasKey || conn.cipherId === 0)) {
    await closeSession(server, session);
    fail(Status.ACCESS_DENIED, 'server requires encryption');
  }
  session.encryptData = hasKey && conn.cipherId !== 0 && (globalEncrypt === 'required' || globalEncrypt === 'desired');
  session.state = 'valid';
  session.preauth = undefined;
  await endPreviousSession(req, session, r.u64(b + 16));
  conn.log.info({ session: session.id.toString(16), user: id.user, guest: id.isGuest, anonymous: id.isAnonymous }, 'session established');
  return { body: responseBody(sessionFlags(session), step.outputToken), forceSign: hasKey };
}

/**
 * A client reconnecting after losing its connection names its old session: that session, if it belongs
 * to the same user, is torn down so its opens do not linger ([MS-SMB2] 3.3.5.5.3, PreviousSessionId).
 */
async function endPreviousSession(req: Request, session: Session, previousId: bigint): Promise<void> {
  if (previousId === 0n || previousId === session.id) return;
  const prev = req.server.sessions.get(previousId);
  if (!prev || !prev.identity || prev.identity.isAnonymous || prev.identity.isGuest) return;
  if (prev.identity.user.toLowerCase() !== session.identity!.user.toLowerCase()) return;
  await closeSession(req.server, prev);
}

function sessionFlags(session: Session): number {
  let f = 0;
  if (session.identity?.isGuest) f |= SessionFlags.IS_GUEST;
  if (session.identity?.isAnonymous) f |= SessionFlags.IS_NULL;
  if (session.encryptData) f |= SessionFlags.ENCRYPT_DATA;
  return f;
}

function responseBody(flags: number, token: Buffer): Buffer {
  const w = new Writer();
  w.u16(9).u16(flags).u16(token.length ? SMB2_HEADER_SIZE + 8 : 0).u16(token.length);
  w.put(token.length ? token : Buffer.alloc(1));
  return w.toBuffer();
}

/** LOGOFF ([MS-SMB2] 2.2.7, 3.3.5.6). */
export async function logoff(req: Request): Promise<Reply> {
  const session = req.requireSession();
  const b = Buffer.alloc(4);
  b.writeUInt16LE(4, 0);
  // The response is still signed with the session's key; the session ends once it is sent.
  return { body: b, afterSend: () => closeSession(req.server, session) };
}
