import { SpnegoNtlmInitiator } from '../auth/initiator.js';
import { ntHashFromPassword } from '../auth/ntlm-crypto.js';
import { Command, HeaderFlags, SecurityMode, SessionFlags, ShareFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { createSigner, deriveSessionKeys } from '../crypto/index.js';
import { SmbError } from './errors.js';
import { verifyResponse, type ChannelSecurity, type Connection, type RequestOptions, type Response } from './connection.js';
import type { NegotiateResult } from './negotiate.js';
import { responseBuffer } from './messages.js';
import { Tree } from './tree.js';

export interface Credentials {
  user: string;
  password: string;
  domain?: string;
}

export interface SessionOptions {
  /** Seal every request of the session even if the server does not ask for it (3.x only). */
  encrypt?: boolean;
  /** Sign even when the server does not require it. Default true. */
  sign?: boolean;
}

/**
 * An authenticated session. It holds the session keys; its channels (one Connection today) each
 * carry a ChannelSecurity with the signer for that channel, so binding more channels later adds entries.
 */
export class Session {
  private constructor(
    readonly connection: Connection,
    readonly id: bigint,
    readonly negotiated: NegotiateResult,
    readonly security: ChannelSecurity,
    private readonly forceEncrypt: boolean,
  ) {}

  static async setup(conn: Connection, neg: NegotiateResult, cred: Credentials, o: SessionOptions = {}): Promise<Session> {
    const init = new SpnegoNtlmInitiator({ user: cred.user, domain: cred.domain ?? '', ntHash: await ntHashFromPassword(cred.password) });
    const preauth = neg.preauth?.clone();
    conn.onPreauthMessage = (msg, _dir, command) => {
      if (command === Command.SESSION_SETUP) preauth?.update(msg);
    };
    const step = (token: Buffer, sessionId: bigint): Promise<Response> => {
      const b = Buffer.alloc(24 + token.length);
      b.writeUInt16LE(25, 0);
      b[3] = SecurityMode.SIGNING_ENABLED;
      b.writeUInt16LE(SMB2_HEADER_SIZE + 24, 12);
      b.writeUInt16LE(token.length, 14);
      token.copy(b, 24);
      return conn.request({ command: Command.SESSION_SETUP, body: b, sessionId, okStatus: [Status.MORE_PROCESSING_REQUIRED] });
    };
    try {
      const r1 = await step(init.first(), 0n);
      const sessionId = r1.sessionId;
      const r2 = await step(init.second(responseBuffer(r1.msg, 4, 6, false)), sessionId);
      init.finish(responseBuffer(r2.msg, 4, 6, false));
      const sessionFlags = r2.msg.readUInt16LE(SMB2_HEADER_SIZE + 2);
      const keys = deriveSessionKeys(neg.dialect, init.sessionKey, preauth?.digest(), neg.cipherId);
      const canSeal = neg.dialect >= 0x0300;
      const encrypt = canSeal && ((sessionFlags & SessionFlags.ENCRYPT_DATA) !== 0 || !!o.encrypt);
      const sign = o.sign !== false || (neg.securityMode & SecurityMode.SIGNING_REQUIRED) !== 0;
      const security: ChannelSecurity = {
        sessionId,
        signer: sign && !(sessionFlags & (SessionFlags.IS_GUEST | SessionFlags.IS_NULL)) ? createSigner(neg.signingAlgorithm, keys.signingKey) : undefined,
        cipherId: neg.cipherId || 1,
        encryptKey: keys.decryptionKey,
        decryptKey: keys.encryptionKey,
        encrypt,
      };
      // 3.x servers sign the final SESSION_SETUP response with the new key: it proves they hold it too.
      if (security.signer && r2.flags & HeaderFlags.SIGNED && !security.encrypt) {
        const ok = verifyResponse(security.signer, r2.msg);
        if (!ok) throw new SmbError(Status.ACCESS_DENIED, Command.SESSION_SETUP, 'bad signature on the final response');
      }
      conn.addSession(security);
      return new Session(conn, sessionId, neg, security, !!o.encrypt);
    } finally {
      conn.onPreauthMessage = undefined;
    }
  }

  request(o: RequestOptions): Promise<Response> {
    return this.connection.request({ ...o, sessionId: this.id });
  }

  /** TREE_CONNECT to \\server\share ([MS-SMB2] 2.2.9). */
  async connectTree(host: string, share: string): Promise<Tree> {
    const path = Buffer.from(`\\\\${host}\\${share}`, 'utf16le');
    const b = Buffer.alloc(8 + path.length);
    b.writeUInt16LE(9, 0);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 8, 4);
    b.writeUInt16LE(path.length, 6);
    path.copy(b, 8);
    const r = await this.request({ command: Command.TREE_CONNECT, body: b });
    const shareFlags = r.msg.readUInt32LE(SMB2_HEADER_SIZE + 4);
    if (shareFlags & ShareFlags.ENCRYPT_DATA && this.negotiated.dialect >= 0x0300) this.security.encrypt = true;
    return new Tree(this, r.treeId);
  }

  get encrypted(): boolean {
    return this.security.encrypt || this.forceEncrypt;
  }

  async logoff(): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt16LE(4, 0);
    await this.request({ command: Command.LOGOFF, body: b }).catch(() => undefined);
    this.connection.removeSession(this.id);
  }
}
