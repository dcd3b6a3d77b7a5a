import { createCipheriv, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { NtStatusError, Status } from '../protocol/status.js';
import { asList, type BufferList } from './buffers.js';
import { aesCmac } from './cmac.js';
import { SigningAlgorithm } from './constants.js';
import { GhashKey } from './gf128.js';
import { joinHead, TailGmac, type TailTag } from './tail-mac.js';

export interface SignOptions {
  messageId: bigint;
  /** Set for messages the server sends (SMB2_FLAGS_SERVER_TO_REDIR). */
  isResponse: boolean;
  /** Set for an SMB2 CANCEL request. */
  isCancel: boolean;
}

/**
 * Computes the 16-byte signature of one SMB2 PDU (header included, Signature field already zeroed,
 * compound padding included) per [MS-SMB2] 3.1.4.1.
 */
export interface Signer {
  readonly algorithmId: number;
  sign(msg: BufferList, opts: SignOptions): Buffer;
  /**
   * AES-GMAC only: starts authenticating a message's last part before the rest exists; `signJoined`
   * finishes with the head (src/crypto/tail-mac.ts).
   */
  beginTail?(opts: SignOptions): TailGmac;
  /** The signature of `head || tail`, or undefined when `tail` was not taken with this key and message. */
  signJoined?(head: Buffer, tail: TailTag, opts: SignOptions): Buffer | undefined;
}

class HmacSha256Signer implements Signer {
  readonly algorithmId = SigningAlgorithm.HMAC_SHA256;
  constructor(private readonly key: KeyObject) {}
  sign(msg: BufferList): Buffer {
    const h = createHmac('sha256', this.key);
    for (const b of asList(msg)) h.update(b);
    return h.digest().subarray(0, 16);
  }
}

class CmacSigner implements Signer {
  readonly algorithmId = SigningAlgorithm.AES_CMAC;
  constructor(private readonly key: KeyObject) {}
  sign(msg: BufferList): Buffer {
    return aesCmac(this.key, msg);
  }
}

/** The 12-byte AES-GMAC nonce: MessageId (LE), then a 32-bit LE word with bit 0 = sent by server, bit 1 = CANCEL. */
export function gmacNonce(opts: SignOptions): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt.asUintN(64, opts.messageId), 0);
  nonce.writeUInt32LE((opts.isResponse ? 1 : 0) | (opts.isCancel ? 2 : 0), 8);
  return nonce;
}

class GmacSigner implements Signer {
  readonly algorithmId = SigningAlgorithm.AES_GMAC;
  private ghash?: GhashKey;
  constructor(private readonly key: KeyObject) {}

  beginTail(opts: SignOptions): TailGmac {
    this.ghash ??= new GhashKey(this.key);
    return new TailGmac(this.key, this.ghash, gmacNonce(opts));
  }

  signJoined(head: Buffer, tail: TailTag, opts: SignOptions): Buffer | undefined {
    if (tail.ghash !== this.ghash || !tail.nonce.equals(gmacNonce(opts)) || head.length % 16) return undefined;
    return joinHead(head, tail);
  }

  sign(msg: BufferList, opts: SignOptions): Buffer {
    // GMAC is GCM with the whole message as AAD and nothing to encrypt.
    const c = createCipheriv('aes-128-gcm', this.key, gmacNonce(opts), { authTagLength: 16 });
    for (const b of asList(msg)) if (b.length) c.setAAD(b);
    c.final();
    return c.getAuthTag();
  }
}

export function createSigner(algorithmId: number, key: Buffer): Signer {
  if (key.length !== 16) throw new NtStatusError(Status.INTERNAL_ERROR, `signing key must be 16 bytes, got ${key.length}`);
  const k = createSecretKey(key);
  switch (algorithmId) {
    case SigningAlgorithm.HMAC_SHA256:
      return new HmacSha256Signer(k);
    case SigningAlgorithm.AES_CMAC:
      return new CmacSigner(k);
    case SigningAlgorithm.AES_GMAC:
      return new GmacSigner(k);
    default:
      throw new NtStatusError(Status.INVALID_PARAMETER, `unknown signing algorithm ${algorithmId}`);
  }
}

/** Constant-time check of a received signature. */
export function verify(signer: Signer, msg: BufferList, opts: SignOptions, signature: Buffer): boolean {
  if (signature.length !== 16) return false;
  return timingSafeEqual(signer.sign(msg, opts), signature);
}
