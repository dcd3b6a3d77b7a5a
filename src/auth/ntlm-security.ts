import { timingSafeEqual } from 'node:crypto';
import { Rc4 } from '../crypto/rc4.js';
import { NtlmFlag } from './ntlm-flags.js';
import { hmacMd5, sealKey, signKey } from './ntlm-crypto.js';

/**
 * NTLMSSP message integrity with extended session security ([MS-NLMP] 3.4.4.2), as SPNEGO's
 * mechListMIC uses it. One RC4 handle and one sequence number per direction, kept for the context's life.
 */
export class NtlmSecurityContext {
  private readonly sendSign: Buffer;
  private readonly recvSign: Buffer;
  private readonly sendSeal: Rc4;
  private readonly recvSeal: Rc4;
  private sendSeq = 0;
  private recvSeq = 0;

  constructor(
    exportedSessionKey: Buffer,
    private readonly flags: number,
    role: 'client' | 'server',
  ) {
    const me = role;
    const peer = role === 'client' ? 'server' : 'client';
    this.sendSign = signKey(exportedSessionKey, me);
    this.recvSign = signKey(exportedSessionKey, peer);
    this.sendSeal = new Rc4(sealKey(exportedSessionKey, flags, me));
    this.recvSeal = new Rc4(sealKey(exportedSessionKey, flags, peer));
  }

  private mac(signingKey: Buffer, handle: Rc4, seq: number, msg: Buffer): Buffer {
    const seqBuf = Buffer.alloc(4);
    seqBuf.writeUInt32LE(seq >>> 0);
    let checksum = hmacMd5(signingKey, seqBuf, msg).subarray(0, 8);
    if (this.flags & NtlmFlag.KEY_EXCH) checksum = handle.update(checksum);
    const sig = Buffer.alloc(16);
    sig.writeUInt32LE(1, 0);
    checksum.copy(sig, 4);
    seqBuf.copy(sig, 12);
    return sig;
  }

  /** GSS_GetMIC: the 16-byte NTLMSSP_MESSAGE_SIGNATURE of `msg`. */
  sign(msg: Buffer): Buffer {
    return this.mac(this.sendSign, this.sendSeal, this.sendSeq++, msg);
  }

  /** GSS_VerifyMIC. */
  verify(msg: Buffer, signature: Buffer): boolean {
    if (signature.length !== 16) return false;
    const expected = this.mac(this.recvSign, this.recvSeal, this.recvSeq++, msg);
    return timingSafeEqual(expected, signature);
  }
}
