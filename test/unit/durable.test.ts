import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DurableTable, durableV2Timeout, DURABLE_V2_DEFAULT_TIMEOUT_MS } from '../../src/server/durable.js';

interface Entry { persistentId: bigint; durableTimeoutMs: number; disconnected: boolean }
const entry = (id: bigint, ms: number): Entry => ({ persistentId: id, durableTimeoutMs: ms, disconnected: false });

test('durable v2 timeout: capped at 300 s, 0 means 60 s', () => {
  assert.equal(durableV2Timeout(0), DURABLE_V2_DEFAULT_TIMEOUT_MS);
  assert.equal(durableV2Timeout(10_000), 10_000);
  assert.equal(durableV2Timeout(3_600_000), 300_000);
});

test('a disconnected open expires after its timeout unless reattached', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const t = new DurableTable<Entry>();
    const a = entry(1n, 1000);
    const b = entry(2n, 1000);
    t.add(a);
    t.add(b);
    const expired: bigint[] = [];
    t.disconnect(a, (o) => { expired.push(o.persistentId); t.remove(o); });
    t.disconnect(b, (o) => { expired.push(o.persistentId); t.remove(o); });
    assert.equal(a.disconnected, true);
    mock.timers.tick(500);
    t.reattach(b);
    assert.equal(b.disconnected, false);
    mock.timers.tick(600);
    assert.deepEqual(expired, [1n]);
    assert.equal(t.get(1n), undefined);
    assert.equal(t.get(2n), b);
  } finally {
    mock.timers.reset();
  }
});

test('CreateGuid replay: pending creates are awaited, finished ones found, per client', async () => {
  const t = new DurableTable<Entry>();
  const guid = Buffer.alloc(16, 9);
  assert.deepEqual(t.lookupCreate('c1', guid), {});
  const settle = t.reserve('c1', guid);
  const pending = t.lookupCreate('c1', guid).pending;
  assert.ok(pending);
  assert.deepEqual(t.lookupCreate('c2', guid), {}, 'other clients do not see it');
  const e = entry(5n, 1000);
  settle(e);
  assert.equal(await pending, e);
  assert.equal(t.lookupCreate('c1', guid).open, e);
  t.add(e);
  t.remove(e);
  assert.deepEqual(t.lookupCreate('c1', guid), {});
});
