/**
 * ACL inheritance at creation ([MS-DTYP] 2.5.3.4, ComputeInheritedACLfromParent): the DACL a new
 * file or directory gets from its parent's inheritable ACEs. No I/O.
 *
 * For each parent ACE:
 * - it applies to the new object when it is OBJECT_INHERIT (a file) or CONTAINER_INHERIT (a
 *   directory); INHERIT_ONLY on the parent does not matter;
 * - where it applies, the child gets an effective ACE. CREATOR OWNER/GROUP become the new owner and
 *   group, GENERIC_* bits the file rights; such an ACE on a directory that passes it on (no
 *   NO_PROPAGATE_INHERIT) is split: the effective one, then the original as INHERIT_ONLY for the
 *   grandchildren. Without anything to expand, one ACE does both jobs;
 * - a directory also keeps an OBJECT_INHERIT-only ACE as INHERIT_ONLY, for the files it will hold;
 * - NO_PROPAGATE_INHERIT stops it after this child: effective ACE only, no inheritance flags.
 * Inherited ACEs are marked INHERITED, and the child's DACL AUTO_INHERITED, only when the parent's
 * DACL is AUTO_INHERITED (as Windows and Samba answer smb2.acls.INHERITFLAGS).
 */
import { Access } from '../protocol/constants.js';
import { AceFlags, SdControl, sidEquals, type Ace, type Acl, type Sid } from '../protocol/security-descriptor.js';
import { mapGenericAccess } from '../handlers/access.js';
import { WellKnownSid } from './token.js';

const GENERIC_BITS = Access.GENERIC_READ | Access.GENERIC_WRITE | Access.GENERIC_EXECUTE | Access.GENERIC_ALL;
const INHERIT_BITS = AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT;

/** GENERIC_* bits as the file rights they stand for (MAXIMUM_ALLOWED and the rest kept). */
export function mapGenericMask(mask: number): number {
  if (!(mask & GENERIC_BITS)) return mask >>> 0;
  return (mapGenericAccess(mask & ~Access.MAXIMUM_ALLOWED, 0) | (mask & Access.MAXIMUM_ALLOWED)) >>> 0;
}

function needsExpansion(ace: Ace): boolean {
  return (ace.mask & GENERIC_BITS) !== 0 || sidEquals(ace.sid, WellKnownSid.CREATOR_OWNER) || sidEquals(ace.sid, WellKnownSid.CREATOR_GROUP);
}

function expanded(ace: Ace, owner: Sid, group: Sid, flags: number): Ace {
  const sid = sidEquals(ace.sid, WellKnownSid.CREATOR_OWNER) ? owner : sidEquals(ace.sid, WellKnownSid.CREATOR_GROUP) ? group : ace.sid;
  return { ...ace, sid, mask: mapGenericMask(ace.mask), flags };
}

export interface Inherited {
  acl: Acl;
  /** Control bits for the child's DACL (AUTO_INHERITED or nothing). */
  control: number;
}

/**
 * The DACL a new object inherits from `parentAcl` (`parentControl`: the parent descriptor's
 * control); undefined when nothing is inheritable (the caller uses its default).
 */
export function inheritAcl(parentAcl: Acl | null | undefined, parentControl: number, isContainer: boolean, owner: Sid, group: Sid): Inherited | undefined {
  if (!parentAcl) return undefined;
  const auto = (parentControl & SdControl.DACL_AUTO_INHERITED) !== 0;
  const inh = auto ? AceFlags.INHERITED : 0;
  const out: Ace[] = [];
  for (const ace of parentAcl.aces) {
    // Object ACEs (kept raw) have no meaning for files: not inherited.
    if (!ace.sid) continue;
    const f = ace.flags;
    const applies = isContainer ? (f & AceFlags.CONTAINER_INHERIT) !== 0 : (f & AceFlags.OBJECT_INHERIT) !== 0;
    const noPropagate = (f & AceFlags.NO_PROPAGATE_INHERIT) !== 0;
    if (applies) {
      if (!isContainer || noPropagate) {
        out.push(expanded(ace, owner, group, inh));
      } else if (needsExpansion(ace)) {
        out.push(expanded(ace, owner, group, inh));
        out.push({ ...ace, flags: (f & INHERIT_BITS) | AceFlags.INHERIT_ONLY | inh });
      } else {
        out.push({ ...ace, flags: (f & INHERIT_BITS) | inh });
      }
    } else if (isContainer && f & AceFlags.OBJECT_INHERIT && !noPropagate) {
      out.push({ ...ace, flags: AceFlags.OBJECT_INHERIT | AceFlags.INHERIT_ONLY | inh });
    }
  }
  if (out.length === 0) return undefined;
  return { acl: { revision: parentAcl.revision, aces: out }, control: auto ? SdControl.DACL_AUTO_INHERITED : 0 };
}
