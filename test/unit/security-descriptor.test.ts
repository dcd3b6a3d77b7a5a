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

// ---- Storage: the versioned record, merging with the default, SET_INFO semantics, backends ----

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SecInfo } from '../../src/protocol/security-descriptor.js';
import { applySecurityInfo, decodeStoredSd, effectiveSd, encodeStoredSd, only, storedFromCreate } from '../../src/security/stored-sd.js';
import { accessByStoredSd, defaultSecurityDescriptor, readStoredSd } from '../../src/handlers/security-descriptor.js';
import { MemoryBackend } from '../../src/vfs/memory.js';
import { PosixBackend } from '../../src/vfs/posix.js';
import { NtStatusError } from '../../src/protocol/status.js';
import type { Backend } from '../../src/vfs/types.js';

const DEFAULT = defaultSecurityDescriptor(alice, FILE_ALL_ACCESS);
const DENY_ALL_BUT_READ: SecurityDescriptor['dacl'] = { revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: 0, mask: R | Access.SYNCHRONIZE, sid: WellKnownSid.EVERYONE }] };

test('stored record: round trip, header fields, unknown versions and garbage count as none', () => {
  const rec = { parts: SecInfo.DACL | SecInfo.OWNER, sd: { control: SdControl.DACL_PROTECTED, owner: bob.user, group: alice.primaryGroup, dacl: DENY_ALL_BUT_READ } };
  const buf = encodeStoredSd(rec);
  assert.equal(buf[0], 1);
  assert.equal(buf.readUInt16LE(2), SecInfo.DACL | SecInfo.OWNER);
  const back = decodeStoredSd(buf)!;
  assert.equal(back.parts, rec.parts);
  // Only the parts named are kept: the group was not stored.
  assert.equal(back.sd.group, undefined);
  assert.equal(sidToString(back.sd.owner!), sidToString(bob.user));
  assert.equal(back.sd.control & SdControl.DACL_PROTECTED, SdControl.DACL_PROTECTED);
  const v2 = Buffer.from(buf);
  v2[0] = 2;
  assert.equal(decodeStoredSd(v2), null);
  assert.equal(decodeStoredSd(Buffer.alloc(3)), null);
  assert.equal(decodeStoredSd(Buffer.concat([buf.subarray(0, 8), Buffer.from('garbage')])), null);
  // A stored NULL DACL stays a NULL DACL.
  assert.equal(decodeStoredSd(encodeStoredSd({ parts: SecInfo.DACL, sd: { control: 0, dacl: null } }))!.sd.dacl, null);
});

test('effective descriptor: stored parts win, the default fills the rest; only() selects parts', () => {
  assert.deepEqual(effectiveSd(null, DEFAULT), DEFAULT);
  const eff = effectiveSd({ parts: SecInfo.DACL, sd: { control: 0, dacl: null } }, DEFAULT);
  assert.equal(eff.dacl, null);
  assert.equal(sidToString(eff.owner!), sidToString(alice.user));
  const sel = only(eff, SecInfo.OWNER);
  assert.equal(sel.dacl, undefined);
  assert.equal(sel.group, undefined);
  assert.ok(sel.owner);
  // Encoded for QUERY_INFO: a NULL DACL asked for is PRESENT with offset 0.
  const wire = encodeSecurityDescriptor(only(eff, SecInfo.DACL));
  assert.equal(wire.readUInt16LE(2) & SdControl.DACL_PRESENT, SdControl.DACL_PRESENT);
  assert.equal(wire.readUInt32LE(16), 0);
});

