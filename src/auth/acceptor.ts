import { parseAvPairs } from './ntlm-messages.js';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NtStatusError, Status } from '../protocol/status.js';
import type { UserStore } from '../server/options.js';
import { rc4 } from '../crypto/rc4.js';
import { AvId, NtlmFlag } from './ntlm-flags.js';
import {
  buildChallenge,
  encodeAvPairs,
  isNtlmssp,
  messageType,
  MessageType,
  MIC_OFFSET,
  parseAuthenticate,
  parseNegotiate,
  type AuthenticateMessage,
} from './ntlm-messages.js';
import { blobHasMic, fileTime, ntowfv2, ntProofStr, sessionBaseKey } from './ntlm-crypto.js';
import { NtlmSecurityContext } from './ntlm-security.js';
import {
  buildNegotiateSecurityBlob,
  buildNegTokenResp,
  isNegTokenInit,
  isNegTokenResp,
  NegState,
  OID_NTLMSSP,
  parseNegTokenInit,
  parseNegTokenResp,
} from './spnego.js';

export interface AuthIdentity {
  user: string;
  domain: string;
  isAnonymous: boolean;
  isGuest: boolean;
  /** ExportedSessionKey (16 bytes); empty for anonymous and guest sessions, which cannot sign. */
  sessionKey: Buffer;
}

export interface AuthStep {
  /** MORE_PROCESSING_REQUIRED, SUCCESS, LOGON_FAILURE or INVALID_PARAMETER. */
  status: number;
  outputToken: Buffer;
  identity?: AuthIdentity;
}

export interface AcceptorOptions {
  users: UserStore;
  /** NetBIOS name of this server. */
  serverName: string;
  /** NetBIOS domain / workgroup. */
  domain: string;
  /** "map to guest = bad user": an unknown user name logs on as guest (a wrong password never does). */
  allowGuest: boolean;
  /** For known-answer tests only: a fixed server challenge. */
  serverChallenge?: Buffer;
}

type Phase = 'start' | 'need-negotiate' | 'need-authenticate' | 'done';

/** Flags the server echoes when the client asked for them. */
const MIRRORED =
  NtlmFlag.SIGN |
  NtlmFlag.SEAL |
  NtlmFlag.ALWAYS_SIGN |
  NtlmFlag.EXTENDED_SESSIONSECURITY |
  NtlmFlag.KEY_EXCH |
  NtlmFlag.N128 |
  NtlmFlag.N56 |
  NtlmFlag.VERSION |
  NtlmFlag.REQUEST_TARGET |
  NtlmFlag.IDENTIFY;

function fail(status: number): AuthStep {
  return { status, outputToken: Buffer.alloc(0) };
}

/**
 * Server side of SPNEGO ([MS-SPNG], RFC 4178) carrying NTLMSSP ([MS-NLMP]), NTLMv2 only.
 * One instance per SESSION_SETUP exchange. Raw NTLMSSP tokens are answered raw.
 */
export class SpnegoNtlmAcceptor {
  private phase: Phase = 'start';
  private spnego = true;
  private mechTypesDer?: Buffer;
  /** The client preferred another mechanism first, so RFC 4178 5 requires the mechListMIC exchange. */
  private downgraded = false;
  private negotiateMsg?: Buffer;
  private challengeMsg?: Buffer;
  private challengeFlags = 0;
  private serverChallenge = Buffer.alloc(8);

  constructor(private readonly opts: AcceptorOptions) {}

  async step(token: Buffer): Promise<AuthStep> {
    try {
      return await this.dispatch(token);
    } catch (e) {
      this.phase = 'done';
      if (e instanceof NtStatusError) return fail(e.status === Status.LOGON_FAILURE ? e.status : Status.INVALID_PARAMETER);
      throw e;
    }
  }

  private async dispatch(token: Buffer): Promise<AuthStep> {
    switch (this.phase) {
      case 'start':
        return this.first(token);
      case 'need-negotiate': {
        const inner = this.unwrapResp(token).responseToken;
        if (!inner) return fail(Status.INVALID_PARAMETER);
        return this.onNegotiate(inner);
      }
      case 'need-authenticate': {
        if (!this.spnego) return this.onAuthenticate(token, undefined);
        const resp = this.unwrapResp(token);
        if (!resp.responseToken) return fail(Status.INVALID_PARAMETER);
        return this.onAuthenticate(resp.responseToken, resp.mechListMIC);
      }
      default:
        return fail(Status.INVALID_PARAMETER);
    }
  }

