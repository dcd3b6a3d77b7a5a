/**
 * Security descriptors in self-relative form ([MS-DTYP] 2.4.6), with their SIDs (2.4.2) and ACLs
 * (2.4.5, ACEs 2.4.4). No I/O. Decoding never throws: malformed input gives a status
 * (INVALID_SECURITY_DESCR, INVALID_ACL or INVALID_SID) instead, as Windows answers such a SET_INFO.
 *
 * ACEs are kept as type, flags, mask and SID when they have that shape (the ACCESS_ALLOWED/DENIED,
 * SYSTEM_AUDIT/ALARM family and their callback forms start the same way); those keep any
 * trailing bytes, and ACEs of other layouts their raw bytes, so both survive a round trip unchanged.
 */
import { NtStatusError, Status } from './status.js';
import { Reader } from './reader.js';

/** SECURITY_DESCRIPTOR_CONTROL bits ([MS-DTYP] 2.4.6). */
export const SdControl = {
  OWNER_DEFAULTED: 0x0001,
  GROUP_DEFAULTED: 0x0002,
  DACL_PRESENT: 0x0004,
  DACL_DEFAULTED: 0x0008,
  SACL_PRESENT: 0x0010,
  SACL_DEFAULTED: 0x0020,
  DACL_TRUSTED: 0x0040,
  SERVER_SECURITY: 0x0080,
  DACL_AUTO_INHERIT_REQ: 0x0100,
  SACL_AUTO_INHERIT_REQ: 0x0200,
  DACL_AUTO_INHERITED: 0x0400,
  SACL_AUTO_INHERITED: 0x0800,
  DACL_PROTECTED: 0x1000,
  SACL_PROTECTED: 0x2000,
  RM_CONTROL_VALID: 0x4000,
  SELF_RELATIVE: 0x8000,
} as const;

/** SECURITY_INFORMATION bits: which parts a QUERY_INFO/SET_INFO concerns ([MS-DTYP] 2.4.7). */
export const SecInfo = {
  OWNER: 0x00000001,
  GROUP: 0x00000002,
  DACL: 0x00000004,
  SACL: 0x00000008,
  LABEL: 0x00000010,
  ATTRIBUTE: 0x00000020,
  SCOPE: 0x00000040,
  BACKUP: 0x00010000,
  UNPROTECTED_SACL: 0x10000000,
  UNPROTECTED_DACL: 0x20000000,
  PROTECTED_SACL: 0x40000000,
  PROTECTED_DACL: 0x80000000,
} as const;

export const AceType = {
  ACCESS_ALLOWED: 0x00,
  ACCESS_DENIED: 0x01,
  SYSTEM_AUDIT: 0x02,
  SYSTEM_ALARM: 0x03,
  ACCESS_ALLOWED_CALLBACK: 0x09,
  ACCESS_DENIED_CALLBACK: 0x0a,
  SYSTEM_MANDATORY_LABEL: 0x11,
} as const;

export const AceFlags = {
  OBJECT_INHERIT: 0x01,
  CONTAINER_INHERIT: 0x02,
  NO_PROPAGATE_INHERIT: 0x04,
  INHERIT_ONLY: 0x08,
  INHERITED: 0x10,
} as const;

/** A SID as its parts: revision 1, a 48-bit identifier authority, up to 15 sub-authorities. */
export interface Sid {
  authority: number;
  subAuthorities: number[];
}

export interface Ace {
  type: number;
  flags: number;
  /** Access mask; 0 for ACE types without one at offset 4. */
  mask: number;
  /** The trustee, for the types that have one right after the mask (see SIMPLE_ACE_TYPES). */
  sid?: Sid;
  /** Bytes after the SID (callback ACEs' application data), kept as received. */
  extra?: Buffer;
  /** The whole ACE as received, for types of another layout (object ACEs): written back unchanged. */
  raw?: Buffer;
}

export interface Acl {
  revision: number;
  aces: Ace[];
}

/**
 * A decoded descriptor. `dacl`/`sacl`: undefined when the PRESENT bit is clear, null for a NULL ACL
 * (present, offset 0: no restriction at all), else the list.
 */
export interface SecurityDescriptor {
  control: number;
  owner?: Sid;
  group?: Sid;
  dacl?: Acl | null;
  sacl?: Acl | null;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; status: number };

const SID_MAX_SUBAUTH = 15;
/** ACE types laid out as header, mask, SID (then perhaps application data). */
const SIMPLE_ACE_TYPES = new Set<number>([0x00, 0x01, 0x02, 0x03, 0x09, 0x0a, 0x0d, 0x0e, 0x11, 0x12, 0x13]);
export const ACL_REVISION = 2;
export const ACL_REVISION_DS = 4;