test('SET_INFO semantics: named parts replace, a DACL not PRESENT becomes a NULL DACL, PROTECTED flags', () => {
  let rec = applySecurityInfo(null, { control: 0, dacl: DENY_ALL_BUT_READ, owner: bob.user }, SecInfo.DACL);
  assert.equal(rec.parts, SecInfo.DACL);
  assert.equal(rec.sd.owner, undefined, 'the owner was not named');
  rec = applySecurityInfo(rec, { control: 0 }, SecInfo.DACL | SecInfo.PROTECTED_DACL);
  assert.equal(rec.sd.dacl, null);
  assert.equal(rec.sd.control & SdControl.DACL_PROTECTED, SdControl.DACL_PROTECTED);
  rec = applySecurityInfo(rec, { control: 0, owner: bob.user, group: bob.primaryGroup }, SecInfo.OWNER | SecInfo.UNPROTECTED_DACL);
  assert.equal(rec.parts, SecInfo.DACL | SecInfo.OWNER);
  assert.equal(rec.sd.control & SdControl.DACL_PROTECTED, SdControl.DACL_PROTECTED, 'UNPROTECTED applies only with the DACL');
  assert.equal(rec.sd.group, undefined);
  // CREATE's SecD: a DACL only when PRESENT.
  assert.equal(storedFromCreate({ control: 0, owner: alice.user }).parts, SecInfo.OWNER);
  assert.equal(storedFromCreate({ control: 0, dacl: null }).parts, SecInfo.DACL);
});

async function exerciseStore(backend: Backend): Promise<void> {
  const h = await backend.createFile('f.txt', { read: true, write: true }, 0);
  const store = h.extras!();
  assert.equal(readStoredSd(store), null);
  store.set('ntacl', '', encodeStoredSd({ parts: SecInfo.DACL, sd: { control: 0, dacl: DENY_ALL_BUT_READ } }));
  // The 'ntacl' kind is its own namespace: no stream or EA appears.
  assert.deepEqual(store.list('stream'), []);
  assert.deepEqual(store.list('ea'), []);
  await h.close();
  // Enforced on the next open: read is allowed, write is not; the parent's default DACL grants
  // FILE_DELETE_CHILD, so DELETE is too; no owner is stored, so the asker is the owner.
  const ok = await accessByStoredSd(backend, 'f.txt', bob, R, R, FILE_ALL_ACCESS);
  assert.equal(ok.access, R);
  const ownerMax = R | Access.SYNCHRONIZE | Access.DELETE | Access.READ_CONTROL | Access.WRITE_DAC | Access.FILE_READ_ATTRIBUTES;
  assert.equal(ok.maximal, ownerMax);
  await assert.rejects(accessByStoredSd(backend, 'f.txt', bob, W, W, FILE_ALL_ACCESS), (e: unknown) => e instanceof NtStatusError && e.status === Status.ACCESS_DENIED);
  const max = await accessByStoredSd(backend, 'f.txt', bob, Access.MAXIMUM_ALLOWED, FILE_ALL_ACCESS, FILE_ALL_ACCESS);
  assert.equal(max.access, ownerMax);
  // A file without a record: the share decides.
  await (await backend.createFile('g.txt', { read: true, write: true }, 0)).close();
  assert.deepEqual(await accessByStoredSd(backend, 'g.txt', bob, W, W, FILE_ALL_ACCESS), { access: W, maximal: FILE_ALL_ACCESS });
  // The record follows the file through a rename.
  await backend.rename('f.txt', 'h.txt', false);
  assert.equal(readStoredSd(await backend.extras!('h.txt'))!.parts, SecInfo.DACL);
}

test('storage: the memory backend keeps the record per file', async () => {
  await exerciseStore(new MemoryBackend());
});

