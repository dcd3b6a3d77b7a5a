import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelayedWriteTime, reportedStat, WRITE_TIME_DELAY_MS, type WriteTimeClock, type WriteTimeFile } from '../../src/server/write-time.js';

/** A clock that moves only when told to, with the timers it was given. */
class FakeClock implements WriteTimeClock {
  t = 1000n;
  private timers: { at: bigint; fn: () => void }[] = [];
  now(): bigint {
    return this.t;
  }
  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + BigInt(ms) * 10_000n, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  async advance(ms: number): Promise<void> {
    this.t += BigInt(ms) * 10_000n;
    for (const timer of this.timers.filter((x) => x.at <= this.t)) {
      this.timers = this.timers.filter((x) => x !== timer);
      timer.fn();
    }
    await new Promise((r) => setImmediate(r));
  }
  get pending(): number {
    return this.timers.length;
  }
}

/** One file with its file-system write time, and the clients' view of it. */
function setup() {
  const clock = new FakeClock();
  const disk = { mtime: 500n };
  const file: WriteTimeFile = {};
  const open = (): DelayedWriteTime =>
    new DelayedWriteTime(file, async (t) => {
      disk.mtime = t;
    }, clock);
  // A write through a handle: the write time clients saw before it, then the file system moves.
  const write = (h: DelayedWriteTime): void => {
    h.beforeWrite(seen());
    disk.mtime = clock.now();
  };
  const seen = (): bigint => reportedStat(file, { lastWriteTime: disk.mtime }).lastWriteTime;
  return { clock, disk, file, open, write, seen };
}

test('delayed write time: the first write shows after 2 s, once per handle; the close sets it again', async () => {
  const { clock, open, write, seen } = setup();
  const h = open();
  await clock.advance(1000);
  write(h);
  assert.equal(seen(), 500n, 'a write does not change the write time at once');
  await clock.advance(WRITE_TIME_DELAY_MS - 1);
  assert.equal(seen(), 500n);
  await clock.advance(1);
  const updated = seen();
  assert.equal(updated, clock.now(), 'updated 2 s after the first write');
  await clock.advance(1000);
  write(h);
  await clock.advance(3000);
  assert.equal(seen(), updated, 'a second write through the handle schedules nothing');
  assert.equal(clock.pending, 0);
  await clock.advance(2000);
  await h.close();
  assert.equal(seen(), clock.now(), 'the close sets the write time of the later write');
});

test('delayed write time: after the timed update and no more writes the close changes nothing', async () => {
  const { clock, open, write, seen } = setup();
  const h = open();
  write(h);
  await clock.advance(3000);
  const updated = seen();
  await clock.advance(1000);
  await h.close();
  assert.equal(seen(), updated);
});

test('delayed write time: a flush or a basic-information set does the pending update at once', async () => {
  for (const how of ['settle', 'touch'] as const) {
    const { clock, open, write, seen } = setup();
    const h = open();
    await clock.advance(1000);
    write(h);
    await clock.advance(10);
    await h[how]();
    const flushed = seen();
    assert.equal(flushed, clock.now(), how);
    assert.equal(clock.pending, 0, `${how}: the timer is gone`);
    await clock.advance(5000);
    await h.close();
    assert.equal(seen(), flushed, `${how}: the close has nothing left to update`);
  }
});

test('delayed write time: settle without a write changes nothing; touch (end of file) always does', async () => {
  const { clock, open, seen } = setup();
  const h = open();
  await clock.advance(1000);
  await h.settle();
  assert.equal(seen(), 500n);
  await h.touch();
  assert.equal(seen(), clock.now());
});

test('delayed write time: an explicit write time sticks through later writes and is put back at close', async () => {
  const { clock, disk, open, write, seen } = setup();
  const h = open();
  write(h);
  await h.settle();
  disk.mtime = 42n; // what FileBasicInformation set through the handle
  h.force(42n);
  await clock.advance(100);
  write(h);
  await clock.advance(5000);
  assert.equal(seen(), 42n, 'writes after an explicit set do not move the write time');
  await h.touch();
  assert.equal(seen(), 42n, 'nor does the end of file');
  await h.close();
  assert.equal(disk.mtime, 42n, 'the close puts the set time back on the file');
  assert.equal(seen(), 42n);
});

test('delayed write time: another handle sees the pinned time; its own close does not settle it', async () => {
  const { clock, open, write, seen } = setup();
  const writer = open();
  const reader = open();
  write(writer);
  await reader.close();
  assert.equal(seen(), 500n);
  await clock.advance(WRITE_TIME_DELAY_MS);
  assert.equal(seen(), clock.now());
});
