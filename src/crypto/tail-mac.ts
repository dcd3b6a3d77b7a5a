/**
 * AES-GMAC of a message whose last part (a READ's data) is known before its first part (the
 * response header, whose credits and flags are set when the response is built). The tail is
 * authenticated piece by piece as it is read from the file, on the key and nonce the whole message
 * will use; once the head is known, GHASH's linearity joins the two (src/crypto/gf128.ts):
 *
 *   tag(head || tail) = tag(tail) ⊕ Y_head · H^(d+1) ⊕ (L(head || tail) ⊕ L(tail)) · H
 *
 * where Y_head is GHASH's running value after the head's blocks, d the tail's block count and L the
 * length block. E_K(J0) is the same in both tags and cancels. `retag` is the general form, which
 * sealing uses too (src/crypto/sealed-tail.ts). The head must be whole blocks (an
 * SMB2 header and READ response body are 80 bytes), so the tail's blocks line up in both messages.
 */
import { createCipheriv, type CipherGCM, type KeyObject } from 'node:crypto';
import { fromBlock, GhashKey, toBlock } from './gf128.js';

/** The GMAC of a finished tail, bound to the key and nonce it was taken with. */
export interface TailTag {
  readonly ghash: GhashKey;
  readonly nonce: Buffer;
  readonly tag: Buffer;
  readonly length: number;
}

/** GMAC over a tail fed in order; `finish` once the last piece is in. */
export class TailGmac {
  private readonly cipher: CipherGCM;
  private length = 0;

  constructor(
    key: KeyObject,
    private readonly ghash: GhashKey,
    private readonly nonce: Buffer,
  ) {
    this.cipher = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
  }

  update(piece: Buffer): void {
    if (piece.length === 0) return;
    this.cipher.setAAD(piece);
    this.length += piece.length;
  }

  finish(): TailTag {
    this.cipher.final();
    return { ghash: this.ghash, nonce: this.nonce, tag: this.cipher.getAuthTag(), length: this.length };
  }
}

/** Signatures made by joining a head to a tail's tag, for tests to see the path taken. */
export const tailMacCounters = { joined: 0 };

/** The GMAC of `head || tail` from the tail's own tag; `head` must be whole 16-byte blocks. */
export function joinHead(head: Buffer, tail: TailTag): Buffer {
  if (head.length % 16) throw new Error('the head of a joined GMAC must be whole blocks');
  tailMacCounters.joined++;
  const g = tail.ghash;
  // Lengths are in bits, in the length block's first 64 bits (the second counts ciphertext: none).
  const lengths = (BigInt(head.length + tail.length) * 8n) << 64n;
  const tailLengths = (BigInt(tail.length) * 8n) << 64n;
  return retag(g, tail.tag, Math.ceil(tail.length / 16), g.chain(0n, head), 0n, lengths ^ tailLengths);
}

/**
 * The GCM tag of a message from the tag of another with the same key, nonce and last `blocks`
 * blocks of GHASH input, where only what comes before them and the length block differ:
 * `prefix` and `prefixUsed` are GHASH's running values after the two messages' earlier blocks,
 * `lengths` the XOR of their length blocks.
 */
export function retag(g: GhashKey, tag: Buffer, blocks: number, prefix: bigint, prefixUsed: bigint, lengths: bigint): Buffer {
  return fromBlock(toBlock(tag) ^ g.power(blocks + 1).times(prefix ^ prefixUsed) ^ g.h.times(lengths));
}
