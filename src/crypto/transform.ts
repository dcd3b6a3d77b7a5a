import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { NtStatusError, Status } from '../protocol/status.js';
import { asList, totalLength, type BufferList } from './buffers.js';
import { cipherKeyLength, isGcm, isKnownCipher } from './constants.js';
import { gcmAvailable, gcmOpen, gcmSeal, type GcmPiece } from '../native/libcrypto.js';
import { finishSealed, fitsTail, type SealedTail } from './sealed-tail.js';

/** SMB2 TRANSFORM_HEADER ([MS-SMB2] 2.2.41): 52 bytes, ProtocolId 0xFD 'S' 'M' 'B'. */
export const TRANSFORM_HEADER_SIZE = 52;
export const TRANSFORM_PROTOCOL_ID = 0x424d53fd;
/** Flags (3.1.1) / EncryptionAlgorithm (3.0.x): both say "encrypted" with 0x0001. */
export const TRANSFORM_FLAG_ENCRYPTED = 0x0001;
/** The AEAD's associated data is the header from the Nonce field on (bytes 20..51). */
const AAD_OFFSET = 20;
/**
 * GCM input is fed in pieces of this size: one update() over a multi-megabyte read response runs at
 * ~0.5 GiB/s here (a fresh output of that size per call), 256 KiB pieces at ~2 GiB/s.
 */
const GCM_PIECE = 256 * 1024;
/**
 * From this size on, GCM runs on libcrypto directly (src/native/libcrypto.ts), writing ciphertext
 * in place or into one buffer; below it the koffi calls cost more than node:crypto's allocations.
 */
const NATIVE_GCM_MIN = 16 * 1024;

interface Updatable {
  update(data: Buffer): Buffer;
}

function updateInPieces(c: Updatable, data: Buffer, out: Buffer[]): void {
  for (let at = 0; at < data.length; at += GCM_PIECE) out.push(c.update(data.subarray(at, at + GCM_PIECE)));
}

export interface TransformHeader {
  signature: Buffer;
  nonce: Buffer;
  originalMessageSize: number;
  flags: number;
  sessionId: bigint;
}

export function parseTransformHeader(buf: Buffer): TransformHeader {
  if (buf.length < TRANSFORM_HEADER_SIZE) throw new NtStatusError(Status.INVALID_PARAMETER, 'short transform header');
  if (buf.readUInt32LE(0) !== TRANSFORM_PROTOCOL_ID) throw new NtStatusError(Status.INVALID_PARAMETER, 'not a transform header');
  return {
    signature: buf.subarray(4, 20),
    nonce: buf.subarray(20, 36),
    originalMessageSize: buf.readUInt32LE(36),
    flags: buf.readUInt16LE(42),
    sessionId: buf.readBigUInt64LE(44),
  };
}

function nonceLength(cipherId: number): number {
  return isGcm(cipherId) ? 12 : 11;
}

function algorithm(cipherId: number): 'aes-128-ccm' | 'aes-128-gcm' | 'aes-256-ccm' | 'aes-256-gcm' {
  switch (cipherId) {
    case 1:
      return 'aes-128-ccm';
    case 2:
      return 'aes-128-gcm';
    case 3:
      return 'aes-256-ccm';
    default:
      return 'aes-256-gcm';
  }
}

function checkCipher(cipherId: number, key: Buffer): void {
  if (!isKnownCipher(cipherId)) throw new NtStatusError(Status.INVALID_PARAMETER, `unknown cipher ${cipherId}`);
  if (key.length !== cipherKeyLength(cipherId)) {
    throw new NtStatusError(Status.INTERNAL_ERROR, `cipher ${cipherId} needs a ${cipherKeyLength(cipherId)}-byte key`);
  }
}

export interface SealOptions {
  /** The 16-byte nonce field, for known-answer tests only; normally the nonce is random. */
  nonceField?: Buffer;
  /**
   * Plaintext buffers the caller gives up: large GCM messages get their ciphertext written over
   * them instead of into new memory. They then belong to the returned list until it is sent.
   */
  overwrite?: ReadonlySet<Buffer>;
  /**
   * The message's last piece was sealed in place while it was read (src/crypto/sealed-tail.ts).
   * Where it does not fit this key and message, it is restored and sealed as usual.
   */
  sealedTail?: SealedTail;
}

/**
 * Seal one message (a whole compound chain) for `sessionId` ([MS-SMB2] 3.1.4.3).
 * Returns [transform header, ...ciphertext pieces] ready for writev. GCM streams the pieces without
 * concatenating them; CCM cannot (Node allows a single update() in CCM mode).
 * A random nonce keeps it unique per key without state shared between the channels of a session.
 */
