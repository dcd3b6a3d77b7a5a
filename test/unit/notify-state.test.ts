import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotifyState } from '../../src/server/state/notify.js';
import { Status } from '../../src/protocol/status.js';

const status = (e: unknown) => (e as { status?: number }).status;

test('a CHANGE_NOTIFY that starts waiting after its handle closed ends with NOTIFY_CLEANUP, not never', async () => {
  const s = new NotifyState(0xfff, false, 4096);
  s.close();
  await assert.rejects(s.wait(new AbortController().signal), (e) => status(e) === Status.NOTIFY_CLEANUP);
});

test('close ends the requests already waiting with NOTIFY_CLEANUP', async () => {
  const s = new NotifyState(0xfff, false, 4096);
  const w = s.wait(new AbortController().signal);
  s.close();
  await assert.rejects(w, (e) => status(e) === Status.NOTIFY_CLEANUP);
});
