// Two independent client implementations on one smb3d, opening the same files: impacket (a
// long-running python process, test/harness/impacket_driver.py) and smb3d's own client. Each must
// see the other's share modes, byte-range locks and oplock breaks; and a client killed in the
// middle of an operation must leave nothing behind once its durable timeout has passed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, SmbError, type SmbClient, type SmbFile } from '../../src/client/index.js';
import { Access, CreateDisposition, LockFlags, OplockLevel, ShareAccess } from '../../src/protocol/constants.js';
import { LeaseState } from '../../src/locking/leases.js';
import { startSmb3d, type Smb3dHandle } from '../harness/server.js';
import { skipUnless } from '../harness/peers.js';
import { ImpacketDriver } from '../harness/impacket-driver.js';

const RW = (Access.GENERIC_READ | Access.GENERIC_WRITE) >>> 0;
const SHARE_ALL = ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE;
const EXCLUSIVE_NOW = LockFlags.EXCLUSIVE | LockFlags.FAIL_IMMEDIATELY;
const LEASE_RH = LeaseState.READ | LeaseState.HANDLE;
const LEASE_RWH = LEASE_RH | LeaseState.WRITE;
const DURABLE_MS = 5_000;

const hex = (n: number): string => randomBytes(n).toString('hex');

/** Rejects with this NT status (SmbError from our client). */
async function rejectsWith(p: Promise<unknown>, status: string, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SmbError, `${what}: ${String(e)}`);
    assert.equal(e.statusName, status, what);
    return true;
  });
}

/** `p`, and a way to ask meanwhile whether it has settled. */
function track<T>(p: Promise<T>): { done: () => boolean; result: Promise<T> } {
  let settled = false;
  const result = p.finally(() => (settled = true));
  result.catch(() => undefined);
  return { done: () => settled, result };
}