// ---- SIDs ----

export function sid(authority: number, ...subAuthorities: number[]): Sid {
  return { authority, subAuthorities };
}

export function sidEquals(a: Sid | undefined, b: Sid | undefined): boolean {
  if (!a || !b) return false;
  if (a.authority !== b.authority || a.subAuthorities.length !== b.subAuthorities.length) return false;
  return a.subAuthorities.every((v, i) => v === b.subAuthorities[i]);
}

export function sidToString(s: Sid): string {
  return `S-1-${s.authority}${s.subAuthorities.map((v) => '-' + v).join('')}`;
}

/** "S-1-5-32-544" to a Sid; null when it is not one. */
export function parseSidString(text: string): Sid | null {
  const m = /^S-1-(\d+)((?:-\d+)*)$/i.exec(text.trim());
  if (!m) return null;
  const authority = Number(m[1]);
  const subs = m[2] ? m[2].slice(1).split('-').map(Number) : [];
  if (!Number.isSafeInteger(authority) || authority > 0xffffffffffff || subs.length > SID_MAX_SUBAUTH) return null;
  if (subs.some((v) => v > 0xffffffff)) return null;
  return { authority, subAuthorities: subs };
}

export function sidSize(s: Sid): number {
  return 8 + 4 * s.subAuthorities.length;
}

function writeSid(buf: Buffer, off: number, s: Sid): number {
  buf[off] = 1;
  buf[off + 1] = s.subAuthorities.length;
  // The authority is big-endian, 6 bytes.
  buf.writeUIntBE(s.authority, off + 2, 6);
  s.subAuthorities.forEach((v, i) => buf.writeUInt32LE(v >>> 0, off + 8 + 4 * i));
  return off + sidSize(s);
}

export function encodeSid(s: Sid): Buffer {
  const buf = Buffer.alloc(sidSize(s));
  writeSid(buf, 0, s);
  return buf;
}

function readSid(r: Reader, off: number, limit: number): Sid {
  const revision = r.u8(off);
  const count = r.u8(off + 1);
  if (revision !== 1 || count > SID_MAX_SUBAUTH || off + 8 + 4 * count > limit) throw new NtStatusError(Status.INVALID_SID);
  const authority = r.bytes(off + 2, 6).readUIntBE(0, 6);
  const subAuthorities: number[] = [];
  for (let i = 0; i < count; i++) subAuthorities.push(r.u32(off + 8 + 4 * i));
  return { authority, subAuthorities };
}

// ---- ACLs ----

function aceSize(a: Ace): number {
  if (a.sid) return 8 + sidSize(a.sid) + (a.extra?.length ?? 0);
  return a.raw?.length ?? 8;
}

export function aclSize(acl: Acl): number {
  return 8 + acl.aces.reduce((n, a) => n + aceSize(a), 0);
}

function writeAcl(buf: Buffer, off: number, acl: Acl): number {
  const size = aclSize(acl);
  buf[off] = acl.revision;
  buf.writeUInt16LE(size, off + 2);
  buf.writeUInt16LE(acl.aces.length, off + 4);
  let p = off + 8;
  for (const a of acl.aces) {
    const n = aceSize(a);
    if (a.sid) {
      buf[p] = a.type;
      buf[p + 1] = a.flags;
      buf.writeUInt16LE(n, p + 2);
      buf.writeUInt32LE(a.mask >>> 0, p + 4);
      const end = writeSid(buf, p + 8, a.sid);
      a.extra?.copy(buf, end);
    } else if (a.raw) {
      a.raw.copy(buf, p);
    }
    p += n;
  }
  return off + size;
}

