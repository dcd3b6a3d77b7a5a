/**
 * The DACL half of Windows' access check ([MS-DTYP] 2.5.3.2), for one object's security
 * descriptor and a session's token: what a CREATE may be granted. Privileges (ACCESS_SYSTEM_SECURITY
 * needs SeSecurityPrivilege) and the share's own limit are the caller's business.
 *
 * - No DACL, or a NULL DACL: everything is granted.
 * - The owner is granted READ_CONTROL and WRITE_DAC whatever the DACL says, unless the DACL has an
 *   OWNER RIGHTS (S-1-3-4) ACE, which then says what the owner gets instead.
 * - ACEs are read in order; an allow grants what no earlier deny refused, a deny refuses what no
 *   earlier allow granted. INHERIT_ONLY ACEs and types other than ACCESS_ALLOWED/DENIED do not
 *   take part. GENERIC_* bits in an ACE's mask mean the file rights they map to.
 */
import { Access, FILE_ALL_ACCESS } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { AceFlags, AceType, sidEquals, type SecurityDescriptor } from '../protocol/security-descriptor.js';
import { mapGenericAccess } from '../handlers/access.js';
import { WellKnownSid, tokenHas, type SecurityToken } from './token.js';

export interface AccessCheckResult {
  /** SUCCESS or ACCESS_DENIED. */
  status: number;
  /** The rights granted: those asked for, or with MAXIMUM_ALLOWED everything the DACL allows. */
  granted: number;
}

const OWNER_IMPLICIT = Access.READ_CONTROL | Access.WRITE_DAC;

/** Bits the DACL decides on; ACCESS_SYSTEM_SECURITY and MAXIMUM_ALLOWED are not among them. */
function dataBits(mask: number): number {
  return mapGenericAccess(mask, 0) & ~(Access.ACCESS_SYSTEM_SECURITY | Access.MAXIMUM_ALLOWED);
}

/**
 * Checks `desired` (GENERIC_* bits allowed, MAXIMUM_ALLOWED asks for everything the DACL allows)
 * against the DACL of `sd` for `token`.
 */
export function accessCheck(sd: SecurityDescriptor, token: SecurityToken, desired: number): AccessCheckResult {
  const wantMax = (desired & Access.MAXIMUM_ALLOWED) !== 0;
  const wanted = dataBits(desired);
  if (!sd.dacl) return { status: Status.SUCCESS, granted: wantMax ? FILE_ALL_ACCESS | wanted : wanted };
  const isOwner = tokenHas(token, sd.owner);
  const applies = sd.dacl.aces.filter((a) => !(a.flags & AceFlags.INHERIT_ONLY) && (a.type === AceType.ACCESS_ALLOWED || a.type === AceType.ACCESS_DENIED));
  const ownerRights = applies.some((a) => sidEquals(a.sid, WellKnownSid.OWNER_RIGHTS));
  let granted = isOwner && !ownerRights ? OWNER_IMPLICIT : 0;
  let denied = 0;
  for (const ace of applies) {
    const matches = tokenHas(token, ace.sid) || (isOwner && sidEquals(ace.sid, WellKnownSid.OWNER_RIGHTS));
    if (!matches) continue;
    const mask = dataBits(ace.mask);
    if (ace.type === AceType.ACCESS_ALLOWED) granted |= mask & ~denied;
    else denied |= mask & ~granted;
  }
  granted >>>= 0;
  if ((wanted & ~granted) !== 0) return { status: Status.ACCESS_DENIED, granted: 0 };
  if (wantMax) {
    if (granted === 0) return { status: Status.ACCESS_DENIED, granted: 0 };
    return { status: Status.SUCCESS, granted };
  }
  return { status: Status.SUCCESS, granted: wanted };
}

/** Whether `token` may open an object protected by `sd` for `desired` (see accessCheck). */
export function accessAllowedBySd(sd: SecurityDescriptor, token: SecurityToken, desired: number): boolean {
  return accessCheck(sd, token, desired).status === Status.SUCCESS;
}
