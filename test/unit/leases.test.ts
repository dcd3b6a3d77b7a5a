import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lease, LeaseState, LeaseTable, filterLeaseRequest, parseLeaseContext, encodeLeaseContext, leaseToOplock, oplockToLease } from '../../src/locking/leases.js';
import { evaluateOpen, breakLevelIIOthers, breakHandleLeasesForRename, breakHandleLeasesForDelete, finishBreak, type BreakSender, type OplockHolder } from '../../src/locking/oplocks.js';
import { FileObject } from '../../src/locking/share-modes.js';
import { OplockLevel, Access } from '../../src/protocol/constants.js';
import { NtStatusError, Status } from '../../src/protocol/status.js';

const { READ: R, HANDLE: H, WRITE: W } = LeaseState;
const key = (n: number): Buffer => Buffer.alloc(16, n);

function holder(o: Partial<OplockHolder> = {}): OplockHolder {
  return { oplockLevel: 0, closed: false, shareAccess: 7, grantedAccess: Access.FILE_READ_DATA | Access.FILE_WRITE_DATA, ...o };
}

function recorder(): { send: BreakSender<OplockHolder>; oplocks: number[]; leases: { from: number; to: number; ack: boolean }[] } {
  const oplocks: number[] = [];
  const leases: { from: number; to: number; ack: boolean }[] = [];
  const send = Object.assign((_h: OplockHolder, to: number) => void oplocks.push(to), {
    lease: (_l: Lease<OplockHolder>, n: { from: number; to: number; ackRequired: boolean }) => void leases.push({ from: n.from, to: n.to, ack: n.ackRequired }),
  });
  return { send, oplocks, leases };
}

test('oplock levels map to lease states and back', () => {
  assert.equal(oplockToLease(OplockLevel.BATCH), R | W | H);
  assert.equal(oplockToLease(OplockLevel.EXCLUSIVE), R | W);
  assert.equal(oplockToLease(OplockLevel.II), R);
  assert.equal(leaseToOplock(R | H), OplockLevel.II);
  assert.equal(leaseToOplock(0), OplockLevel.NONE);
});

test('lease requests without R or with W alone/WH are refused', () => {
  assert.equal(filterLeaseRequest(W), 0);
  assert.equal(filterLeaseRequest(W | H), 0);
  assert.equal(filterLeaseRequest(H), 0);
  assert.equal(filterLeaseRequest(R | H), R | H);
  assert.equal(filterLeaseRequest(R | W | H), R | W | H);
});

test('lease context v1 and v2 round trip; other sizes are INVALID_PARAMETER', () => {
  const v2 = Buffer.alloc(52);
  key(1).copy(v2, 0);
  v2.writeUInt32LE(R | H, 16);
  v2.writeUInt32LE(4, 20);
  key(2).copy(v2, 32);
  v2.writeUInt16LE(7, 48);
  const req = parseLeaseContext(v2);
  assert.equal(req.version, 2);
  assert.deepEqual(req.parentKey, key(2));
  assert.equal(req.epoch, 7);
  const lease = new Lease('g', req.key, 'f', 2, req.parentKey, 8);
  lease.state = R;
  const out = encodeLeaseContext(lease);
  assert.equal(out.length, 52);
  assert.equal(out.readUInt32LE(16), R);
  assert.equal(out.readUInt32LE(20), 4);
  assert.equal(out.readUInt16LE(48), 8);
  assert.equal(parseLeaseContext(Buffer.alloc(32)).version, 1);
  assert.throws(() => parseLeaseContext(Buffer.alloc(40)), (e: unknown) => e instanceof NtStatusError && e.status === Status.INVALID_PARAMETER);
});

test('a break to a lower state waits for an ack; a second break narrows the target and follows up stepwise', () => {
  const lease = new Lease('g', key(1), 'f', 2, undefined, 1);
  lease.state = R | W | H;
  const n = lease.requestBreak(R | H);
  assert.deepEqual(n, { from: R | W | H, to: R | H, ackRequired: true, epoch: 2 });
  assert.equal(lease.requestBreak(0), undefined, 'no second notification while breaking');
  assert.equal(lease.breakingToRequired, 0);
  assert.throws(() => lease.acknowledge(R | W | H), (e: unknown) => e instanceof NtStatusError && e.status === Status.REQUEST_NOT_ACCEPTED);
  const follow = lease.acknowledge(R | H);
  assert.deepEqual(follow, { from: R | H, to: R, ackRequired: true, epoch: 2 });
  assert.equal(lease.breaking, true);
  // Still above the required NONE: R is dropped at once, without another ack.
  assert.deepEqual(lease.acknowledge(R), { from: R, to: 0, ackRequired: false, epoch: 2 });
  assert.equal(lease.state, 0);
  assert.equal(lease.breaking, false);
});