async function until(what: string, deadlineMs: number, check: () => boolean | Promise<boolean>, everyMs = 50): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('impacket and smb3d’s client on the same files', { skip: skipUnless('impacket'), timeout: 60_000 }, () => {
  let srv: Smb3dHandle;
  let ours: SmbClient;
  const drivers: ImpacketDriver[] = [];

  /** impacket's local port for each driver: smb3d's log names connections by it. */
  const localPort = new Map<ImpacketDriver, number>();

  /** A connected impacket client; `clientGuid` pins its ClientGuid (a durable reconnect needs the same). */
  async function impacket(clientGuid?: string): Promise<ImpacketDriver> {
    const d = ImpacketDriver.start();
    drivers.push(d);
    const c = await d.do('connect', { port: srv.port, user: srv.user, password: srv.password, share: 'share', dialect: 'SMB2_DIALECT_30', client_guid: clientGuid });
    localPort.set(d, Number(c.local_port));
    return d;
  }

  /** Whether smb3d has logged (debug level) the end of this driver's connection. */
  const serverSawClose = (d: ImpacketDriver): boolean =>
    srv.logs().split('\n').some((l) => l.includes('"connection closed"') && l.includes(`:${localPort.get(d)}"`));

  before(async () => {
    srv = await startSmb3d({ logLevel: 'debug' });
    ours = await connect({ host: '127.0.0.1', port: srv.port, share: 'share', user: srv.user, password: srv.password });
  });

  after(async () => {
    await Promise.all(drivers.map((d) => d.stop()));
    await ours?.close();
    const exited = srv?.exited();
    await srv?.stop();
    assert.equal(exited, undefined, 'smb3d exited during the tests');
  });

  it('share modes: each refuses what the other does not share', async () => {
    await ours.tree.writeFile('share.bin', Buffer.from('shared'));
    const py = await impacket();
    const held = await py.do('create', { name: 'share.bin', access: Access.GENERIC_READ, share: 0, disposition: CreateDisposition.OPEN });
    await rejectsWith(ours.tree.open('share.bin', { access: Access.GENERIC_READ }), 'STATUS_SHARING_VIOLATION', 'our open beside impacket’s share-none open');
    await py.do('close', { fid: held.fid });
    const f = await ours.tree.open('share.bin', { access: Access.GENERIC_READ, shareAccess: 0 });
    const refused = await py.send('create', { name: 'share.bin', access: Access.GENERIC_READ, share: SHARE_ALL, disposition: CreateDisposition.OPEN });
    assert.equal(refused.status, 'STATUS_SHARING_VIOLATION', 'impacket’s open beside our share-none open');
    await f.close();
    const again = await py.do('create', { name: 'share.bin', access: Access.GENERIC_READ, share: 0, disposition: CreateDisposition.OPEN });
    await py.do('close', { fid: again.fid });
    await py.stop();
  });

  it('byte-range locks: impacket’s exclusive lock binds our IO and locks, and ours binds impacket', async () => {
    await ours.tree.writeFile('lock.bin', Buffer.alloc(4096, 1));
    const py = await impacket();
    const theirs = await py.do('create', { name: 'lock.bin', access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN });
    await py.do('lock', { fid: theirs.fid, offset: 0, length: 100, flags: LockFlags.EXCLUSIVE });
    const f = await ours.tree.open('lock.bin', { access: RW });
    try {
      await rejectsWith(f.write(10, Buffer.from('x')), 'STATUS_FILE_LOCK_CONFLICT', 'write inside impacket’s range');
      await rejectsWith(f.read(90, 20), 'STATUS_FILE_LOCK_CONFLICT', 'read across impacket’s range');
      await rejectsWith(f.lock([{ offset: 50, length: 100, flags: EXCLUSIVE_NOW }]), 'STATUS_LOCK_NOT_GRANTED', 'lock overlapping impacket’s range');
      await f.lock([{ offset: 100, length: 100, flags: EXCLUSIVE_NOW }]);
      assert.equal(await f.write(100, Buffer.from('beside')), 6, 'write right after impacket’s range');
      const blocked = await py.send('lock', { fid: theirs.fid, offset: 150, length: 10, flags: EXCLUSIVE_NOW });
      assert.equal(blocked.status, 'STATUS_LOCK_NOT_GRANTED', 'impacket locking inside our range');
      await py.do('lock', { fid: theirs.fid, offset: 0, length: 100, flags: LockFlags.UNLOCK });
      assert.equal(await f.write(10, Buffer.from('x')), 1, 'write after impacket unlocked');
      await f.lock([{ offset: 0, length: 100, flags: EXCLUSIVE_NOW }]);
      await f.unlock(0, 100);
      await f.unlock(100, 100);
    } finally {
      await f.close();
    }
    await py.do('close', { fid: theirs.fid });
    await py.stop();
  });

  /**
   * Our open of `name` makes smb3d break impacket's caching. Returns the break impacket saw, once
   * it is clear that our open waits for the acknowledgement, and our open still under way.
   */
  async function openAgainstBreak(py: ImpacketDriver, name: string) {
    const breakSeen = py.do('wait_break', { timeout_ms: 20_000 });
    const open = track(ours.tree.open(name, { access: Access.GENERIC_READ }));
    const brk = await breakSeen;
    // The server holds our CREATE while the break is outstanding; give it time to (wrongly) go on.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(open.done(), false, 'our open completed before impacket acknowledged the break');
    return { brk, open: open.result };
  }

  it('oplock break: our open breaks impacket’s batch oplock and completes only after impacket acknowledges', async () => {
    await ours.tree.writeFile('batch.bin', Buffer.from('cached'));
    const py = await impacket();
    const theirs = await py.do('create', { name: 'batch.bin', access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN, oplock: OplockLevel.BATCH });
    assert.equal(theirs.oplock, OplockLevel.BATCH, 'impacket was granted a batch oplock');
    const { brk, open } = await openAgainstBreak(py, 'batch.bin');
    assert.equal(brk.kind, 'oplock');
    assert.equal(brk.fid, theirs.fid, 'the break names impacket’s open');
    assert.equal(brk.level, OplockLevel.II, 'a reader breaks batch to level II');
    const ack = await py.do('ack_break', { fid: theirs.fid, level: OplockLevel.II });
    assert.equal(ack.level, OplockLevel.II);
    await (await open).close();
    await py.do('close', { fid: theirs.fid });
    await py.stop();
  });

  it('lease break: our open takes W from impacket’s RWH lease once impacket acknowledges', async () => {
    await ours.tree.writeFile('lease.bin', Buffer.from('cached'));
    const py = await impacket();
    const key = hex(16);
    const theirs = await py.do('create', { name: 'lease.bin', access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN, oplock: OplockLevel.LEASE, lease_key: key, lease_state: LEASE_RWH });
    assert.equal(theirs.lease_state, LEASE_RWH, 'impacket was granted an RWH lease');
    const { brk, open } = await openAgainstBreak(py, 'lease.bin');
    assert.equal(brk.kind, 'lease');
    assert.equal(brk.lease_key, key, 'the break names impacket’s lease');
    assert.deepEqual([brk.current, brk.new], [LEASE_RWH, LEASE_RH], 'a reader takes W only');
    assert.ok(Number(brk.flags) & 0x1, 'SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED');
    const ack = await py.do('ack_lease_break', { lease_key: key, state: LEASE_RH });
    assert.equal(ack.state, LEASE_RH);
    await (await open).close();
    await py.do('close', { fid: theirs.fid });
    await py.stop();
  });

  describe('a client killed mid-operation', () => {
    const name = 'durable.bin';
    const clientGuid = hex(16);
    const leaseKey = hex(16);

    /**
     * impacket opens `name` durably (v2, RH lease) and locks bytes 0-99; then we open it too. Ours
     * comes second, as a plain open beside a lease takes H away from it (Samba does the same), and
     * before the kill: opening after it would close the disconnected open (its client cannot
     * answer a break), so our open's IO and locks are what show that the open is kept.
     */
    async function holdDurably(createGuid: string) {
      const py = await impacket(clientGuid);
      const held = await py.do('create', {
        name,
        access: RW,
        share: SHARE_ALL,
        disposition: CreateDisposition.OPEN,
        oplock: OplockLevel.LEASE,
        lease_key: leaseKey,
        lease_state: LEASE_RH,
        durable_ms: DURABLE_MS,
        create_guid: createGuid,
      });
      assert.equal(held.lease_state, LEASE_RH, 'an RH lease (handle caching makes the open durable)');
      assert.equal(held.durable_timeout, DURABLE_MS, 'DH2Q granted with the requested timeout');
      const f = await ours.tree.open(name, { access: RW });
      await py.do('lock', { fid: held.fid, offset: 0, length: 100, flags: EXCLUSIVE_NOW });
      return { py, fid: held.fid as string, f };
    }

    /** SIGKILLs impacket; returns when, once smb3d has seen its connection go. */
    async function killAndWaitForServer(py: ImpacketDriver): Promise<number> {
      assert.equal(serverSawClose(py), false);
      const t0 = Date.now();
      await py.kill();
      await until('smb3d noticing the killed connection', 10_000, () => serverSawClose(py));
      return t0;
    }

    const conflicts = async (f: SmbFile, what: string) => {
      await rejectsWith(f.write(0, Buffer.from('x')), 'STATUS_FILE_LOCK_CONFLICT', `${what}: write`);
      await rejectsWith(f.lock([{ offset: 0, length: 100, flags: EXCLUSIVE_NOW }]), 'STATUS_LOCK_NOT_GRANTED', `${what}: lock`);
    };

    before(async () => {
      await ours.tree.writeFile(name, Buffer.alloc(4096, 2));
    });

    it('without a durable handle, its open and lock go with its connection', async () => {
      const py = await impacket();
      const held = await py.do('create', { name, access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN });
      const f = await ours.tree.open(name, { access: RW });
      await py.do('lock', { fid: held.fid, offset: 0, length: 100, flags: EXCLUSIVE_NOW });
      await conflicts(f, 'while impacket lives');
      await killAndWaitForServer(py);
      await until('the lock of a killed client without durability to go', 2_000, () =>
        f.lock([{ offset: 0, length: 100, flags: EXCLUSIVE_NOW }]).then(
          () => true,
          () => false,
        ),
      );
      await f.unlock(0, 100);
      await f.close();
    });

    it('its durable open and lock stay for a reconnect, which takes them back', async () => {
      const createGuid = hex(16);
      const { py, fid, f } = await holdDurably(createGuid);
      await killAndWaitForServer(py);
      await conflicts(f, 'after the kill');
      const back = await impacket(clientGuid);
      const again = await back.do('create', { name, access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN, oplock: OplockLevel.LEASE, lease_key: leaseKey, lease_state: LEASE_RH, create_guid: createGuid, reconnect_fid: fid });
      assert.equal(again.fid, fid, 'the reconnect got the same open');
      await conflicts(f, 'after the reconnect');
      await back.do('close', { fid });
      assert.equal(await f.write(0, Buffer.from('x')), 1, 'write once the reconnected open closed');
      await f.close();
      await back.stop();
    });

    it('a conflicting open does not wait for the timeout: it closes the disconnected open in its way', async () => {
      // As in Samba and smbtorture's durable-open.open-oplock: the disconnected client cannot
      // answer the break that a sharing conflict needs, so its open goes and the new one proceeds.
      const py = await impacket(clientGuid);
      const createGuid = hex(16);
      const held = await py.do('create', { name, access: RW, share: 0, disposition: CreateDisposition.OPEN, oplock: OplockLevel.LEASE, lease_key: leaseKey, lease_state: LEASE_RH, durable_ms: DURABLE_MS, create_guid: createGuid });
      assert.equal(held.durable_timeout, DURABLE_MS, 'DH2Q granted');
      await py.do('lock', { fid: held.fid, offset: 0, length: 100, flags: EXCLUSIVE_NOW });
      // (Opening it now would wait for impacket to give H up: smb3d breaks H on a sharing conflict.)
      const t0 = await killAndWaitForServer(py);
      const f = await ours.tree.open(name, { access: RW, shareAccess: 0 });
      assert.ok(Date.now() - t0 < DURABLE_MS - 500, 'the open went ahead before the durable timeout');
      await f.lock([{ offset: 0, length: 100, flags: EXCLUSIVE_NOW }]);
      await f.close();
      const late = await impacket(clientGuid);
      const r = await late.send('create', { name, access: RW, share: 0, disposition: CreateDisposition.OPEN, oplock: OplockLevel.LEASE, lease_key: leaseKey, lease_state: LEASE_RH, create_guid: createGuid, reconnect_fid: held.fid });
      assert.equal(r.status, 'STATUS_OBJECT_NAME_NOT_FOUND', 'a reconnect of the open that was closed');
      await late.stop();
    });

    it('a blocking lock in flight is dropped at once; the open and its lock go after the durable timeout', async (t) => {
      const createGuid = hex(16);
      const { py, fid, f } = await holdDurably(createGuid);
      // Mid-operation: impacket waits in a blocking LOCK of a range we hold when it is killed.
      await f.lock([{ offset: 200, length: 100, flags: EXCLUSIVE_NOW }]);
      await py.do('lock_pending', { fid, offset: 200, length: 100, flags: LockFlags.EXCLUSIVE });
      const t0 = await killAndWaitForServer(py);

      // A lock request of a dead connection must not be granted when the range frees.
      await f.unlock(200, 100);
      await f.lock([{ offset: 200, length: 100, flags: EXCLUSIVE_NOW }]).catch((e: unknown) => {
        assert.fail(`the killed client's pending lock took the range we released: ${String(e)}`);
      });
      await f.unlock(200, 100);

      // The durable open is kept for its reconnect, with its lock; then it times out.
      await conflicts(f, 'right after the kill');
      let goneAfter = -1;
      await until('impacket’s lock to go', DURABLE_MS + 5_000, async () => {
        try {
          await f.lock([{ offset: 0, length: 100, flags: EXCLUSIVE_NOW }]);
        } catch (e) {
          if (e instanceof SmbError && e.statusName === 'STATUS_LOCK_NOT_GRANTED') return false;
          throw e;
        }
        goneAfter = Date.now() - t0;
        return true;
      }, 100);
      t.diagnostic(`lock gone ${goneAfter} ms after the kill (durable timeout ${DURABLE_MS} ms)`);
      assert.ok(goneAfter >= DURABLE_MS - 500, `gone after ${goneAfter} ms, before the durable timeout`);
      assert.ok(goneAfter <= DURABLE_MS + 2_000, `gone only after ${goneAfter} ms`);
      assert.equal(await f.write(0, Buffer.from('x')), 1, 'write under our own lock');
      await f.unlock(0, 100);

      // And the open is gone, not merely its lock: a reconnect finds nothing.
      const late = await impacket(clientGuid);
      const r = await late.send('create', { name, access: RW, share: SHARE_ALL, disposition: CreateDisposition.OPEN, oplock: OplockLevel.LEASE, lease_key: leaseKey, lease_state: LEASE_RH, create_guid: createGuid, reconnect_fid: fid });
      assert.equal(r.status, 'STATUS_OBJECT_NAME_NOT_FOUND', 'a reconnect after the durable timeout');
      await f.close();
      await late.stop();
    });
  });
});
