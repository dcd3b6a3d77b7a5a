import { createHmac, randomBytes } from 'node:crypto';
import { rc4 } from '../crypto/rc4.js';
import { NtStatusError, Status } from '../protocol/status.js';
import { AvId, NtlmFlag } from './ntlm-flags.js';
import { buildAuthenticate, buildNegotiate, encodeAvPairs, MIC_OFFSET, parseAvPairs, parseChallenge } from './ntlm-messages.js';
import { buildClientBlob, fileTime, ntowfv2, ntProofStr, sessionBaseKey } from './ntlm-crypto.js';
import { NtlmSecurityContext } from './ntlm-security.js';
import { buildNegTokenInit, buildNegTokenResp, encodeMechTypeList, NegState, OID_NTLMSSP, parseNegTokenResp } from './spnego.js';

export interface InitiatorOptions {
  user: string;
  domain: string;
  ntHash: Buffer;
  workstation?: string;
}

const FLAGS =
  NtlmFlag.UNICODE | NtlmFlag.REQUEST_TARGET | NtlmFlag.SIGN | NtlmFlag.SEAL | NtlmFlag.NTLM | NtlmFlag.ALWAYS_SIGN |
  NtlmFlag.EXTENDED_SESSIONSECURITY | NtlmFlag.TARGET_INFO | NtlmFlag.VERSION | NtlmFlag.N128 | NtlmFlag.KEY_EXCH | NtlmFlag.N56;

/** Client side of SPNEGO carrying NTLMv2 ([MS-NLMP] 3.1.5), the mirror of SpnegoNtlmAcceptor. */
export class SpnegoNtlmInitiator {
  private negotiateMsg = Buffer.alloc(0);
  private security?: NtlmSecurityContext;
  private readonly mechTypes = [OID_NTLMSSP];
  /** ExportedSessionKey once the AUTHENTICATE message is built. */
  sessionKey = Buffer.alloc(0);

  constructor(private readonly o: InitiatorOptions) {}

  first(): Buffer {
    this.negotiateMsg = buildNegotiate(FLAGS >>> 0);
    return buildNegTokenInit(this.mechTypes, this.negotiateMsg);
  }

  second(token: Buffer): Buffer {
    const resp = parseNegTokenResp(token);
    if (resp.negState === NegState.REJECT || !resp.responseToken) throw new NtStatusError(Status.LOGON_FAILURE, 'server rejected NTLMSSP');
    const challengeMsg = resp.responseToken;
    const ch = parseChallenge(challengeMsg);
    const flags = (FLAGS & ch.flags) >>> 0;
    const pairs = parseAvPairs(ch.targetInfo);
    const timestamp = pairs.find((p) => p.id === AvId.TIMESTAMP)?.value;
    const micFlag = Buffer.alloc(4);
    micFlag.writeUInt32LE(2);
    const clientPairs = timestamp ? [...pairs, { id: AvId.FLAGS, value: micFlag }] : pairs;
    const key = ntowfv2(this.o.ntHash, this.o.user, this.o.domain);
    const blob = buildClientBlob(timestamp ?? fileTime(), randomBytes(8), encodeAvPairs(clientPairs));
    const proof = ntProofStr(key, ch.serverChallenge, blob);
    const base = sessionBaseKey(key, proof);
    let encKey = Buffer.alloc(0);
    this.sessionKey = base;
    if (flags & NtlmFlag.KEY_EXCH) {
      this.sessionKey = randomBytes(16);
      encKey = rc4(base, this.sessionKey);
    }
    const withMic = timestamp !== undefined;
    const auth = buildAuthenticate({
      flags,
      lmResponse: Buffer.alloc(24),
      ntResponse: Buffer.concat([proof, blob]),
      domain: this.o.domain,
      user: this.o.user,
      workstation: this.o.workstation ?? 'SMB3D',
      encryptedRandomSessionKey: encKey,
      withMic,
    });
    if (withMic) {
      createHmac('md5', this.sessionKey).update(this.negotiateMsg).update(challengeMsg).update(auth).digest().copy(auth, MIC_OFFSET);
    }
    this.security = new NtlmSecurityContext(this.sessionKey, flags, 'client');
    const mechListMIC = this.security.sign(encodeMechTypeList(this.mechTypes));
    return buildNegTokenResp({ responseToken: auth, mechListMIC });
  }

  /** The server's final NegTokenResp: accept-completed, and its mechListMIC must verify when present. */
  finish(token: Buffer): void {
    if (token.length === 0) return;
    const resp = parseNegTokenResp(token);
    if (resp.negState !== undefined && resp.negState !== NegState.ACCEPT_COMPLETED) throw new NtStatusError(Status.LOGON_FAILURE, 'SPNEGO not completed');
    if (resp.mechListMIC && this.security && !this.security.verify(encodeMechTypeList(this.mechTypes), resp.mechListMIC)) {
      throw new NtStatusError(Status.ACCESS_DENIED, 'server mechListMIC does not verify');
    }
  }
}

