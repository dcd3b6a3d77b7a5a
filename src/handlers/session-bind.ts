import { SMB2_HEADER_SIZE, HeaderFlags, SigningAlgorithm } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { deriveSigningKey } from '../crypto/index.js';
import { SpnegoNtlmAcceptor } from '../auth/index.js';
import { sessionSigner, verifyRequest } from '../server/security.js';
import type { Channel } from '../server/state/session.js';
import type { Reply, Request } from '../server/request.js';

/** Windows Server 2012 and later, and Samba, take at most 32 channels per session. */
export const MAX_CHANNELS = 32;

/**
 * SESSION_SETUP with SMB2_SESSION_FLAG_BINDING ([MS-SMB2] 3.3.5.5.2): a new connection of the same
 * client joins an existing session after authenticating as the same user. The channel gets its own
 * signing key from this authentication (in 3.1.1 with the pre-auth hash of this connection's exchange).
 * The checks and their status codes are those smbtorture's smb2.session.bind* expect of Windows.
 */
export async function bindSession(req: Request, token: Buffer, respond: (flags: number, token: Buffer) => Buffer): Promise<Reply> {
  const { conn, server, header } = req;
  if (header.sessionId === 0n) fail(Status.INVALID_PARAMETER, 'bind without a session id');
  const session = server.sessions.get(header.sessionId);
  // Looked up in the global table, whatever the ClientGuid: Windows answers the checks below even
  // for a connection of another client (smbtorture's bind_negative_*d tests).
  if (!session || !session.isValid) fail(Status.USER_SESSION_DELETED);
  req.responseSessionId = session.id;

  const gmac = SigningAlgorithm.AES_GMAC;
  if (session.signingAlgorithmId >= gmac && conn.signingAlgorithmId !== session.signingAlgorithmId) fail(Status.REQUEST_OUT_OF_SEQUENCE);
  if (conn.signingAlgorithmId >= gmac && session.signingAlgorithmId !== conn.signingAlgorithmId) fail(Status.NOT_SUPPORTED);
  if (conn.dialect < 0x0300 || server.options.multiChannel === false) fail(Status.REQUEST_NOT_ACCEPTED, 'multichannel not available');
  if (!(header.flags & HeaderFlags.SIGNED)) fail(Status.INVALID_PARAMETER, 'unsigned bind');
  const signer = sessionSigner(session);
  if (!signer || !verifyRequest(req.pdu, signer, header.messageId, header.command)) fail(Status.ACCESS_DENIED, 'bad bind signature');
  if (session.dialect !== conn.dialect) fail(Status.INVALID_PARAMETER, 'dialect differs from the session');
  if (session.cipherId !== conn.cipherId) fail(Status.INVALID_PARAMETER, 'cipher differs from the session');

  let channel: Channel | undefined = session.channels.get(conn);
  if (channel && channel.signingKey.length > 0) fail(Status.REQUEST_NOT_ACCEPTED, 'already bound');
  if (session.identity?.isGuest || session.identity?.isAnonymous) fail(Status.NOT_SUPPORTED);
  if (!channel && session.channels.size >= MAX_CHANNELS) fail(Status.INSUFFICIENT_RESOURCES, `session has ${MAX_CHANNELS} channels`);
  if (!channel) {
    channel = { connection: conn, signingKey: Buffer.alloc(0) };
    session.channels.set(conn, channel);
  }
  channel.binding ??= {
    authenticator: new SpnegoNtlmAcceptor({ users: server.users, serverName: server.serverName, domain: server.workgroup, allowGuest: false }),
    preauth: conn.preauth?.clone(),
  };
  const binding = channel.binding;
  binding.preauth?.update(req.pdu);

  const step = await binding.authenticator.step(token);
  if (step.status === Status.MORE_PROCESSING_REQUIRED) {
    return { status: step.status, body: respond(0, step.outputToken), afterEncode: binding.preauth ? (parts) => binding.preauth!.update(parts) : undefined };
  }
  channel.binding = undefined;
  const id = step.identity;
  const dropChannel = (): void => {
    if (channel!.signingKey.length === 0) session.channels.delete(conn);
  };
  if (step.status !== Status.SUCCESS || !id) {
    dropChannel();
    fail(step.status === Status.SUCCESS ? Status.LOGON_FAILURE : step.status);
  }
  if (id.user.toLowerCase() !== session.identity!.user.toLowerCase()) {
    dropChannel();
    fail(Status.ACCESS_DENIED, 'bind as another user');
  }
  if (id.sessionKey.length === 0) {
    dropChannel();
    fail(Status.NOT_SUPPORTED);
  }
  channel.signingKey = deriveSigningKey(conn.dialect, id.sessionKey, binding.preauth?.digest());
  channel.signer = undefined;
  conn.log.info({ session: session.id.toString(16), channels: session.channels.size }, 'channel bound to session');
  return { body: respond(0, step.outputToken), forceSign: true };
}
