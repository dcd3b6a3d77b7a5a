import { SpnegoNtlmInitiator } from '../auth/initiator.js';
import { ntHashFromPassword } from '../auth/ntlm-crypto.js';
import { Capabilities, Command, HeaderFlags, SecurityMode, SessionFlags, SessionSetupFlags, ShareFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { createSigner, deriveSessionKeys, deriveSigningKey, type Signer } from '../crypto/index.js';
import { SmbError } from './errors.js';
import { Connection, verifyResponse, type ChannelSecurity, type RequestOptions, type Response } from './connection.js';
import { negotiate, type NegotiateResult } from './negotiate.js';
import { responseBuffer } from './messages.js';
import { Tree } from './tree.js';
import { ChannelSet, type ChannelLoss, type SessionChannel } from './channels.js';

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
  /** Multichannel failover: see ChannelSetOptions.stallTimeoutMs. */
  stallTimeoutMs?: number;
  /** See ChannelSetOptions.lastChannelTimeoutMs. */
  lastChannelTimeoutMs?: number;
  /** Called when a channel is given up on (its outstanding requests are being replayed elsewhere). */
  onChannelLoss?: (loss: ChannelLoss) => void;
  /** A channel bind with no answer after this long (from its turn, once connected) fails. Default 10 s. */
  bindTimeoutMs?: number;
}

interface Identity {
  user: string;
  domain: string;
  ntHash: Buffer;
}

interface AuthResult {
  sessionId: bigint;
  sessionKey: Buffer;
  final: Response;
  /** This connection's pre-auth hash over NEGOTIATE and the SESSION_SETUP exchange (3.1.1). */
  preauthDigest?: Buffer;
}

/**
 * The SPNEGO/NTLMv2 exchange of SESSION_SETUP on one connection, shared by a new session and a
 * channel bind. A bind names the session in the header, sets SMB2_SESSION_FLAG_BINDING and signs
 * each leg with the session's key ([MS-SMB2] 3.2.5.3.1, 3.3.5.5.2).
 */
async function authenticate(conn: Connection, neg: NegotiateResult, id: Identity, bind?: { sessionId: bigint; signer: Signer }): Promise<AuthResult> {
  const init = new SpnegoNtlmInitiator({ user: id.user, domain: id.domain, ntHash: id.ntHash });
  const preauth = neg.preauth?.clone();
  conn.onPreauthMessage = (msg, _dir, command) => {
    if (command === Command.SESSION_SETUP) preauth?.update(msg);
  };
  const step = (token: Buffer, sessionId: bigint): Promise<Response> => {
    const b = Buffer.alloc(24 + token.length);
    b.writeUInt16LE(25, 0);
    b[2] = bind ? SessionSetupFlags.BINDING : 0;
    b[3] = SecurityMode.SIGNING_ENABLED;
    b.writeUInt16LE(SMB2_HEADER_SIZE + 24, 12);
    b.writeUInt16LE(token.length, 14);
    token.copy(b, 24);
    return conn.request({ command: Command.SESSION_SETUP, body: b, sessionId, okStatus: [Status.MORE_PROCESSING_REQUIRED], signWith: bind?.signer });
  };
  try {
    const r1 = await step(init.first(), bind?.sessionId ?? 0n);
    const sessionId = r1.sessionId;
    if (bind && sessionId !== bind.sessionId) throw new SmbError(Status.INVALID_PARAMETER, Command.SESSION_SETUP, 'bind answered for another session');
    const r2 = await step(init.second(responseBuffer(r1.msg, 4, 6, false)), sessionId);
    init.finish(responseBuffer(r2.msg, 4, 6, false));
    return { sessionId, sessionKey: init.sessionKey, final: r2, preauthDigest: preauth?.digest() };
  } finally {
    conn.onPreauthMessage = undefined;
  }
}

/** 3.x servers sign the final SESSION_SETUP response with the new key: it proves they hold it too. */
function checkFinalSignature(signer: Signer, r: Response, required: boolean): void {
  if (!(r.flags & HeaderFlags.SIGNED)) {
    if (required) throw new SmbError(Status.ACCESS_DENIED, Command.SESSION_SETUP, 'unsigned final response');
    return;
  }
  if (!verifyResponse(signer, r.msg)) throw new SmbError(Status.ACCESS_DENIED, Command.SESSION_SETUP, 'bad signature on the final response');
}

