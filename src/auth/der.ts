import { NtStatusError, Status } from '../protocol/status.js';

/**
 * The small subset of ASN.1 DER that SPNEGO (RFC 4178) needs: single-byte tags, definite lengths.
 * Every read is bounds-checked and malformed input becomes INVALID_PARAMETER.
 */

export const Tag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
  /** [APPLICATION 0], constructed: the GSS-API InitialContextToken framing. */
  APPLICATION_0: 0x60,
} as const;

/** Context-specific constructed tag [n]. */
export const ctx = (n: number): number => 0xa0 | n;

export interface Tlv {
  tag: number;
  /** Contents octets (a view into the input). */
  value: Buffer;
  /** The whole encoding, tag and length included (a view into the input). */
  raw: Buffer;
}

function bad(msg: string): never {
  throw new NtStatusError(Status.INVALID_PARAMETER, `DER: ${msg}`);
}

/** Read one TLV at `offset`; returns it and the offset just past it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) bad('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) bad('indefinite length');
    if (n > 4) bad('length too long');
    if (pos + n > buf.length) bad('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    pos += n;
  }
  if (pos + len > buf.length) bad('value overruns buffer');
  return { tlv: { tag, value: buf.subarray(pos, pos + len), raw: buf.subarray(offset, pos + len) }, next: pos + len };
}

/** The TLV that makes up the whole of `buf`, checking its tag. Trailing bytes are tolerated (GSS tokens may be padded). */
export function expectTlv(buf: Buffer, tag: number): Tlv {
  const { tlv } = readTlv(buf, 0);
  if (tlv.tag !== tag) bad(`expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** All TLVs that follow each other inside `buf` (e.g. the members of a SEQUENCE). */
export function readAll(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const { tlv, next } = readTlv(buf, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tag: number, ...contents: Buffer[]): Buffer {
  const len = contents.reduce((a, b) => a + b.length, 0);
  return Buffer.concat([Buffer.of(tag), encodeLength(len), ...contents]);
}

function base128(v: number): number[] {
  const chunk: number[] = [v & 0x7f];
  v = Math.floor(v / 128);
  while (v > 0) {
    chunk.unshift((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  return chunk;
}

export function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map((p) => Number(p));
  if (parts.length < 2 || parts.some((p) => !Number.isSafeInteger(p) || p < 0)) throw new Error(`bad OID ${oid}`);
  const bytes = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)].flatMap(base128);
  return encodeTlv(Tag.OID, Buffer.from(bytes));
}

export function decodeOid(value: Buffer): string {
  if (value.length === 0) bad('empty OID');
  const subids: number[] = [];
  let v = 0;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) bad('OID arc too large');
    if (!(b & 0x80)) {
      subids.push(v);
      v = 0;
    } else if (i === value.length - 1) bad('truncated OID');
  }
  const first = subids[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...subids.slice(1)].join('.');
}
