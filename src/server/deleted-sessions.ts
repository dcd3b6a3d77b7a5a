import type { Signer } from '../crypto/index.js';
import type { Connection } from './connection.js';
import type { Session } from './state/session.js';
import { channelSigner } from './security.js';

/**
 * Sessions that a failed re-authentication ended. Their channels' signing keys are kept for a while so
 * that the STATUS_USER_SESSION_DELETED answers to their signed requests are signed, as smbd does
 * (smbtorture's smb2.session.bind_invalid_auth: Samba's client takes an unsigned answer on a signed
 * session for an attack and reports STATUS_ACCESS_DENIED). Oldest entries go first beyond `limit`.
 */
export class DeletedSessions {
  private readonly byId = new Map<bigint, Map<Connection, Signer>>();

  constructor(private readonly limit = 64) {}

  /** Keeps the session's per-channel signers; call before its channels are cleared. */
  remember(session: Session): void {
    const signers = new Map<Connection, Signer>();
    for (const conn of session.channels.keys()) {
      const signer = channelSigner(session, conn);
      if (signer) signers.set(conn, signer);
    }
    if (signers.size === 0) return;
    this.byId.delete(session.id);
    this.byId.set(session.id, signers);
    while (this.byId.size > this.limit) this.byId.delete(this.byId.keys().next().value as bigint);
  }

  signerFor(sessionId: bigint, conn: Connection): Signer | undefined {
    return this.byId.get(sessionId)?.get(conn);
  }

  /** A closed connection sends nothing more. */
  forgetConnection(conn: Connection): void {
    for (const [id, signers] of this.byId) {
      signers.delete(conn);
      if (signers.size === 0) this.byId.delete(id);
    }
  }
}