/**
 * An authenticated session and its channels: the first connection, and any bound to it later
 * (multichannel). Requests go to a channel the ChannelSet picks; each channel carries its own
 * signer, while the sealing keys are the session's.
 */
export class Session {
  readonly channels: ChannelSet;
  /** Binds take turns on the wire (see bindChannel); this is the last one queued. */
  private bindTurn: Promise<unknown> = Promise.resolve();
  private readonly bindTimeoutMs: number;

  private constructor(
    readonly connection: Connection,
    readonly id: bigint,
    readonly negotiated: NegotiateResult,
    readonly security: ChannelSecurity,
    private readonly forceEncrypt: boolean,
    private readonly identity: Identity,
    private readonly port: number,
    /** Signs bind requests with the session's key, even where the session's requests go unsigned (sealed or `sign: false`). */
    private readonly bindSigner: Signer | undefined,
    o: SessionOptions,
  ) {
    this.bindTimeoutMs = o.bindTimeoutMs ?? 10_000;
    this.channels = new ChannelSet({ connection, security, speed: 0 }, { stallTimeoutMs: o.stallTimeoutMs, lastChannelTimeoutMs: o.lastChannelTimeoutMs, onLoss: o.onChannelLoss });
  }

  static async setup(conn: Connection, neg: NegotiateResult, cred: Credentials, o: SessionOptions = {}, port = 445): Promise<Session> {
    const identity: Identity = { user: cred.user, domain: cred.domain ?? '', ntHash: await ntHashFromPassword(cred.password) };
    const auth = await authenticate(conn, neg, identity);
    const sessionFlags = auth.final.msg.readUInt16LE(SMB2_HEADER_SIZE + 2);
    const keys = deriveSessionKeys(neg.dialect, auth.sessionKey, auth.preauthDigest, neg.cipherId);
    const canSeal = neg.dialect >= 0x0300;
    const encrypt = canSeal && ((sessionFlags & SessionFlags.ENCRYPT_DATA) !== 0 || !!o.encrypt);
    const sign = o.sign !== false || (neg.securityMode & SecurityMode.SIGNING_REQUIRED) !== 0;
    const anonymous = (sessionFlags & (SessionFlags.IS_GUEST | SessionFlags.IS_NULL)) !== 0;
    const security: ChannelSecurity = {
      sessionId: auth.sessionId,
      signer: sign && !anonymous ? createSigner(neg.signingAlgorithm, keys.signingKey) : undefined,
      cipherId: neg.cipherId || 1,
      encryptKey: keys.decryptionKey,
      decryptKey: keys.encryptionKey,
      encrypt,
    };
    if (security.signer && !security.encrypt) checkFinalSignature(security.signer, auth.final, false);
    conn.addSession(security);
    const bindSigner = anonymous ? undefined : createSigner(neg.signingAlgorithm, keys.signingKey);
    return new Session(conn, auth.sessionId, neg, security, !!o.encrypt, identity, port, bindSigner, o);
  }

  /**
   * Opens a connection to `host`, negotiates the session's dialect, cipher and signing algorithm
   * with the same ClientGUID, and binds it to this session as a new channel with its own signing
   * key (3.1.1: from this connection's own pre-auth hash). `speed` (bits/s) weighs its share of IO.
   *
   * Several binds may be asked for at once: their TCP connects run in parallel (an unreachable
   * address costs its connect timeout once), but the NEGOTIATE and SESSION_SETUP exchanges take
   * turns. Samba 4.17's smbd, given three binds of one session at once, now and then leaves one
   * unanswered: a script binding three at once hung within its first 1 to 11 tries in each of
   * three runs, and never in 80 tries one at a time. A bind still unanswered after
   * `bindTimeoutMs` fails, closing its connection, rather than wait forever.
   */
  async bindChannel(host: string, speed = 0, port = this.port, connectTimeoutMs = 3000): Promise<SessionChannel> {
    const neg0 = this.negotiated;
    if (neg0.dialect < 0x0300) throw new SmbError(Status.NOT_SUPPORTED, Command.SESSION_SETUP, 'multichannel needs SMB 3.x');
    if (!(neg0.capabilities & Capabilities.MULTI_CHANNEL)) throw new SmbError(Status.NOT_SUPPORTED, Command.SESSION_SETUP, 'the server does not offer multichannel');
    // The bind is signed with the session's key; a guest or anonymous session has none to sign with.
    const sessionSigner = this.bindSigner;
    if (!sessionSigner) throw new SmbError(Status.NOT_SUPPORTED, Command.SESSION_SETUP, 'a guest or anonymous session cannot bind channels');
    const conn = await Connection.connect(host, port, connectTimeoutMs);
    const turn = this.bindTurn.then(() => this.bindWithin(conn, host, speed, sessionSigner, this.bindTimeoutMs));
    this.bindTurn = turn.catch(() => undefined);
    return turn;
  }