test('storage: the POSIX backend keeps it in user.smb3d.ntacl', async (t) => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-ntacl-'));
  try {
    const backend = await PosixBackend.create(root);
    if (!backend.capabilities.xattrs) return t.skip('no user xattrs here');
    await exerciseStore(backend);
    const { getXattr } = await import('../../src/native/libc.js');
    const buf = Buffer.alloc(512);
    const n = getXattr({ path: path.join(root, 'h.txt') }, 'user.smb3d.ntacl', buf);
    assert.ok(n > 8);
    assert.equal(buf[0], 1);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

test('stored DACL at CREATE: READ_ATTRIBUTES is never refused, overwriting needs FILE_WRITE_DATA', async () => {
  const backend = new MemoryBackend();
  const h = await backend.createFile('ro.txt', { read: true, write: true }, 0);
  h.extras!().set('ntacl', '', encodeStoredSd({ parts: SecInfo.DACL | SecInfo.OWNER, sd: { control: 0, owner: alice.user, dacl: DENY_ALL_BUT_READ } }));
  await h.close();
  assert.equal((await accessByStoredSd(backend, 'ro.txt', bob, Access.FILE_READ_ATTRIBUTES, Access.FILE_READ_ATTRIBUTES, FILE_ALL_ACCESS)).access, Access.FILE_READ_ATTRIBUTES);
  await assert.rejects(accessByStoredSd(backend, 'ro.txt', bob, R, R, FILE_ALL_ACCESS, W), (e: unknown) => e instanceof NtStatusError && e.status === Status.ACCESS_DENIED);
  // bob is not the stored owner: no implicit READ_CONTROL.
  await assert.rejects(accessByStoredSd(backend, 'ro.txt', bob, Access.READ_CONTROL, Access.READ_CONTROL, FILE_ALL_ACCESS), (e: unknown) => e instanceof NtStatusError && e.status === Status.ACCESS_DENIED);
  assert.equal((await accessByStoredSd(backend, 'ro.txt', alice, Access.READ_CONTROL, Access.READ_CONTROL, FILE_ALL_ACCESS)).access, Access.READ_CONTROL);
});

test('stored ACEs: GENERIC_* bits are kept as the file rights they map to', () => {
  const rec = applySecurityInfo(null, { control: 0, dacl: { revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: 0, mask: Access.GENERIC_READ | Access.DELETE, sid: alice.user }] } }, SecInfo.DACL);
  assert.equal(rec.sd.dacl!.aces[0]!.mask, 0x00120089 | Access.DELETE);
  const created = storedFromCreate({ control: 0, dacl: { revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: 0, mask: Access.GENERIC_ALL, sid: alice.user }] } });
  assert.equal(created.sd.dacl!.aces[0]!.mask, FILE_ALL_ACCESS);
});

// ---- Inheritance at creation ----

import { inheritAcl } from '../../src/security/inherit.js';

const OI = AceFlags.OBJECT_INHERIT;
const CI = AceFlags.CONTAINER_INHERIT;
const NP = AceFlags.NO_PROPAGATE_INHERIT;
const IO = AceFlags.INHERIT_ONLY;

function creatorAcl(flags: number): SecurityDescriptor['dacl'] {
  return { revision: 2, aces: [
    { type: AceType.ACCESS_ALLOWED, flags, mask: W, sid: WellKnownSid.CREATOR_OWNER },
    { type: AceType.ACCESS_ALLOWED, flags: 0, mask: FILE_ALL_ACCESS, sid: WellKnownSid.EVERYONE },
  ] };
}

function inheritedFlags(flags: number, isContainer: boolean): [string, number][] | undefined {
  const r = inheritAcl(creatorAcl(flags), 0, isContainer, alice.user, alice.primaryGroup);
  return r?.acl.aces.map((a) => [sidToString(a.sid!), a.flags]);
}

test('inheritance: files take OBJECT_INHERIT ACEs as effective ones, CREATOR OWNER as the owner', () => {
  const me = sidToString(alice.user);
  for (const f of [OI, OI | IO, OI | NP, OI | CI]) assert.deepEqual(inheritedFlags(f, false), [[me, 0]], `parent flags ${f}`);
  for (const f of [0, CI, NP, IO, CI | NP]) assert.equal(inheritedFlags(f, false), undefined, `parent flags ${f}`);
});

