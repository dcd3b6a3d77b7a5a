// Security descriptors: the self-relative codec, malformed input, and the DACL access check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from '../../src/protocol/status.js';
import { Access, FILE_ALL_ACCESS } from '../../src/protocol/constants.js';
import {
  AceFlags,
  AceType,
  SdControl,
  decodeSecurityDescriptor,
  encodeSecurityDescriptor,
  parseSidString,
  sidToString,
  type SecurityDescriptor,
} from '../../src/protocol/security-descriptor.js';
import { WellKnownSid, tokenFor } from '../../src/security/token.js';
import { accessAllowedBySd, accessCheck } from '../../src/security/access-check.js';

const alice = tokenFor({ user: 'alice', isGuest: false, isAnonymous: false });
const bob = tokenFor({ user: 'bob', isGuest: false, isAnonymous: false });

function decoded(buf: Buffer): SecurityDescriptor {
  const r = decodeSecurityDescriptor(buf);
  assert.ok(r.ok, `decode failed: ${r.ok ? '' : r.status.toString(16)}`);
  return r.value;
}

function statusOf(buf: Buffer): number {
  const r = decodeSecurityDescriptor(buf);
  assert.ok(!r.ok, 'expected a decode failure');
  return r.status;
}

const FULL: SecurityDescriptor = {
  control: SdControl.DACL_AUTO_INHERITED | SdControl.DACL_PROTECTED,
  owner: alice.user,
  group: parseSidString('S-1-5-32-545')!,
  dacl: {
    revision: 2,
    aces: [
      { type: AceType.ACCESS_DENIED, flags: 0, mask: Access.FILE_WRITE_DATA, sid: WellKnownSid.EVERYONE },
      { type: AceType.ACCESS_ALLOWED, flags: AceFlags.OBJECT_INHERIT | AceFlags.CONTAINER_INHERIT, mask: FILE_ALL_ACCESS, sid: alice.user },
      // An object ACE (type 5): kept as raw bytes.
      { type: 5, flags: 0, mask: 0, raw: Buffer.from([5, 0, 12, 0, 1, 0, 0, 0, 9, 9, 9, 9]) },
    ],
  },
  sacl: { revision: 2, aces: [{ type: AceType.SYSTEM_AUDIT, flags: 0x40, mask: Access.DELETE, sid: WellKnownSid.EVERYONE }] },
};

test('SIDs: string form both ways, bad strings refused', () => {
  assert.equal(sidToString(parseSidString('S-1-5-21-1-2-3-1001')!), 'S-1-5-21-1-2-3-1001');
  assert.equal(sidToString(WellKnownSid.EVERYONE), 'S-1-1-0');
  assert.equal(parseSidString('S-2-5'), null);
  assert.equal(parseSidString('S-1-5-4294967296'), null);
  assert.equal(parseSidString('S-1-5' + '-1'.repeat(16)), null);
});

test('encode/decode: a full descriptor round-trips, bytes included', () => {
  const buf = encodeSecurityDescriptor(FULL);
  assert.equal(buf[0], 1);
  const control = buf.readUInt16LE(2);
  assert.equal(control & SdControl.SELF_RELATIVE, SdControl.SELF_RELATIVE);
  assert.equal(control & SdControl.DACL_PRESENT, SdControl.DACL_PRESENT);
  assert.equal(control & SdControl.SACL_PRESENT, SdControl.SACL_PRESENT);
  const sd = decoded(buf);
  assert.equal(sidToString(sd.owner!), sidToString(alice.user));
  assert.equal(sidToString(sd.group!), 'S-1-5-32-545');
  assert.equal(sd.dacl!.aces.length, 3);
  assert.deepEqual(sd.dacl!.aces[2]!.raw, FULL.dacl!.aces[2]!.raw);
  assert.equal(sd.sacl!.aces[0]!.flags, 0x40);
  assert.deepEqual(encodeSecurityDescriptor(sd), buf);
});