test('breaking R needs no ack and ack without a break is UNSUCCESSFUL', () => {
  const lease = new Lease('g', key(1), 'f', 1, undefined, 0);
  lease.state = R;
  assert.deepEqual(lease.requestBreak(0), { from: R, to: 0, ackRequired: false, epoch: 1 });
  assert.equal(lease.state, 0);
  assert.throws(() => lease.acknowledge(0), (e: unknown) => e instanceof NtStatusError && e.status === Status.UNSUCCESSFUL);
});

test('a timed out break drops all caching and wakes waiters', async () => {
  const lease = new Lease('g', key(1), 'f', 1, undefined, 0);
  lease.state = R | H;
  lease.requestBreak(R);
  const settled = lease.whenSettled();
  lease.timeout();
  await settled;
  assert.equal(lease.state, 0);
});

test('upgrade only to a strict superset and not while breaking', () => {
  const lease = new Lease('g', key(1), 'f', 2, undefined, 1);
  lease.state = R;
  lease.tryUpgrade(R | H, R | H);
  assert.equal(lease.state, R | H);
  assert.equal(lease.epoch, 2);
  lease.tryUpgrade(R, R);
  assert.equal(lease.state, R | H, 'no downgrade by request');
});

test('lease table drops a lease with its last open', () => {
  const t = new LeaseTable<object>();
  const l = new Lease<object>('g', key(3), 'f', 1, undefined, 0);
  const a = {};
  const b = {};
  l.opens.add(a).add(b);
  t.add(l);
  t.release(l, a);
  assert.equal(t.get('g', key(3)), l);
  t.release(l, b);
  assert.equal(t.get('g', key(3)), undefined);
});

test('a batch holder is broken to level II and the new open waits; exclusive with sharing violation is not broken', async () => {
  const file = new FileObject<OplockHolder>('1', 'a');
  const batch = holder({ oplockLevel: OplockLevel.BATCH });
  file.opens.add(batch);
  const r = recorder();
  const d = evaluateOpen(file, { access: Access.FILE_READ_DATA, oplock: OplockLevel.BATCH, willOverwrite: false, sharingViolation: false, firstAttempt: true }, r.send, false);
  assert.deepEqual(r.oplocks, [OplockLevel.II]);
  assert.equal(d.waitFor.length, 1);
  finishBreak(batch, OplockLevel.II);
  await Promise.all(d.waitFor);
  const again = evaluateOpen(file, { access: Access.FILE_READ_DATA, oplock: OplockLevel.BATCH, willOverwrite: false, sharingViolation: false, firstAttempt: false }, r.send, false);
  assert.equal(again.waitFor.length, 0);
  assert.equal(leaseToOplock(again.granted), OplockLevel.II, 'another open exists: level II only');

  const file2 = new FileObject<OplockHolder>('2', 'b');
  file2.opens.add(holder({ oplockLevel: OplockLevel.EXCLUSIVE }));
  const r2 = recorder();
  const d2 = evaluateOpen(file2, { access: Access.FILE_READ_DATA, oplock: OplockLevel.NONE, willOverwrite: false, sharingViolation: true, firstAttempt: true }, r2.send, false);
  assert.equal(d2.waitFor.length, 0);
  assert.deepEqual(r2.oplocks, []);
});

test('stat opens break nothing; a lease holder with RWH breaks to RH for a second lease', () => {
  const file = new FileObject<OplockHolder>('1', 'a');
  const l1 = new Lease<OplockHolder>('g', key(1), '1', 1, undefined, 0);
  l1.state = R | W | H;
  const o1 = holder({ oplockLevel: OplockLevel.LEASE, lease: l1 });
  l1.opens.add(o1);
  file.opens.add(o1);
  const r = recorder();
  evaluateOpen(file, { access: Access.FILE_READ_ATTRIBUTES, oplock: OplockLevel.NONE, willOverwrite: false, sharingViolation: false, firstAttempt: true }, r.send, false);
  assert.deepEqual(r.leases, []);
  const d = evaluateOpen(file, { access: Access.FILE_READ_DATA, oplock: OplockLevel.LEASE, lease: { clientGuid: 'g', key: key(2), state: R | W | H }, willOverwrite: false, sharingViolation: false, firstAttempt: true }, r.send, false);
  assert.deepEqual(r.leases, [{ from: R | W | H, to: R | H, ack: true }]);
  assert.equal(d.waitFor.length, 1);
  // The same key never breaks itself.
  const r2 = recorder();
  evaluateOpen(file, { access: Access.FILE_READ_DATA, oplock: OplockLevel.LEASE, lease: { clientGuid: 'g', key: key(1), state: R | W | H }, willOverwrite: false, sharingViolation: false, firstAttempt: true }, r2.send, false);
  assert.deepEqual(r2.leases, []);
});