test('inheritance: directories split CREATOR OWNER ACEs, keep OI-only ones inherit-only, stop at NO_PROPAGATE', () => {
  const me = sidToString(alice.user);
  const co = 'S-1-3-0';
  assert.deepEqual(inheritedFlags(OI, true), [[co, OI | IO]]);
  assert.deepEqual(inheritedFlags(CI, true), [[me, 0], [co, CI | IO]]);
  assert.deepEqual(inheritedFlags(CI | OI | IO, true), [[me, 0], [co, CI | OI | IO]]);
  assert.deepEqual(inheritedFlags(CI | NP, true), [[me, 0]]);
  assert.equal(inheritedFlags(OI | NP, true), undefined);
  assert.equal(inheritedFlags(IO, true), undefined);
  // Nothing to expand: one ACE, effective and passed on.
  const plain = inheritAcl({ revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: CI | OI, mask: R, sid: bob.user }] }, 0, true, alice.user, alice.primaryGroup)!;
  assert.deepEqual(plain.acl.aces.map((a) => a.flags), [CI | OI]);
  // GENERIC_* bits are expanded on the effective ACE only.
  const gen = inheritAcl({ revision: 2, aces: [{ type: AceType.ACCESS_ALLOWED, flags: CI, mask: Access.GENERIC_READ, sid: bob.user }] }, 0, true, alice.user, alice.primaryGroup)!;
  assert.deepEqual(gen.acl.aces.map((a) => [a.mask, a.flags]), [[0x00120089, 0], [Access.GENERIC_READ, CI | IO]]);
});

test('inheritance: INHERITED and AUTO_INHERITED only below an AUTO_INHERITED parent DACL', () => {
  const plain = inheritAcl(creatorAcl(OI), 0, false, alice.user, alice.primaryGroup)!;
  assert.equal(plain.control, 0);
  assert.equal(plain.acl.aces[0]!.flags, 0);
  const auto = inheritAcl(creatorAcl(OI), SdControl.DACL_AUTO_INHERITED, false, alice.user, alice.primaryGroup)!;
  assert.equal(auto.control, SdControl.DACL_AUTO_INHERITED);
  assert.equal(auto.acl.aces[0]!.flags, AceFlags.INHERITED);
});

test('SET_INFO keeps AUTO_INHERITED only with AUTO_INHERIT_REQ, and never the REQ bit', () => {
  const dacl = { revision: 2, aces: [] };
  const set = (control: number) => applySecurityInfo(null, { control, dacl }, SecInfo.DACL).sd.control;
  assert.equal(set(SdControl.DACL_AUTO_INHERITED), 0);
  assert.equal(set(SdControl.DACL_AUTO_INHERIT_REQ), 0);
  assert.equal(set(SdControl.DACL_AUTO_INHERITED | SdControl.DACL_AUTO_INHERIT_REQ), SdControl.DACL_AUTO_INHERITED);
  assert.equal(set(SdControl.DACL_PROTECTED), SdControl.DACL_PROTECTED);
});

import { applyCreateSd } from '../../src/handlers/security-descriptor.js';

test('applyCreateSd: SecD parts with the creator as owner; otherwise the parent\'s inheritable DACL; else nothing', async () => {
  const backend = new MemoryBackend();
  await backend.mkdir('d');
  const plain = await backend.createFile('d/plain.txt', { read: true, write: true }, 0);
  await applyCreateSd(backend, 'd/plain.txt', plain, undefined, alice, false);
  assert.equal(readStoredSd(plain.extras!()), null, 'no SecD, parent without a stored DACL: the default answers');
  const withSd = await backend.createFile('d/sd.txt', { read: true, write: true }, 0);
  await applyCreateSd(backend, 'd/sd.txt', withSd, { control: 0, dacl: null }, alice, false);
  const rec = readStoredSd(withSd.extras!())!;
  assert.equal(rec.parts, SecInfo.OWNER | SecInfo.GROUP | SecInfo.DACL);
  assert.equal(sidToString(rec.sd.owner!), sidToString(alice.user));
  assert.equal(rec.sd.dacl, null);
  const dir = await backend.open('d', { read: true, write: false });
  dir.extras!().set('ntacl', '', encodeStoredSd({ parts: SecInfo.DACL, sd: { control: 0, dacl: creatorAcl(OI) } }));
  const child = await backend.createFile('d/child.txt', { read: true, write: true }, 0);
  await applyCreateSd(backend, 'd/child.txt', child, undefined, bob, false);
  const inh = readStoredSd(child.extras!())!;
  assert.deepEqual(inh.sd.dacl!.aces.map((a) => [sidToString(a.sid!), a.mask, a.flags]), [[sidToString(bob.user), W, 0]]);
  assert.equal(sidToString(inh.sd.owner!), sidToString(bob.user));
});