test('encode/decode: NULL DACL, absent DACL, empty DACL and an empty descriptor stay distinct', () => {
  const nullDacl = decoded(encodeSecurityDescriptor({ control: 0, dacl: null }));
  assert.equal(nullDacl.dacl, null);
  assert.equal(nullDacl.control & SdControl.DACL_PRESENT, SdControl.DACL_PRESENT);
  const absent = decoded(encodeSecurityDescriptor({ control: 0 }));
  assert.equal(absent.dacl, undefined);
  assert.equal(absent.owner, undefined);
  const empty = decoded(encodeSecurityDescriptor({ control: 0, dacl: { revision: 2, aces: [] } }));
  assert.deepEqual(empty.dacl, { revision: 2, aces: [] });
  assert.equal(encodeSecurityDescriptor({ control: 0 }).length, 20);
});

test('decode: callback ACE data after the SID survives', () => {
  const sd: SecurityDescriptor = {
    control: 0,
    dacl: { revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED_CALLBACK, flags: 0, mask: 1, sid: WellKnownSid.EVERYONE, extra: Buffer.from('artx') }] },
  };
  const buf = encodeSecurityDescriptor(sd);
  assert.deepEqual(decoded(buf).dacl!.aces[0]!.extra, Buffer.from('artx'));
  assert.deepEqual(encodeSecurityDescriptor(decoded(buf)), buf);
});

test('decode: malformed input gives a status, never a throw', () => {
  const good = encodeSecurityDescriptor(FULL);
  assert.equal(statusOf(Buffer.alloc(0)), Status.INVALID_SECURITY_DESCR);
  assert.equal(statusOf(Buffer.alloc(19)), Status.INVALID_SECURITY_DESCR);
  const rev = Buffer.from(good);
  rev[0] = 2;
  assert.equal(statusOf(rev), Status.INVALID_SECURITY_DESCR);
  const absolute = Buffer.from(good);
  absolute.writeUInt16LE(absolute.readUInt16LE(2) & ~SdControl.SELF_RELATIVE, 2);
  assert.equal(statusOf(absolute), Status.INVALID_SECURITY_DESCR);
  const ownerOut = Buffer.from(good);
  ownerOut.writeUInt32LE(good.length + 100, 4);
  assert.equal(statusOf(ownerOut), Status.INVALID_SECURITY_DESCR);
  const ownerInHeader = Buffer.from(good);
  ownerInHeader.writeUInt32LE(4, 4);
  assert.notEqual(decodeSecurityDescriptor(ownerInHeader).ok, true);
  const badSid = Buffer.from(good);
  badSid[good.readUInt32LE(4)] = 7;
  assert.equal(statusOf(badSid), Status.INVALID_SID);
  const daclOff = good.readUInt32LE(16);
  const aclTooBig = Buffer.from(good);
  aclTooBig.writeUInt16LE(0xfff0, daclOff + 2);
  assert.equal(statusOf(aclTooBig), Status.INVALID_ACL);
  const tooManyAces = Buffer.from(good);
  tooManyAces.writeUInt16LE(40, daclOff + 4);
  assert.equal(statusOf(tooManyAces), Status.INVALID_ACL);
  const aceZero = Buffer.from(good);
  aceZero.writeUInt16LE(0, daclOff + 8 + 2);
  assert.equal(statusOf(aceZero), Status.INVALID_ACL);
  // Every truncation and every single-byte corruption: a result, never an exception.
  for (let n = 0; n < good.length; n++) decodeSecurityDescriptor(good.subarray(0, n));
  for (let i = 0; i < good.length; i++) {
    for (const v of [0, 0xff, 0x80]) {
      const b = Buffer.from(good);
      b[i] = v;
      const r = decodeSecurityDescriptor(b);
      if (r.ok) encodeSecurityDescriptor(r.value);
    }
  }
});

test('decode: an ACL with PRESENT clear is ignored, PRESENT with offset 0 is a NULL ACL', () => {
  const buf = encodeSecurityDescriptor(FULL);
  buf.writeUInt16LE(buf.readUInt16LE(2) & ~SdControl.DACL_PRESENT, 2);
  assert.equal(decoded(buf).dacl, undefined);
  const nul = encodeSecurityDescriptor(FULL);
  nul.writeUInt32LE(0, 16);
  assert.equal(decoded(nul).dacl, null);
});

