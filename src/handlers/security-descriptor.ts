/**
 * NT security descriptors of files: QUERY_INFO and SET_INFO of SMB2_0_INFO_SECURITY, the SecD create
 * context, and the DACL check a CREATE of an existing file makes.
 *
 * What a client sets is stored per part (owner, group, DACL, SACL) in the file's 'ntacl' extra (the
 * `user.smb3d.ntacl` xattr on the POSIX backend; record format in src/security/stored-sd.ts); parts
 * never set answer with a synthesized default: owner the asking user (every SMB user acts as the
 * share's POSIX owner), group their primary group, and a DACL granting Everyone what the share grants.
 * Only a stored DACL is enforced, so files nobody set an ACL on behave as before.
 *
 * Where the share keeps no extras (a POSIX share without user xattrs), SET_INFO SECURITY answers
 * STATUS_NOT_SUPPORTED and a SecD context is ignored, as on a file system without ACLs.
 *
 * Nobody holds SeSecurityPrivilege here, so no open has ACCESS_SYSTEM_SECURITY: asking for it at
 * CREATE, or a SecD carrying a SACL, is STATUS_PRIVILEGE_NOT_HELD; querying or setting a SACL on an
 * open without it is STATUS_ACCESS_DENIED, as Windows and Samba answer.
 */
import { Access } from '../protocol/constants.js';
import { NtStatusError, Status, fail } from '../protocol/status.js';
import { SdControl, SecInfo, decodeSecurityDescriptor, encodeSecurityDescriptor, type SecurityDescriptor } from '../protocol/security-descriptor.js';
import { WellKnownSid, tokenFor, tokenHas, type SecurityToken } from '../security/token.js';
import { accessCheck } from '../security/access-check.js';
import { applySecurityInfo, decodeStoredSd, effectiveSd, encodeStoredSd, only, storedFromCreate, type StoredSd } from '../security/stored-sd.js';
import { inheritAcl } from '../security/inherit.js';
import type { Backend, ExtraStore, VfsHandle } from '../vfs/types.js';
import type { Open } from '../server/state/open.js';
import type { Session } from '../server/state/session.js';
import type { CreateContext } from './create-contexts.js';
import { keepsExtras } from './ea-create.js';
import { mapGenericAccess } from './access.js';

const SECD = 'SecD';
const DACL_CONTROL = SdControl.DACL_AUTO_INHERITED | SdControl.DACL_AUTO_INHERIT_REQ | SdControl.DACL_PROTECTED | SdControl.DACL_DEFAULTED;

export function tokenOf(session: Session | undefined): SecurityToken {
  return tokenFor(session?.identity);
}

/** The descriptor of a file with nothing stored, as `token` sees it. */
export function defaultSecurityDescriptor(token: SecurityToken, shareAccess: number): SecurityDescriptor {
  return {
    control: 0,
    owner: token.user,
    group: token.primaryGroup,
    dacl: { revision: 2, aces: [{ type: 0, flags: 0, mask: shareAccess >>> 0, sid: WellKnownSid.EVERYONE }] },
  };
}

/** The stored record, or null (none, unreadable, or of a version this server does not know). */
export function readStoredSd(store: ExtraStore): StoredSd | null {
  let raw: Buffer | null;
  try {
    raw = store.get('ntacl', '');
  } catch {
    return null;
  }
  return raw ? decodeStoredSd(raw) : null;
}

function storeOf(handle: VfsHandle | undefined): ExtraStore | undefined {
  try {
    return handle?.extras?.();
  } catch {
    return undefined;
  }
}

