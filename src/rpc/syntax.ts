/** Presentation syntax identifiers ([C706] 12.6.3.1 p_syntax_id_t) and their wire form. */
import { Status, fail } from '../protocol/status.js';
import type { NdrReader, NdrWriter } from './ndr.js';

export interface SyntaxId {
  /** Lower-case canonical form, e.g. `8a885d04-1ceb-11c9-9fe8-08002b104860`. */
  uuid: string;
  major: number;
  minor: number;
}

export const NDR20: SyntaxId = { uuid: '8a885d04-1ceb-11c9-9fe8-08002b104860', major: 2, minor: 0 };
export const NDR64: SyntaxId = { uuid: '71710533-beba-4937-8319-b5dbef9ccc36', major: 1, minor: 0 };
export const NULL_SYNTAX: SyntaxId = { uuid: '00000000-0000-0000-0000-000000000000', major: 0, minor: 0 };

/** [MS-RPCE] 2.2.2.14: the first 8 octets of a bind-time feature negotiation "transfer syntax". */
const BIND_TIME_FEATURE_PREFIX = '6cb71c2c-9812-4540-';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID in NDR: the first three fields are integers in the sender's byte order. */
export function readUuid(r: NdrReader): string {
  const timeLow = r.u32();
  const timeMid = r.u16();
  const timeHi = r.u16();
  const tail = r.bytes(8).toString('hex');
  const hex = (v: number, n: number) => v.toString(16).padStart(n, '0');
  return `${hex(timeLow, 8)}-${hex(timeMid, 4)}-${hex(timeHi, 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

export function writeUuid(w: NdrWriter, uuid: string): void {
  if (!UUID_RE.test(uuid)) fail(Status.INVALID_PARAMETER, `bad uuid ${uuid}`);
  const h = uuid.replace(/-/g, '');
  w.u32(parseInt(h.slice(0, 8), 16)).u16(parseInt(h.slice(8, 12), 16)).u16(parseInt(h.slice(12, 16), 16));
  w.bytes(Buffer.from(h.slice(16), 'hex'));
}

export function readSyntax(r: NdrReader): SyntaxId {
  const uuid = readUuid(r);
  const major = r.u16();
  const minor = r.u16();
  return { uuid, major, minor };
}

export function writeSyntax(w: NdrWriter, s: SyntaxId): void {
  writeUuid(w, s.uuid);
  w.u16(s.major).u16(s.minor);
}

export function sameSyntax(a: SyntaxId, b: SyntaxId): boolean {
  return a.uuid === b.uuid && a.major === b.major && a.minor === b.minor;
}

/**
 * The feature bitmask when `s` is a bind-time feature negotiation marker, else undefined.
 * The last 8 octets of the UUID carry the bitmask as a little-endian integer; only the
 * low bits are defined, so 32 bits are enough.
 */
export function bindTimeFeatures(s: SyntaxId): number | undefined {
  if (!s.uuid.startsWith(BIND_TIME_FEATURE_PREFIX) || s.major !== 1 || s.minor !== 0) return undefined;
  const octets = Buffer.from(s.uuid.slice(BIND_TIME_FEATURE_PREFIX.length).replace('-', ''), 'hex');
  return octets.readUInt32LE(0);
}

export function syntaxName(s: SyntaxId): string {
  return `${s.uuid} v${s.major}.${s.minor}`;
}