test('tokens: users get stable distinct SIDs, guest and anonymous their own', () => {
  assert.equal(sidToString(alice.user), sidToString(tokenFor({ user: 'ALICE', isGuest: false, isAnonymous: false }).user));
  assert.notEqual(sidToString(alice.user), sidToString(bob.user));
  assert.match(sidToString(alice.user), /^S-1-5-21-\d+-\d+-\d+-\d+$/);
  assert.match(sidToString(tokenFor({ user: 'x', isGuest: true, isAnonymous: false }).user), /-501$/);
  assert.equal(sidToString(tokenFor({ user: '', isGuest: false, isAnonymous: true }).user), 'S-1-5-7');
});

const R = Access.FILE_READ_DATA;
const W = Access.FILE_WRITE_DATA;

function withDacl(aces: SecurityDescriptor['dacl'], owner = alice.user): SecurityDescriptor {
  return { control: 0, owner, dacl: aces };
}

test('access check: no DACL or a NULL DACL grants everything', () => {
  assert.ok(accessAllowedBySd({ control: 0 }, bob, FILE_ALL_ACCESS));
  assert.deepEqual(accessCheck(withDacl(null), bob, Access.MAXIMUM_ALLOWED), { status: Status.SUCCESS, granted: FILE_ALL_ACCESS });
  assert.equal(accessCheck(withDacl(null), bob, Access.GENERIC_WRITE).granted, 0x00120116);
});

test('access check: empty DACL leaves the owner READ_CONTROL and WRITE_DAC only', () => {
  const sd = withDacl({ revision: 2, aces: [] });
  assert.ok(accessAllowedBySd(sd, alice, Access.READ_CONTROL | Access.WRITE_DAC));
  assert.ok(!accessAllowedBySd(sd, alice, R));
  assert.ok(!accessAllowedBySd(sd, bob, Access.READ_CONTROL));
  assert.equal(accessCheck(sd, alice, Access.MAXIMUM_ALLOWED).granted, Access.READ_CONTROL | Access.WRITE_DAC);
  assert.equal(accessCheck(sd, bob, Access.MAXIMUM_ALLOWED).status, Status.ACCESS_DENIED);
});

test('access check: ACE order, denies, generic masks, inherit-only and CREATOR OWNER', () => {
  const ev = WellKnownSid.EVERYONE;
  const denyFirst = withDacl({ revision: 2, aces: [
    { type: AceType.ACCESS_DENIED, flags: 0, mask: W, sid: bob.user },
    { type: AceType.ACCESS_ALLOWED, flags: 0, mask: Access.GENERIC_ALL, sid: ev },
  ] });
  assert.ok(!accessAllowedBySd(denyFirst, bob, W));
  assert.ok(accessAllowedBySd(denyFirst, bob, R | Access.DELETE));
  assert.ok(accessAllowedBySd(denyFirst, alice, W));
  assert.equal(accessCheck(denyFirst, bob, Access.MAXIMUM_ALLOWED).granted, FILE_ALL_ACCESS & ~W);
  const allowFirst = withDacl({ revision: 2, aces: [
    { type: AceType.ACCESS_ALLOWED, flags: 0, mask: W, sid: ev },
    { type: AceType.ACCESS_DENIED, flags: 0, mask: W, sid: bob.user },
  ] });
  assert.ok(accessAllowedBySd(allowFirst, bob, W));
  const inheritOnly = withDacl({ revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: AceFlags.INHERIT_ONLY | AceFlags.OBJECT_INHERIT, mask: W, sid: ev }] });
  assert.ok(!accessAllowedBySd(inheritOnly, bob, W));
  // smb2.compound.related4: an ACE for CREATOR OWNER on the object itself matches nobody.
  const creator = withDacl({ revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: 0, mask: 0x001f0089, sid: WellKnownSid.CREATOR_OWNER }] });
  assert.ok(!accessAllowedBySd(creator, alice, W));
  assert.ok(accessAllowedBySd(creator, alice, Access.READ_CONTROL));
});

test('access check: OWNER RIGHTS replaces the owner\'s implicit rights', () => {
  const sd = withDacl({ revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: 0, mask: R, sid: WellKnownSid.OWNER_RIGHTS }] });
  assert.ok(accessAllowedBySd(sd, alice, R));
  assert.ok(!accessAllowedBySd(sd, alice, Access.WRITE_DAC));
  assert.ok(!accessAllowedBySd(sd, bob, R));
});