/** QUERY_INFO SMB2_0_INFO_SECURITY: the parts `additionalInfo` names, stored or default. */
export function querySecurity(open: Open, additionalInfo: number): Buffer {
  const saclOnly = (additionalInfo & (SecInfo.OWNER | SecInfo.GROUP | SecInfo.DACL | SecInfo.LABEL)) === 0 && (additionalInfo & SecInfo.SACL) !== 0;
  if (!saclOnly && !(open.grantedAccess & Access.READ_CONTROL)) fail(Status.ACCESS_DENIED);
  if (additionalInfo & SecInfo.SACL && !(open.grantedAccess & Access.ACCESS_SYSTEM_SECURITY)) fail(Status.ACCESS_DENIED);
  const store = storeOf(open.handle);
  const stored = store ? readStoredSd(store) : null;
  const sd = effectiveSd(stored, defaultSecurityDescriptor(tokenOf(open.session), open.tree.maximalAccess));
  return encodeSecurityDescriptor(only(sd, additionalInfo));
}

/** SET_INFO SMB2_0_INFO_SECURITY ([MS-SMB2] 3.3.5.21.3). */
export async function setSecurity(open: Open, additionalInfo: number, data: Buffer): Promise<void> {
  if (additionalInfo & (SecInfo.OWNER | SecInfo.GROUP | SecInfo.LABEL) && !(open.grantedAccess & Access.WRITE_OWNER)) fail(Status.ACCESS_DENIED);
  if (additionalInfo & SecInfo.DACL && !(open.grantedAccess & Access.WRITE_DAC)) fail(Status.ACCESS_DENIED);
  if (additionalInfo & SecInfo.SACL && !(open.grantedAccess & Access.ACCESS_SYSTEM_SECURITY)) fail(Status.ACCESS_DENIED);
  const decoded = decodeSecurityDescriptor(data);
  if (!decoded.ok) fail(decoded.status, 'malformed security descriptor');
  const incoming = decoded.value;
  const token = tokenOf(open.session);
  if (additionalInfo & SecInfo.OWNER) {
    if (!incoming.owner) fail(Status.INVALID_OWNER, 'no owner in the descriptor');
    if (!tokenHas(token, incoming.owner)) fail(Status.INVALID_OWNER, 'owner is not the caller or one of its groups');
  }
  if (additionalInfo & SecInfo.GROUP && !incoming.group) fail(Status.INVALID_PRIMARY_GROUP, 'no group in the descriptor');
  const backend = open.tree.share.backend;
  const store = storeOf(open.handle);
  if (!store || !backend || !(await keepsExtras(backend))) fail(Status.NOT_SUPPORTED, 'this share keeps no security descriptors');
  if (!(additionalInfo & (SecInfo.OWNER | SecInfo.GROUP | SecInfo.DACL | SecInfo.SACL))) return;
  writeStoredSd(store, applySecurityInfo(readStoredSd(store), incoming, additionalInfo));
}

function writeStoredSd(store: ExtraStore, rec: StoredSd): void {
  try {
    store.set('ntacl', '', encodeStoredSd(rec));
  } catch (err) {
    // Without xattrs the store refuses: the share cannot keep descriptors.
    if (err instanceof NtStatusError && err.status !== Status.NOT_SUPPORTED) throw err;
    fail(Status.NOT_SUPPORTED, 'this share keeps no security descriptors');
  }
}

/**
 * The SecD context of a CREATE, decoded and checked before anything is created; undefined when
 * there is none or the share cannot keep it.
 */
export async function checkCreateSd(contexts: CreateContext[], backend: Backend, token: SecurityToken): Promise<SecurityDescriptor | undefined> {
  const ctx = contexts.find((c) => c.name === SECD);
  if (!ctx) return undefined;
  const decoded = decodeSecurityDescriptor(ctx.data);
  if (!decoded.ok) fail(decoded.status, 'malformed SecD create context');
  const sd = decoded.value;
  if (sd.sacl !== undefined) fail(Status.PRIVILEGE_NOT_HELD, 'a SACL needs SeSecurityPrivilege');
  if (sd.owner && !tokenHas(token, sd.owner)) fail(Status.INVALID_OWNER, 'owner is not the caller or one of its groups');
  if (!(await keepsExtras(backend))) return undefined;
  return sd;
}

/**
 * Stores the descriptor of a file or directory a CREATE made: the SecD's parts, with the creator as
 * owner and its primary group where absent; without a DACL in the SecD, the one inherited from the
 * parent's stored DACL (src/security/inherit.ts). Nothing is stored when neither applies, so the
 * default answers.
 */
