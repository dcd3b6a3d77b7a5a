/**
 * GHASH arithmetic of AES-GCM (NIST SP 800-38D, 6.3-6.4), in JavaScript, for one purpose: GHASH is
 * linear, so the GMAC of `head || tail` can be made from the GMAC of the tail alone plus a few
 * multiplications over the head. A READ response's data can then be authenticated while it is
 * read from the file, before the response header (credits, flags) exists (src/crypto/tail-mac.ts).
 *
 * Blocks are 128-bit big-endian integers in GCM's bit order: the first bit of the block is the
 * integer's most significant bit, and that bit stands for x^0.
 */
import { createCipheriv, type KeyObject } from 'node:crypto';

const R = 0xe1n << 120n;
const MASK64 = (1n << 64n) - 1n;

export function toBlock(buf: Buffer, at = 0): bigint {
  return (buf.readBigUInt64BE(at) << 64n) | buf.readBigUInt64BE(at + 8);
}

export function fromBlock(x: bigint): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigUInt64BE(x >> 64n, 0);
  out.writeBigUInt64BE(x & MASK64, 8);
  return out;
}

/** x · y in GF(2^128) with GCM's polynomial (SP 800-38D, Algorithm 1). */
export function mul(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127n; i >= 0n; i--) {
    if ((x >> i) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

/**
 * Multiplication by one fixed element y: y·x^i for every bit position i is kept, so x·y is the XOR of
 * those whose bit is set in x (about 64 XORs instead of 128 shifts and tests).
 */
export class Multiplier {
  private readonly table: bigint[] = [];

  constructor(readonly y: bigint) {
    let v = y;
    for (let i = 0; i < 128; i++) {
      this.table.push(v);
      v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
    }
  }

  times(x: bigint): bigint {
    let z = 0n;
    // Bit i (from the left) of x is bit 31 - (i % 32) of its 32-bit word i / 32.
    for (let w = 0; w < 4; w++) {
      let word = Number((x >> BigInt(96 - 32 * w)) & 0xffffffffn);
      for (let bit = 31; word !== 0; bit--, word = (word << 1) >>> 0) {
        if (word & 0x80000000) z ^= this.table[w * 32 + 31 - bit]!;
      }
    }
    return z;
  }
}

/** The hash subkey H = E_K(0^128) of one AES key, with the powers of H asked for so far. */
export class GhashKey {
  readonly h: Multiplier;
  private readonly powers = new Map<number, Multiplier>();

  constructor(key: KeyObject | Buffer) {
    const bits = (Buffer.isBuffer(key) ? key.length : key.symmetricKeySize!) * 8;
    const ecb = createCipheriv(`aes-${bits}-ecb` as 'aes-128-ecb', key, null).setAutoPadding(false);
    this.h = new Multiplier(toBlock(ecb.update(Buffer.alloc(16))));
  }

  /** Multiplication by H^n; the few distinct n a server meets (its READ sizes) are kept. */
  power(n: number): Multiplier {
    let m = this.powers.get(n);
    if (m === undefined) {
      let p = 1n << 127n; // the field's 1 (x^0 is the leftmost bit)
      let base = this.h.y;
      for (let e = n; e > 0; e = Math.floor(e / 2)) {
        if (e % 2) p = mul(p, base);
        base = mul(base, base);
      }
      if (this.powers.size >= 16) this.powers.clear();
      m = new Multiplier(p);
      this.powers.set(n, m);
    }
    return m;
  }

  /** GHASH's running value after the blocks of `data` (whole blocks only), starting from `y`. */
  chain(y: bigint, data: Buffer): bigint {
    if (data.length % 16) throw new Error('GHASH chain over a partial block');
    for (let at = 0; at < data.length; at += 16) y = this.h.times(y ^ toBlock(data, at));
    return y;
  }
}