function readAcl(r: Reader, off: number): Acl {
  const revision = r.u8(off);
  const size = r.u16(off + 2);
  const count = r.u16(off + 4);
  if ((revision !== ACL_REVISION && revision !== ACL_REVISION_DS) || size < 8 || off + size > r.length) throw new NtStatusError(Status.INVALID_ACL);
  const end = off + size;
  const aces: Ace[] = [];
  let p = off + 8;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw new NtStatusError(Status.INVALID_ACL, 'ACE beyond the ACL');
    const type = r.u8(p);
    const flags = r.u8(p + 1);
    const aceLen = r.u16(p + 2);
    if (aceLen < 8 || aceLen % 4 !== 0 || p + aceLen > end) throw new NtStatusError(Status.INVALID_ACL, 'bad ACE size');
    const mask = r.u32(p + 4);
    if (SIMPLE_ACE_TYPES.has(type)) {
      const s = readSid(r, p + 8, p + aceLen);
      const sidEnd = p + 8 + sidSize(s);
      const ace: Ace = { type, flags, mask, sid: s };
      if (sidEnd < p + aceLen) ace.extra = Buffer.from(r.bytes(sidEnd, p + aceLen - sidEnd));
      aces.push(ace);
    } else {
      aces.push({ type, flags, mask, raw: Buffer.from(r.bytes(p, aceLen)) });
    }
    p += aceLen;
  }
  return { revision, aces };
}

// ---- Descriptors ----

export function securityDescriptorSize(sd: SecurityDescriptor): number {
  let n = 20;
  if (sd.owner) n += sidSize(sd.owner);
  if (sd.group) n += sidSize(sd.group);
  if (sd.sacl) n += aclSize(sd.sacl);
  if (sd.dacl) n += aclSize(sd.dacl);
  return n;
}

/**
 * Self-relative encoding: header, owner, group, SACL, DACL (Samba's order; readers follow the
 * offsets). PRESENT bits follow the ACL fields, SELF_RELATIVE is always set.
 */
export function encodeSecurityDescriptor(sd: SecurityDescriptor): Buffer {
  const buf = Buffer.alloc(securityDescriptorSize(sd));
  let control = (sd.control | SdControl.SELF_RELATIVE) & ~(SdControl.DACL_PRESENT | SdControl.SACL_PRESENT);
  if (sd.dacl !== undefined) control |= SdControl.DACL_PRESENT;
  if (sd.sacl !== undefined) control |= SdControl.SACL_PRESENT;
  buf[0] = 1;
  buf.writeUInt16LE(control, 2);
  // Each part after the previous one, its offset in the header field at `field`.
  const parts: [number, Sid | Acl | null | undefined, (off: number) => number][] = [
    [4, sd.owner, (off) => writeSid(buf, off, sd.owner!)],
    [8, sd.group, (off) => writeSid(buf, off, sd.group!)],
    [12, sd.sacl, (off) => writeAcl(buf, off, sd.sacl!)],
    [16, sd.dacl, (off) => writeAcl(buf, off, sd.dacl!)],
  ];
  let off = 20;
  for (const [field, part, write] of parts) {
    if (!part) continue;
    buf.writeUInt32LE(off, field);
    off = write(off);
  }
  return buf;
}

/**
 * Decodes a self-relative descriptor. An ACL whose PRESENT bit is clear is ignored (whatever its
 * offset); a PRESENT bit with offset 0 is a NULL ACL.
 */
export function decodeSecurityDescriptor(buf: Buffer): DecodeResult<SecurityDescriptor> {
  try {
    const r = new Reader(buf, Status.INVALID_SECURITY_DESCR);
    if (buf.length < 20 || r.u8(0) !== 1) return { ok: false, status: Status.INVALID_SECURITY_DESCR };
    const control = r.u16(2);
    if (!(control & SdControl.SELF_RELATIVE)) return { ok: false, status: Status.INVALID_SECURITY_DESCR };
    const ownerOff = r.u32(4);
    const groupOff = r.u32(8);
    const saclOff = r.u32(12);
    const daclOff = r.u32(16);
    const sd: SecurityDescriptor = { control };
    if (ownerOff) sd.owner = readAt(ownerOff, buf, () => readSid(r, ownerOff, buf.length));
    if (groupOff) sd.group = readAt(groupOff, buf, () => readSid(r, groupOff, buf.length));
    if (control & SdControl.SACL_PRESENT) sd.sacl = saclOff ? readAt(saclOff, buf, () => readAcl(r, saclOff)) : null;
    if (control & SdControl.DACL_PRESENT) sd.dacl = daclOff ? readAt(daclOff, buf, () => readAcl(r, daclOff)) : null;
    return { ok: true, value: sd };
  } catch (err) {
    if (err instanceof NtStatusError) return { ok: false, status: err.status };
    return { ok: false, status: Status.INVALID_SECURITY_DESCR };
  }
}

function readAt<T>(off: number, buf: Buffer, read: () => T): T {
  // Offsets point past the header, and (being ULONG fields) at aligned positions in practice.
  if (off < 20 || off >= buf.length) throw new NtStatusError(Status.INVALID_SECURITY_DESCR, 'offset outside the descriptor');
  return read();
}
