import { createCipheriv, type KeyObject } from 'node:crypto';
import { asList, splitAt, totalLength, type BufferList } from './buffers.js';

const ZERO_IV = Buffer.alloc(16);
/** The constant R_b of RFC 4493 2.3 for 128-bit blocks. */
const RB = 0x87;
const CHUNK = 64 * 1024;

function shiftLeftOne(block: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    out[i] = ((block[i]! << 1) | (i < 15 ? block[i + 1]! >> 7 : 0)) & 0xff;
  }
  return out;
}

function subkeys(key: Buffer | KeyObject): [Buffer, Buffer] {
  const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const l = ecb.update(ZERO_IV);
  const k1 = shiftLeftOne(l);
  if (l[0]! & 0x80) k1[15] ^= RB;
  const k2 = shiftLeftOne(k1);
  if (k1[0]! & 0x80) k2[15] ^= RB;
  return [k1, k2];
}

/**
 * AES-128-CMAC (RFC 4493). node:crypto has no CMAC, so the MAC is the last block of AES-CBC
 * (zero IV) over the message whose final block is masked with subkey K1 (complete) or K2 (padded).
 * The input may be a list of buffers; they are streamed through one CBC context without concatenation.
 */
export function aesCmac(key: Buffer | KeyObject, data: BufferList): Buffer {
  const [k1, k2] = subkeys(key);
  const list = asList(data);
  const n = totalLength(list);
  const complete = n > 0 && n % 16 === 0;
  const lastLen = n === 0 ? 0 : complete ? 16 : n % 16;
  const [head, tail] = splitAt(list, n - lastLen);

  const last = Buffer.alloc(16);
  let off = 0;
  for (const b of tail) off += b.copy(last, off);
  if (!complete) last[lastLen] = 0x80;
  const mask = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] ^= mask[i]!;

  const cbc = createCipheriv('aes-128-cbc', key, ZERO_IV).setAutoPadding(false);
  // Every block before the last only feeds the chaining value; its output is dropped, so feed it
  // in slices to keep the throw-away output buffers small on multi-megabyte READ responses.
  for (const b of head) {
    for (let off = 0; off < b.length; off += CHUNK) cbc.update(b.subarray(off, off + CHUNK));
  }
  return cbc.update(last);
}
