import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelSequence } from '../../src/server/channel-sequence.js';
import { Status, NtStatusError } from '../../src/protocol/status.js';

const notAvailable = (err: unknown) => err instanceof NtStatusError && err.status === Status.FILE_NOT_AVAILABLE;

describe('channel sequence barrier ([MS-SMB2] 3.3.5.2.10)', () => {
  it('counts requests of the current sequence and moves to a newer one', () => {
    const s = new ChannelSequence(0);
    const a = s.admit(0, false, true)!;
    assert.equal(s.outstanding, 1);
    const b = s.admit(1, false, true)!;
    assert.equal(s.current, 1);
    assert.equal(s.outstanding, 1);
    assert.equal(s.outstandingPre, 1);
    s.release(a);
    assert.equal(s.outstandingPre, 0);
    s.release(b);
    assert.equal(s.outstanding, 0);
  });

  it('fails stale modifying requests and lets stale reads pass uncounted', () => {
    const s = new ChannelSequence(5);
    assert.throws(() => s.admit(4, false, true), notAvailable);
    assert.equal(s.admit(4, false, false), undefined);
    assert.equal(s.outstanding, 0);
  });

  it('takes 0x8000 ahead as stale and 0xFFFF -> 0 as a wrap forward', () => {
    const s = new ChannelSequence(0);
    assert.throws(() => s.admit(0x8000, false, true), notAvailable);
    const w = new ChannelSequence(0xffff);
    assert.ok(w.admit(0, false, true));
    assert.equal(w.current, 0);
  });

  it('refuses a replay while requests of an older sequence still run', () => {
    const s = new ChannelSequence(0);
    const old = s.admit(0, false, true)!;
    s.admit(1, false, true);
    assert.throws(() => s.admit(1, true, true), notAvailable);
    s.release(old);
    assert.ok(s.admit(1, true, true));
  });
});