export function encryptMessage(cipherId: number, key: Buffer, sessionId: bigint, plaintext: BufferList, opts: SealOptions = {}): Buffer[] {
  checkCipher(cipherId, key);
  const pieces = asList(plaintext);
  const size = totalLength(pieces);
  const hdr = Buffer.alloc(TRANSFORM_HEADER_SIZE);
  hdr.writeUInt32LE(TRANSFORM_PROTOCOL_ID, 0);
  const nlen = nonceLength(cipherId);
  const nonceField = opts.nonceField;
  if (nonceField) {
    if (nonceField.length !== 16) throw new NtStatusError(Status.INTERNAL_ERROR, 'nonce field must be 16 bytes');
    nonceField.copy(hdr, 20);
  } else {
    randomFillSync(hdr, 20, nlen);
  }
  hdr.writeUInt32LE(size, 36);
  hdr.writeUInt16LE(TRANSFORM_FLAG_ENCRYPTED, 42);
  hdr.writeBigUInt64LE(BigInt.asUintN(64, sessionId), 44);
  const nonce = hdr.subarray(20, 20 + nlen);
  const aad = hdr.subarray(AAD_OFFSET);
  const tail = opts.sealedTail;
  if (tail && fitsTail(tail, cipherId, key, pieces)) {
    tail.nonceField.copy(hdr, 20);
    const { headCiphertext, tag } = finishSealed(tail, aad, Buffer.concat(pieces.slice(0, -1)));
    tag.copy(hdr, 4);
    // The caller's own buffer (the same bytes as tail.ciphertext): callers tell their buffers by identity.
    return [hdr, headCiphertext, pieces[pieces.length - 1]!];
  }
  tail?.restore();

  if (isGcm(cipherId) && gcmAvailable && size >= NATIVE_GCM_MIN) {
    const { pieces: gcm, outputs } = sealTargets(pieces, opts.overwrite);
    gcmSeal(key, nonce, aad, gcm).copy(hdr, 4);
    return [hdr, ...outputs];
  }
  const out: Buffer[] = [hdr];
  if (isGcm(cipherId)) {
    const c = createCipheriv(algorithm(cipherId) as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(aad);
    for (const p of pieces) updateInPieces(c, p, out);
    const fin = c.final();
    if (fin.length) out.push(fin);
    c.getAuthTag().copy(hdr, 4);
  } else {
    const c = createCipheriv(algorithm(cipherId) as 'aes-128-ccm', key, nonce, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: size });
    out.push(c.update(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size)));
    const fin = c.final();
    if (fin.length) out.push(fin);
    c.getAuthTag().copy(hdr, 4);
  }
  return out;
}

/** Where each piece's ciphertext goes: over the piece itself when the caller gave it up, else into one shared new buffer. */
function sealTargets(pieces: readonly Buffer[], overwrite: ReadonlySet<Buffer> | undefined): { pieces: GcmPiece[]; outputs: Buffer[] } {
  let fresh = 0;
  for (const p of pieces) if (!overwrite?.has(p)) fresh += p.length;
  const scratch = fresh > 0 ? Buffer.allocUnsafe(fresh) : undefined;
  let at = 0;
  const gcm: GcmPiece[] = [];
  const outputs: Buffer[] = [];
  for (const p of pieces) {
    if (p.length === 0) continue;
    let output = p;
    if (!overwrite?.has(p)) {
      output = scratch!.subarray(at, at + p.length);
      at += p.length;
    }
    gcm.push({ input: p, output });
    outputs.push(output);
  }
  return { pieces: gcm, outputs };
}

/**
 * Open a sealed message: `transform` is the whole frame (header + ciphertext).
 * Throws INVALID_PARAMETER on malformed framing, ACCESS_DENIED when authentication fails.
 * `inPlace`: large GCM messages are decrypted over their ciphertext and the result is a view into
 * `transform` (whose ciphertext is then gone, also when authentication fails).
 */
export function decryptMessage(cipherId: number, key: Buffer, transform: Buffer, inPlace = false): Buffer {
  checkCipher(cipherId, key);
  const th = parseTransformHeader(transform);
  const ct = transform.subarray(TRANSFORM_HEADER_SIZE);
  if (th.originalMessageSize !== ct.length || ct.length === 0) {
    throw new NtStatusError(Status.INVALID_PARAMETER, 'transform size mismatch');
  }
  if (th.flags !== TRANSFORM_FLAG_ENCRYPTED) throw new NtStatusError(Status.INVALID_PARAMETER, 'transform not encrypted');
  const nonce = th.nonce.subarray(0, nonceLength(cipherId));
  const aad = transform.subarray(AAD_OFFSET, TRANSFORM_HEADER_SIZE);
  if (isGcm(cipherId) && gcmAvailable && ct.length >= NATIVE_GCM_MIN) {
    const out = inPlace ? ct : Buffer.allocUnsafe(ct.length);
    if (!gcmOpen(key, nonce, aad, th.signature, ct, out)) throw new NtStatusError(Status.ACCESS_DENIED, 'decryption failed');
    return out;
  }
  try {
    if (isGcm(cipherId)) {
      const d = createDecipheriv(algorithm(cipherId) as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
      d.setAuthTag(th.signature);
      d.setAAD(aad);
      if (ct.length <= GCM_PIECE) {
        const pt = d.update(ct);
        const fin = d.final();
        return fin.length ? Buffer.concat([pt, fin]) : pt;
      }
      const parts: Buffer[] = [];
      updateInPieces(d, ct, parts);
      parts.push(d.final());
      return Buffer.concat(parts, ct.length);
    }
    const d = createDecipheriv(algorithm(cipherId) as 'aes-128-ccm', key, nonce, { authTagLength: 16 });
    d.setAuthTag(th.signature);
    d.setAAD(aad, { plaintextLength: ct.length });
    const pt = d.update(ct);
    d.final();
    return pt;
  } catch (e) {
    if (e instanceof NtStatusError) throw e;
    throw new NtStatusError(Status.ACCESS_DENIED, 'decryption failed');
  }
}
