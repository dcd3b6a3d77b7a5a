/**
 * A READ response sealed while its data is read: each piece is encrypted as it comes from the
 * file, before the response header (credits, flags) exists. The data sits at the same counter
 * blocks in any READ response, right after the 80-byte header and fixed body, so the stream starts
 * with 80 zero bytes: their ciphertext is the keystream the head will be encrypted with, and the
 * data's ciphertext is what the whole message's would be. The stream's tag covers that stand-in
 * head and no AAD; `finishSealed` turns it into the transform's tag once the head and the transform
 * header are known (GHASH's linearity, src/crypto/tail-mac.ts).
 */
import { createDecipheriv, randomFillSync } from 'node:crypto';
import { GcmStream } from '../native/libcrypto.js';
import { GhashKey } from './gf128.js';
import { retag } from './tail-mac.js';

/** Bytes of a READ response before its data: the SMB2 header and the fixed body (whole GCM blocks). */
export const SEALED_HEAD = 80;

/** A data tail sealed ahead of its head, in place. */
export interface SealedTail {
  readonly cipherId: number;
  readonly key: Buffer;
  /** The transform header's 16-byte Nonce field the message must carry. */
  readonly nonceField: Buffer;
  /** The keystream of the head's blocks. */
  readonly keystream: Buffer;
  /** The data, now its ciphertext. */
  readonly ciphertext: Buffer;
  /** GCM tag over `keystream || ciphertext`, without AAD. */
  readonly tag: Buffer;
  /**
   * Turns the ciphertext back into the data, for a response that is not sealed as expected after
   * all (finishSealed refused it); once only.
   */
  restore(): void;
}

/** Seals a READ's data piece by piece where it lies in `data`, in the order the pieces come. */
export class SealingTail {
  private readonly nonceField = Buffer.alloc(16);
  private readonly keystream = Buffer.alloc(SEALED_HEAD);
  private readonly stream: GcmStream;
  private length = 0;

  constructor(
    private readonly cipherId: number,
    private readonly key: Buffer,
    private readonly data: Buffer,
  ) {
    randomFillSync(this.nonceField, 0, 12);
    this.stream = new GcmStream(key, this.nonceField.subarray(0, 12));
    this.stream.update(Buffer.alloc(SEALED_HEAD), this.keystream);
  }

  update(piece: Buffer): void {
    if (piece.buffer !== this.data.buffer || piece.byteOffset !== this.data.byteOffset + this.length) throw new Error('sealed pieces must come in order');
    this.stream.update(piece, piece);
    this.length += piece.length;
  }

  finish(): SealedTail {
    const tag = this.stream.finish();
    const { cipherId, key, nonceField, keystream } = this;
    const ciphertext = this.data.subarray(0, this.length);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      // CTR is its own inverse: the data's counter blocks follow the head's.
      const counter = Buffer.alloc(16);
      nonceField.copy(counter, 0, 0, 12);
      counter.writeUInt32BE(2 + SEALED_HEAD / 16, 12);
      const ctr = createDecipheriv(`aes-${key.length * 8}-ctr` as 'aes-128-ctr', key, counter);
      ctr.update(ciphertext).copy(ciphertext);
    };
    return { cipherId, key, nonceField, keystream, ciphertext, tag, restore };
  }

  /** Frees the stream of a READ that failed. */
  dispose(): void {
    this.stream.dispose();
  }
}

const ghashKeys = new WeakMap<Buffer, GhashKey>();

/** Messages sealed from a tail sealed ahead, for tests to see the path taken. */
export const sealedTailCounters = { used: 0 };

/** The message's last piece is the tail's ciphertext itself, after an 80-byte head, sealed with the same cipher and key. */
export function fitsTail(t: SealedTail, cipherId: number, key: Buffer, pieces: readonly Buffer[]): boolean {
  const last = pieces[pieces.length - 1];
  if (t.cipherId !== cipherId || !t.key.equals(key) || !last) return false;
  if (last.buffer !== t.ciphertext.buffer || last.byteOffset !== t.ciphertext.byteOffset || last.length !== t.ciphertext.length) return false;
  let head = 0;
  for (let i = 0; i < pieces.length - 1; i++) head += pieces[i]!.length;
  return head === SEALED_HEAD;
}

/**
 * The head's ciphertext and the transform's tag for `head || data`, whose data `t` sealed:
 * `aad` is the transform header from its Nonce field on (32 bytes), `head` the 80 bytes before the data.
 */
export function finishSealed(t: SealedTail, aad: Buffer, head: Buffer): { headCiphertext: Buffer; tag: Buffer } {
  if (head.length !== SEALED_HEAD || aad.length % 16) throw new Error('a sealed tail needs an 80-byte head and whole-block AAD');
  let g = ghashKeys.get(t.key);
  if (!g) {
    g = new GhashKey(t.key);
    ghashKeys.set(t.key, g);
  }
  const headCiphertext = Buffer.allocUnsafe(SEALED_HEAD);
  for (let i = 0; i < SEALED_HEAD; i++) headCiphertext[i] = head[i]! ^ t.keystream[i]!;
  sealedTailCounters.used++;
  // Both messages end with the data's blocks and count the same ciphertext; only the AAD length differs.
  const lengths = BigInt(aad.length * 8) << 64n;
  const prefix = g.chain(0n, Buffer.concat([aad, headCiphertext]));
  const tag = retag(g, t.tag, Math.ceil(t.ciphertext.length / 16), prefix, g.chain(0n, t.keystream), lengths);
  return { headCiphertext, tag };
}