export async function applyCreateSd(backend: Backend, path: string, handle: VfsHandle, sd: SecurityDescriptor | undefined, token: SecurityToken, isDirectory: boolean): Promise<void> {
  const owner = sd?.owner ?? token.user;
  const group = sd?.group ?? token.primaryGroup;
  let rec = sd ? storedFromCreate({ ...sd, owner, group }) : undefined;
  if (!rec || !(rec.parts & SecInfo.DACL)) {
    const parent = parentOf(path);
    const from = parent === undefined ? null : await storedAt(backend, parent);
    const inherited = from && from.parts & SecInfo.DACL ? inheritAcl(from.sd.dacl, from.sd.control, isDirectory, owner, group) : undefined;
    if (inherited) {
      const base = rec?.sd ?? { control: 0 };
      rec = {
        parts: (rec?.parts ?? 0) | SecInfo.OWNER | SecInfo.GROUP | SecInfo.DACL,
        sd: { ...base, owner, group, dacl: inherited.acl, control: (base.control & ~DACL_CONTROL) | inherited.control },
      };
    }
  }
  if (!rec) return;
  const store = storeOf(handle);
  if (store) writeStoredSd(store, rec);
}

/** The record stored on `path`, or null (none, or a backend that keeps no extras). */
async function storedAt(backend: Backend, path: string): Promise<StoredSd | null> {
  if (!backend.extras) return null;
  try {
    return readStoredSd(await backend.extras(path));
  } catch {
    return null;
  }
}

function parentOf(path: string): string | undefined {
  if (path === '') return undefined;
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * The access a CREATE of an existing file gets when the file has a stored DACL: `desired` checked
 * against it (MAXIMUM_ALLOWED: what it allows), within what the share grants; ACCESS_DENIED when the
 * DACL refuses. DELETE the DACL does not grant is granted when the parent directory grants
 * FILE_DELETE_CHILD, and FILE_READ_ATTRIBUTES is never refused (the path to the file gives it;
 * [MS-FSA] 2.1.5.1.2.1, as Windows and Samba do). `implied`: rights the open needs without asking
 * for them (FILE_WRITE_DATA to overwrite), checked but not granted. Without a stored DACL, `mapped`
 * (the share's answer) stands. `maximal` is MxAc's answer.
 */
export async function accessByStoredSd(
  backend: Backend,
  path: string,
  token: SecurityToken,
  desired: number,
  mapped: number,
  shareMaximal: number,
  implied = 0,
): Promise<{ access: number; maximal: number }> {
  const stored = await storedAt(backend, path);
  if (!stored || !(stored.parts & SecInfo.DACL)) return { access: mapped, maximal: shareMaximal };
  const fallback = defaultSecurityDescriptor(token, shareMaximal);
  let allowed = accessCheck(effectiveSd(stored, fallback), token, Access.MAXIMUM_ALLOWED).granted | Access.FILE_READ_ATTRIBUTES;
  const parent = parentOf(path);
  if (!(allowed & Access.DELETE) && parent !== undefined) {
    const parentSd = effectiveSd(await storedAt(backend, parent), fallback);
    if (accessCheck(parentSd, token, Access.FILE_DELETE_CHILD).status === Status.SUCCESS) allowed |= Access.DELETE;
  }
  const wanted = mapGenericAccess(desired & ~Access.MAXIMUM_ALLOWED, 0) & ~Access.ACCESS_SYSTEM_SECURITY;
  if ((wanted | implied) & ~allowed) fail(Status.ACCESS_DENIED, "the file's DACL refuses the access asked for");
  // `mapped` is what was asked for plus, with MAXIMUM_ALLOWED, all the share grants: of the latter,
  // keep what the DACL allows.
  const access = desired & Access.MAXIMUM_ALLOWED ? (allowed & mapped) | wanted : mapped;
  if (access === 0) fail(Status.ACCESS_DENIED, "the file's DACL allows nothing");
  return { access: access >>> 0, maximal: (allowed & shareMaximal) >>> 0 };
}
