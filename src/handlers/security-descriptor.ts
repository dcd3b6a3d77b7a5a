/**
 * A minimal self-relative security descriptor ([MS-DTYP] 2.4.6): owner and group Everyone and a DACL
 * granting Everyone what the share grants. smb3d keeps POSIX permissions, not ACLs; this answers the
 * clients that ask (smbclient allinfo, Explorer's security tab) without pretending to store more.
 */
const SE_DACL_PRESENT = 0x0004;
const SE_SELF_RELATIVE = 0x8000;
const OWNER = 0x1;
const GROUP = 0x2;
const DACL = 0x4;

function everyoneSid(): Buffer {
  const s = Buffer.alloc(12);
  s[0] = 1; // revision
  s[1] = 1; // sub-authority count
  s[7] = 1; // SECURITY_WORLD_SID_AUTHORITY
  s.writeUInt32LE(0, 8); // SECURITY_WORLD_RID
  return s;
}

export function buildSecurityDescriptor(additionalInfo: number, accessMask: number): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(20);
  header[0] = 1;
  let control = SE_SELF_RELATIVE;
  let off = 20;
  if (additionalInfo & OWNER) {
    header.writeUInt32LE(off, 4);
    parts.push(everyoneSid());
    off += 12;
  }
  if (additionalInfo & GROUP) {
    header.writeUInt32LE(off, 8);
    parts.push(everyoneSid());
    off += 12;
  }
  if (additionalInfo & DACL) {
    control |= SE_DACL_PRESENT;
    header.writeUInt32LE(off, 16);
    const ace = Buffer.alloc(8);
    ace[0] = 0; // ACCESS_ALLOWED_ACE_TYPE
    ace.writeUInt16LE(20, 2);
    ace.writeUInt32LE(accessMask >>> 0, 4);
    const acl = Buffer.alloc(8);
    acl[0] = 2;
    acl.writeUInt16LE(8 + 20, 2);
    acl.writeUInt16LE(1, 4);
    parts.push(acl, ace, everyoneSid());
    off += 28;
  }
  header.writeUInt16LE(control, 2);
  return Buffer.concat([header, ...parts]);
}
