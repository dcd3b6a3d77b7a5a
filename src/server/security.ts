import { HeaderFlags, SMB2_HEADER_SIZE, Command } from '../protocol/constants.js';
import { createSigner, verify, type Signer, type TailTag } from '../crypto/index.js';
import type { Session, Channel } from './state/session.js';
import type { Connection } from './connection.js';

/**
 * The signer of a session on one channel, created on first use. A bound channel signs with its own key
 * and its connection's algorithm (channels of one session may have negotiated different ones). A
 * connection that is not (yet) a bound channel has no key of its own: binding messages and their
 * errors are signed with the session's key and algorithm ([MS-SMB2] 3.3.5.2.4), as Samba does.
 */
export function channelSigner(session: Session, conn: Connection): Signer | undefined {
  const ch: Channel | undefined = session.channels.get(conn);
  if (ch && ch.signingKey.length > 0) {
    ch.signer ??= createSigner(conn.signingAlgorithmId, ch.signingKey);
    return ch.signer;
  }
  return sessionSigner(session);
}

/** A signer with the session's own key and algorithm (those of its first channel). */
export function sessionSigner(session: Session): Signer | undefined {
  if (session.signingKey.length === 0) return undefined;
  return createSigner(session.signingAlgorithmId, session.signingKey);
}

/** Signs a response PDU in place: parts[0] is its 64-byte header. */
export function signResponse(parts: Buffer[], signer: Signer, messageId: bigint, tail?: TailTag): void {
  const hdr = parts[0]!;
  hdr.writeUInt32LE((hdr.readUInt32LE(16) | HeaderFlags.SIGNED) >>> 0, 16);
  hdr.fill(0, 48, 64);
  const opts = { messageId, isResponse: true, isCancel: false };
  const last = parts[parts.length - 1]!;
  // The tail's tag stands for the last buffer only if it covered exactly that many bytes.
  const joined = tail && parts.length > 1 && last.length === tail.length ? signer.signJoined?.(Buffer.concat(parts.slice(0, -1)), tail, opts) : undefined;
  (joined ?? signer.sign(parts, opts)).copy(hdr, 48);
}

/** Checks the signature of a received PDU without modifying it. */
export function verifyRequest(pdu: Buffer, signer: Signer, messageId: bigint, command: number): boolean {
  const hdr = Buffer.from(pdu.subarray(0, SMB2_HEADER_SIZE));
  const sig = Buffer.from(hdr.subarray(48, 64));
  hdr.fill(0, 48, 64);
  return verify(signer, [hdr, pdu.subarray(SMB2_HEADER_SIZE)], { messageId, isResponse: false, isCancel: command === Command.CANCEL }, sig);
}