  private unwrapResp(token: Buffer) {
    if (!this.spnego || !isNegTokenResp(token)) throw new NtStatusError(Status.INVALID_PARAMETER, 'expected NegTokenResp');
    return parseNegTokenResp(token);
  }

  private async first(token: Buffer): Promise<AuthStep> {
    if (token.length === 0) {
      // The client wants our mechanism list first (as if it ignored the NEGOTIATE response's blob).
      return { status: Status.MORE_PROCESSING_REQUIRED, outputToken: buildNegotiateSecurityBlob() };
    }
    if (isNtlmssp(token)) {
      this.spnego = false;
      return this.onNegotiate(token);
    }
    if (!isNegTokenInit(token)) return fail(Status.INVALID_PARAMETER);
    const init = parseNegTokenInit(token);
    this.mechTypesDer = init.mechTypesDer;
    const idx = init.mechTypes.indexOf(OID_NTLMSSP);
    if (idx < 0) {
      this.phase = 'done';
      return { status: Status.LOGON_FAILURE, outputToken: buildNegTokenResp({ negState: NegState.REJECT }) };
    }
    if (idx > 0 || !init.mechToken) {
      // An optimistic token for another mechanism (or none): pick NTLMSSP and let the client start it.
      this.downgraded = idx > 0;
      this.phase = 'need-negotiate';
      return {
        status: Status.MORE_PROCESSING_REQUIRED,
        outputToken: buildNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, supportedMech: OID_NTLMSSP }),
      };
    }
    return this.onNegotiate(init.mechToken);
  }

  private onNegotiate(msg: Buffer): AuthStep {
    if (messageType(msg) !== MessageType.NEGOTIATE) return fail(Status.INVALID_PARAMETER);
    const neg = parseNegotiate(msg);
    this.negotiateMsg = Buffer.from(msg);
    this.serverChallenge = this.opts.serverChallenge ? Buffer.from(this.opts.serverChallenge) : randomBytes(8);

    let flags = NtlmFlag.NTLM | NtlmFlag.TARGET_INFO | (neg.flags & MIRRORED);
    flags |= neg.flags & NtlmFlag.UNICODE ? NtlmFlag.UNICODE : NtlmFlag.OEM;
    if (flags & NtlmFlag.REQUEST_TARGET) flags |= NtlmFlag.TARGET_TYPE_SERVER;
    this.challengeFlags = flags >>> 0;

    const u = (s: string) => Buffer.from(s, 'utf16le');
    const nbName = this.opts.serverName.toUpperCase();
    const nbDomain = this.opts.domain.toUpperCase();
    const targetInfo = encodeAvPairs([
      { id: AvId.NB_DOMAIN_NAME, value: u(nbDomain) },
      { id: AvId.NB_COMPUTER_NAME, value: u(nbName) },
      { id: AvId.DNS_DOMAIN_NAME, value: u(this.opts.domain.toLowerCase()) },
      { id: AvId.DNS_COMPUTER_NAME, value: u(this.opts.serverName.toLowerCase()) },
      // A timestamp makes clients send NTLMv2 with a MIC ([MS-NLMP] 3.1.5.1.2).
      { id: AvId.TIMESTAMP, value: fileTime() },
    ]);
    this.challengeMsg = buildChallenge({
      flags: this.challengeFlags,
      serverChallenge: this.serverChallenge,
      targetName: nbName,
      targetInfo,
    });
    this.phase = 'need-authenticate';
    const out = this.spnego
      ? buildNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, supportedMech: OID_NTLMSSP, responseToken: this.challengeMsg })
      : this.challengeMsg;
    return { status: Status.MORE_PROCESSING_REQUIRED, outputToken: out };
  }

  private async onAuthenticate(msg: Buffer, clientMechListMic: Buffer | undefined): Promise<AuthStep> {
    this.phase = 'done';
    if (messageType(msg) !== MessageType.AUTHENTICATE) return fail(Status.INVALID_PARAMETER);
    const auth = parseAuthenticate(msg);
    const identity = await this.authenticate(auth, msg);
    if (!identity) return this.reject(Status.LOGON_FAILURE);

    // Negotiated flags: what the client confirms, limited to what we offered.
    const flags = (auth.flags & this.challengeFlags) >>> 0;
    let serverMic: Buffer | undefined;
    const canSign =
      identity.sessionKey.length === 16 &&
      (flags & NtlmFlag.SIGN) !== 0 &&
      (flags & NtlmFlag.EXTENDED_SESSIONSECURITY) !== 0;
    if (this.spnego && canSign && this.mechTypesDer) {
      const newSpnego = blobHasMic(auth.ntResponse) || clientMechListMic !== undefined || this.downgraded;
      const sec = new NtlmSecurityContext(identity.sessionKey, flags, 'server');
      if (clientMechListMic && !sec.verify(this.mechTypesDer, clientMechListMic)) return this.reject(Status.LOGON_FAILURE);
      if (newSpnego) serverMic = sec.sign(this.mechTypesDer);
    }
    const out = this.spnego ? buildNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: serverMic }) : Buffer.alloc(0);
    return { status: Status.SUCCESS, outputToken: out, identity };
  }

  private reject(status: number): AuthStep {
    return { status, outputToken: this.spnego ? buildNegTokenResp({ negState: NegState.REJECT }) : Buffer.alloc(0) };
  }

  /** Check the AUTHENTICATE message; undefined means logon failure. */
  private async authenticate(auth: AuthenticateMessage, raw: Buffer): Promise<AuthIdentity | undefined> {
    const lmEmpty = auth.lmResponse.length === 0 || (auth.lmResponse.length === 1 && auth.lmResponse[0] === 0);
    if (auth.user === '' && auth.ntResponse.length === 0 && lmEmpty) {
      return { user: '', domain: auth.domain, isAnonymous: true, isGuest: false, sessionKey: Buffer.alloc(0) };
    }
    const record = (await this.opts.users.get(auth.user)) ?? (await this.opts.users.get(auth.user.toLowerCase()));
    if (!record) {
      if (!this.opts.allowGuest) return undefined;
      return { user: auth.user, domain: auth.domain, isAnonymous: false, isGuest: true, sessionKey: Buffer.alloc(0) };
    }
    // NTLMv1 (24-byte NT response) and LM-only logons are refused: NTLMv2 responses are 16 + at least 28 bytes.
    if (auth.ntResponse.length < 16 + 28) return undefined;
    const proof = auth.ntResponse.subarray(0, 16);
    const blob = auth.ntResponse.subarray(16);
    // A client blob whose AV pairs do not parse is malformed, not a wrong password (Samba bug 14932).
    parseAvPairs(blob.subarray(28));

    // NTOWFv2 mixes in the domain the client typed; like Samba, also try it upper-cased and empty.
    let responseKey: Buffer | undefined;
    for (const domain of new Set([auth.domain, auth.domain.toUpperCase(), ''])) {
      const key = ntowfv2(record.ntHash, auth.user, domain);
      if (timingSafeEqual(ntProofStr(key, this.serverChallenge, blob), proof)) {
        responseKey = key;
        break;
      }
    }
    if (!responseKey) return undefined;

    const keyExchangeKey = sessionBaseKey(responseKey, proof);
    let exported = keyExchangeKey;
    if (auth.flags & this.challengeFlags & NtlmFlag.KEY_EXCH) {
      if (auth.encryptedRandomSessionKey.length !== 16) throw new NtStatusError(Status.INVALID_PARAMETER, 'bad session key');
      exported = rc4(keyExchangeKey, auth.encryptedRandomSessionKey);
    }

    if (blobHasMic(auth.ntResponse)) {
      if (auth.payloadStart < MIC_OFFSET + 16 || raw.length < MIC_OFFSET + 16) {
        throw new NtStatusError(Status.INVALID_PARAMETER, 'MIC announced but absent');
      }
      const zeroed = Buffer.from(raw);
      zeroed.fill(0, MIC_OFFSET, MIC_OFFSET + 16);
      const mic = createHmac('md5', exported).update(this.negotiateMsg!).update(this.challengeMsg!).update(zeroed).digest();
      if (!timingSafeEqual(mic, raw.subarray(MIC_OFFSET, MIC_OFFSET + 16))) {
        throw new NtStatusError(Status.INVALID_PARAMETER, 'NTLMSSP MIC mismatch');
      }
    }
    return { user: record.name, domain: auth.domain, isAnonymous: false, isGuest: false, sessionKey: exported };
  }
}

