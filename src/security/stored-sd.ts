/**
 * The security descriptor a file keeps, and how it meets the one smb3d makes up for files that
 * keep none. No I/O: src/handlers/security-descriptor.ts reads and writes the record.
 *
 * Only the parts a client set are stored; the others (and files with no record) answer with the
 * synthesized default, so a client that set a DACL still sees the default owner, and a file nobody
 * set anything on behaves as before (no DACL is enforced on it).
 *
 * Record (the `user.smb3d.ntacl` xattr on the POSIX backend), little-endian:
 *   0  u8   version (1)
 *   1  u8   reserved (0)
 *   2  u16  parts stored: SECURITY_INFORMATION bits OWNER 1, GROUP 2, DACL 4, SACL 8
 *   4  u32  reserved (0)
 *   8  ...  a self-relative security descriptor holding those parts ([MS-DTYP] 2.4.6); a stored
 *           NULL DACL is DACL_PRESENT with offset 0
 * A record of another version, or one that does not decode, counts as no record.
 */
import { SdControl, SecInfo, decodeSecurityDescriptor, encodeSecurityDescriptor, type Acl, type SecurityDescriptor } from '../protocol/security-descriptor.js';
import { mapGenericMask } from './inherit.js';

export const NTACL_VERSION = 1;
const HEADER = 8;
/** The parts smb3d keeps. */
export const SD_PARTS = SecInfo.OWNER | SecInfo.GROUP | SecInfo.DACL | SecInfo.SACL;

/** Control bits that belong to each part (PRESENT bits follow the ACL fields themselves). */
const PART_CONTROL: Record<number, number> = {
  [SecInfo.OWNER]: SdControl.OWNER_DEFAULTED,
  [SecInfo.GROUP]: SdControl.GROUP_DEFAULTED,
  [SecInfo.DACL]: SdControl.DACL_DEFAULTED | SdControl.DACL_AUTO_INHERIT_REQ | SdControl.DACL_AUTO_INHERITED | SdControl.DACL_PROTECTED,
  [SecInfo.SACL]: SdControl.SACL_DEFAULTED | SdControl.SACL_AUTO_INHERIT_REQ | SdControl.SACL_AUTO_INHERITED | SdControl.SACL_PROTECTED,
};
const PARTS = [SecInfo.OWNER, SecInfo.GROUP, SecInfo.DACL, SecInfo.SACL];

export interface StoredSd {
  /** Which parts `sd` carries (SD_PARTS bits). */
  parts: number;
  sd: SecurityDescriptor;
}

export function encodeStoredSd(s: StoredSd): Buffer {
  const body = encodeSecurityDescriptor(only(s.sd, s.parts));
  const head = Buffer.alloc(HEADER);
  head[0] = NTACL_VERSION;
  head.writeUInt16LE(s.parts & SD_PARTS, 2);
  return Buffer.concat([head, body]);
}

export function decodeStoredSd(buf: Buffer): StoredSd | null {
  if (buf.length < HEADER || buf[0] !== NTACL_VERSION) return null;
  const r = decodeSecurityDescriptor(buf.subarray(HEADER));
  if (!r.ok) return null;
  return { parts: buf.readUInt16LE(2) & SD_PARTS, sd: r.value };
}

/** Copies one part (its field and its control bits) from `from` into `to`. */
function copyPart(to: SecurityDescriptor, from: SecurityDescriptor, part: number): void {
  to.control = (to.control & ~PART_CONTROL[part]!) | (from.control & PART_CONTROL[part]!);
  if (part === SecInfo.OWNER) to.owner = from.owner;
  else if (part === SecInfo.GROUP) to.group = from.group;
  else if (part === SecInfo.DACL) to.dacl = from.dacl;
  else to.sacl = from.sacl;
}