  private async bindWithin(conn: Connection, host: string, speed: number, sessionSigner: Signer, timeoutMs: number): Promise<SessionChannel> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn.close();
        reject(new SmbError(Status.IO_TIMEOUT, Command.SESSION_SETUP, `no answer to the bind on ${host} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.bindOn(conn, host, speed, sessionSigner), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async bindOn(conn: Connection, host: string, speed: number, sessionSigner: Signer): Promise<SessionChannel> {
    const neg0 = this.negotiated;
    try {
      const neg = await negotiate(conn, neg0.clientGuid, {
        dialects: [neg0.dialect],
        ciphers: neg0.dialect === 0x0311 && neg0.cipherId ? [neg0.cipherId] : undefined,
        signingAlgorithms: neg0.dialect === 0x0311 ? [neg0.signingAlgorithm] : undefined,
      });
      if (neg.dialect !== neg0.dialect || !neg.serverGuid.equals(neg0.serverGuid)) {
        throw new SmbError(Status.INVALID_PARAMETER, Command.NEGOTIATE, `${host} is another server or dialect`);
      }
      const auth = await authenticate(conn, neg, this.identity, { sessionId: this.id, signer: sessionSigner });
      const signer = createSigner(neg.signingAlgorithm, deriveSigningKey(neg.dialect, auth.sessionKey, auth.preauthDigest));
      checkFinalSignature(signer, auth.final, true);
      const security: ChannelSecurity = { ...this.security, signer };
      conn.addSession(security);
      return this.channels.add({ connection: conn, security, speed });
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  request(o: RequestOptions): Promise<Response> {
    return this.channels.send({ ...o, sessionId: this.id });
  }

  /** TREE_CONNECT to \\server\share ([MS-SMB2] 2.2.9). */
  async connectTree(host: string, share: string): Promise<Tree> {
    const path = Buffer.from(`\\\\${host}\\${share}`, 'utf16le');
    const b = Buffer.alloc(8 + path.length);
    b.writeUInt16LE(9, 0);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 8, 4);
    b.writeUInt16LE(path.length, 6);
    path.copy(b, 8);
    // [MS-SMB2] 3.2.4.1.1: on 3.1.1 a TREE_CONNECT is signed even where the session's requests
    // go unsigned (`sign: false`), unless it is sealed or the session is guest or anonymous.
    const mustSign = this.negotiated.dialect === 0x0311 && !this.security.signer && !this.encrypted && this.bindSigner;
    const r = await this.request({ command: Command.TREE_CONNECT, body: b, ...(mustSign ? { signWith: this.bindSigner } : {}) });
    if (mustSign && !verifyResponse(this.bindSigner!, r.msg)) throw new SmbError(Status.ACCESS_DENIED, Command.TREE_CONNECT, 'TREE_CONNECT response not signed with the session key');
    const shareFlags = r.msg.readUInt32LE(SMB2_HEADER_SIZE + 4);
    if (shareFlags & ShareFlags.ENCRYPT_DATA && this.negotiated.dialect >= 0x0300) this.channels.setEncrypt();
    return new Tree(this, r.treeId);
  }

  get encrypted(): boolean {
    return this.security.encrypt || this.forceEncrypt;
  }

  /** LOGOFF on one channel ends the session on all of them; then every channel but the first is closed. */
  async logoff(): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt16LE(4, 0);
    await this.request({ command: Command.LOGOFF, body: b }).catch(() => undefined);
    this.channels.stop();
    for (const ch of this.channels.list) {
      ch.connection.removeSession(this.id);
      if (ch.connection !== this.connection) ch.connection.close();
    }
  }
}
