/**
 * Who a session is, as SIDs ([MS-DTYP] 2.4.2.4, 2.5.2): the user's SID and the groups an access check
 * matches ACEs against.
 *
 * smb3d has no domain: its users live in the passdb by name. They get SIDs in a fixed local domain,
 * S-1-5-21-<SMB3D_DOMAIN>-<RID>, the RID derived from the lower-cased name (1000 and up, stable across
 * restarts and servers, so SIDs stored in a file's security descriptor keep naming the same user).
 * The guest is RID 501, anonymous sessions are ANONYMOUS LOGON (S-1-5-7).
 */
import { sid, sidEquals, type Sid } from '../protocol/security-descriptor.js';

/** The sub-authorities of smb3d's local domain: fixed, arbitrary. */
const SMB3D_DOMAIN = [0x736d6233, 0x64000001, 0x5eed0001] as const;

export const WellKnownSid = {
  EVERYONE: sid(1, 0),
  CREATOR_OWNER: sid(3, 0),
  CREATOR_GROUP: sid(3, 1),
  OWNER_RIGHTS: sid(3, 4),
  NETWORK: sid(5, 2),
  ANONYMOUS: sid(5, 7),
  AUTHENTICATED_USERS: sid(5, 11),
  SYSTEM: sid(5, 18),
  BUILTIN_ADMINISTRATORS: sid(5, 32, 544),
  BUILTIN_USERS: sid(5, 32, 545),
  BUILTIN_GUESTS: sid(5, 32, 546),
} as const;

export const DomainRid = { GUEST: 501, DOMAIN_USERS: 513, DOMAIN_GUESTS: 514 } as const;

export function domainSid(rid: number): Sid {
  return sid(5, 21, ...SMB3D_DOMAIN, rid >>> 0);
}

/** The RID of a passdb user: 1000 + FNV-1a of the lower-cased name, within 30 bits. */
export function ridForUser(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name.toLowerCase(), 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1000 + (h % 0x3fff0000);
}

export interface SecurityToken {
  /** The user: owner of what it creates. */
  user: Sid;
  /** Its primary group: the group of what it creates. */
  primaryGroup: Sid;
  /** Every SID an ACE may match, the user's included. */
  sids: Sid[];
}

export interface TokenIdentity {
  user: string;
  isGuest: boolean;
  isAnonymous: boolean;
}

export function tokenFor(identity: TokenIdentity | undefined): SecurityToken {
  if (!identity || identity.isAnonymous) {
    return { user: WellKnownSid.ANONYMOUS, primaryGroup: WellKnownSid.ANONYMOUS, sids: [WellKnownSid.ANONYMOUS, WellKnownSid.NETWORK] };
  }
  if (identity.isGuest) {
    const user = domainSid(DomainRid.GUEST);
    const group = domainSid(DomainRid.DOMAIN_GUESTS);
    return { user, primaryGroup: group, sids: [user, group, WellKnownSid.EVERYONE, WellKnownSid.BUILTIN_GUESTS, WellKnownSid.NETWORK] };
  }
  const user = domainSid(ridForUser(identity.user));
  const group = domainSid(DomainRid.DOMAIN_USERS);
  return {
    user,
    primaryGroup: group,
    sids: [user, group, WellKnownSid.EVERYONE, WellKnownSid.BUILTIN_USERS, WellKnownSid.NETWORK, WellKnownSid.AUTHENTICATED_USERS],
  };
}

export function tokenHas(token: SecurityToken, s: Sid | undefined): boolean {
  return s !== undefined && token.sids.some((t) => sidEquals(t, s));
}