/** The parts of `sd` that `secInfo` names, nothing else (what QUERY_INFO returns). */
export function only(sd: SecurityDescriptor, secInfo: number): SecurityDescriptor {
  const out: SecurityDescriptor = { control: 0 };
  for (const part of PARTS) if (secInfo & part) copyPart(out, sd, part);
  return out;
}

/** The descriptor a file has: its stored parts, the default for the rest. */
export function effectiveSd(stored: StoredSd | null, fallback: SecurityDescriptor): SecurityDescriptor {
  const out: SecurityDescriptor = { ...fallback };
  if (stored) for (const part of PARTS) if (stored.parts & part) copyPart(out, stored.sd, part);
  return out;
}

/** GENERIC_* bits in ACE masks become the file rights they stand for, as stored by Windows and Samba. */
function mapAclGenerics(acl: Acl | null | undefined): Acl | null | undefined {
  if (!acl) return acl;
  return { ...acl, aces: acl.aces.map((a) => (a.sid ? { ...a, mask: mapGenericMask(a.mask) } : a)) };
}

/**
 * What a descriptor is stored as: generic rights mapped, and of the auto-inheritance bits only
 * what Windows keeps: AUTO_INHERITED when AUTO_INHERIT_REQ came with it, never the REQ bit itself.
 */
function normalized(sd: SecurityDescriptor): SecurityDescriptor {
  let control = sd.control;
  for (const [req, done] of [
    [SdControl.DACL_AUTO_INHERIT_REQ, SdControl.DACL_AUTO_INHERITED],
    [SdControl.SACL_AUTO_INHERIT_REQ, SdControl.SACL_AUTO_INHERITED],
  ] as const) {
    if (!(control & req)) control &= ~done;
    control &= ~req;
  }
  return { ...sd, control, dacl: mapAclGenerics(sd.dacl), sacl: mapAclGenerics(sd.sacl) };
}

/**
 * The record after a SET_INFO of `secInfo` with `incoming` ([MS-DTYP] 2.4.7): each named part
 * replaces the stored one. A DACL named but not PRESENT in `incoming` is stored as a NULL DACL,
 * as Windows does; PROTECTED_/UNPROTECTED_DACL (and SACL) set or clear the PROTECTED bit.
 * Owner and group are taken as given: whether the caller may set them is checked before.
 */
export function applySecurityInfo(stored: StoredSd | null, incoming: SecurityDescriptor, secInfo: number): StoredSd {
  const sd: SecurityDescriptor = stored ? { ...stored.sd } : { control: 0 };
  let parts = stored?.parts ?? 0;
  const src = normalized(incoming);
  if (secInfo & SecInfo.DACL && src.dacl === undefined) src.dacl = null;
  if (secInfo & SecInfo.SACL && src.sacl === undefined) src.sacl = null;
  if (secInfo & SecInfo.PROTECTED_DACL) src.control |= SdControl.DACL_PROTECTED;
  if (secInfo & SecInfo.UNPROTECTED_DACL) src.control &= ~SdControl.DACL_PROTECTED;
  if (secInfo & SecInfo.PROTECTED_SACL) src.control |= SdControl.SACL_PROTECTED;
  if (secInfo & SecInfo.UNPROTECTED_SACL) src.control &= ~SdControl.SACL_PROTECTED;
  for (const part of PARTS) {
    if (!(secInfo & part)) continue;
    copyPart(sd, src, part);
    parts |= part;
  }
  return { parts, sd };
}

/** What a CREATE's SecD context stores: the parts it has (a DACL only when PRESENT). */
export function storedFromCreate(sd: SecurityDescriptor): StoredSd {
  let parts = 0;
  if (sd.owner) parts |= SecInfo.OWNER;
  if (sd.group) parts |= SecInfo.GROUP;
  if (sd.dacl !== undefined) parts |= SecInfo.DACL;
  if (sd.sacl !== undefined) parts |= SecInfo.SACL;
  return { parts, sd: only(normalized(sd), parts) };
}