test('a write breaks other R caching to none but not the writer’s own lease', () => {
  const file = new FileObject<OplockHolder>('1', 'a');
  const l1 = new Lease<OplockHolder>('g', key(1), '1', 1, undefined, 0);
  l1.state = R;
  const a = holder({ oplockLevel: OplockLevel.LEASE, lease: l1 });
  const b = holder({ oplockLevel: OplockLevel.LEASE, lease: l1 });
  const c = holder({ oplockLevel: OplockLevel.II });
  const d = holder({ oplockLevel: OplockLevel.II });
  file.opens.add(a).add(b).add(c);
  const r = recorder();
  breakLevelIIOthers(file, a, r.send);
  assert.deepEqual(r.leases, []);
  assert.deepEqual(r.oplocks, [OplockLevel.NONE]);
  assert.equal(c.oplockLevel, OplockLevel.NONE);
  // A Level II writer loses its own oplock too.
  file.opens.add(d);
  breakLevelIIOthers(file, d, r.send);
  assert.equal(d.oplockLevel, OplockLevel.NONE);
  // A batch writer keeps its oplock.
  const e = holder({ oplockLevel: OplockLevel.BATCH });
  const f2 = new FileObject<OplockHolder>('2', 'b');
  f2.opens.add(e);
  breakLevelIIOthers(f2, e, r.send);
  assert.equal(e.oplockLevel, OplockLevel.BATCH);
});

test('a rename through a leased open breaks H of other leases and waits; its own lease, R leases and oplocks stay', async () => {
  const file = new FileObject<OplockHolder>('1', 'a');
  const mine = new Lease<OplockHolder>('g', key(1), '1', 2, undefined, 1);
  mine.state = R | W | H;
  const other = new Lease<OplockHolder>('g', key(2), '1', 2, undefined, 1);
  other.state = R | H;
  const readOnly = new Lease<OplockHolder>('g', key(3), '1', 2, undefined, 1);
  readOnly.state = R;
  const renamer = holder({ oplockLevel: OplockLevel.LEASE, lease: mine });
  const sibling = holder({ oplockLevel: OplockLevel.LEASE, lease: mine });
  const o2 = holder({ oplockLevel: OplockLevel.LEASE, lease: other });
  const o3 = holder({ oplockLevel: OplockLevel.LEASE, lease: readOnly });
  const batch = holder({ oplockLevel: OplockLevel.BATCH });
  for (const o of [renamer, sibling, o2, o3, batch]) file.opens.add(o);
  const r = recorder();
  const waits = breakHandleLeasesForRename(file, renamer, r.send);
  assert.deepEqual(r.leases, [{ from: R | H, to: R, ack: true }]);
  assert.deepEqual(r.oplocks, []);
  assert.equal(waits.length, 1);
  assert.equal(mine.state, R | W | H);
  assert.equal(batch.oplockLevel, OplockLevel.BATCH);
  // Still breaking: asking again sends nothing new but still waits.
  const again = breakHandleLeasesForRename(file, renamer, r.send);
  assert.equal(r.leases.length, 1);
  assert.equal(again.length, 1);
  other.acknowledge(R);
  await Promise.all([...waits, ...again]);
  assert.equal(other.state, R);
  assert.deepEqual(breakHandleLeasesForRename(file, renamer, r.send), [], 'nothing left to break');

  // A rename through an open without a lease breaks nothing (smbd).
  other.state = R | H;
  const plain = holder();
  file.opens.add(plain);
  assert.deepEqual(breakHandleLeasesForRename(file, plain, r.send), []);
  assert.equal(r.leases.length, 1);
});

test('a delete-on-close open breaks H of leases with other keys and waits; its own key and oplocks stay', async () => {
  const file = new FileObject<OplockHolder>('1', 'a');
  const other = new Lease<OplockHolder>('g', key(1), '1', 1, undefined, 0);
  other.state = R | H;
  const own = new Lease<OplockHolder>('h', key(2), '1', 1, undefined, 0);
  own.state = R | H;
  const o1 = holder({ oplockLevel: OplockLevel.LEASE, lease: other });
  const o2 = holder({ oplockLevel: OplockLevel.LEASE, lease: own });
  const batch = holder({ oplockLevel: OplockLevel.BATCH });
  file.opens.add(o1).add(o2).add(batch);
  const r = recorder();
  const waits = breakHandleLeasesForDelete(file, { clientGuid: 'h', key: key(2), state: R }, r.send);
  assert.deepEqual(r.leases, [{ from: R | H, to: R, ack: true }]);
  assert.deepEqual(r.oplocks, []);
  assert.equal(waits.length, 1);
  assert.equal(own.state, R | H);
  other.acknowledge(R);
  await Promise.all(waits);
  assert.deepEqual(breakHandleLeasesForDelete(file, undefined, r.send).length, 1, 'without a lease of its own, every H lease breaks');
  assert.deepEqual(r.leases.at(-1), { from: R | H, to: R, ack: true });
});
