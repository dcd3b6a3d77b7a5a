// How stream opens and their file interact in the share's file table (delete, sharing), on the memory backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import { Access, ShareAccess } from '../../src/protocol/constants.js';
import { MemoryBackend } from '../../src/vfs/memory.js';
import { Share } from '../../src/server/shares.js';
import type { Open } from '../../src/server/state/open.js';
import {
  afterLastClose,
  checkStreamsAllowDelete,
  deletePendingFor,
  refuseRenameWithOpenStreams,
  streamFileKey,
} from '../../src/server/stream-files.js';

function isStatus(status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof NtStatusError, `expected NtStatusError, got ${String(err)}`);
    assert.equal((err as NtStatusError).status, status >>> 0, (err as Error).message);
    return true;
  };
}

/** Just what the file table and stream-files.ts read of an open. */
function fakeOpen(fields: { grantedAccess: number; shareAccess: number; stream?: string }): Open {
  return { closed: false, isDirectory: false, ...fields } as unknown as Open;
}

async function setup() {
  const backend = new MemoryBackend();
  const share = new Share('s', { name: 's', readOnly: false, guestOk: false, browseable: true, encrypt: 'off' }, backend);
  const h = await backend.createFile('f.txt', { read: true, write: true }, 0);
  const baseKey = String((await h.stat()).fileId);
  h.extras!().set('stream', 'S', Buffer.from('data'));
  await h.close();
  return { backend, share, baseKey };
}

test('a stream open without FILE_SHARE_DELETE keeps DELETE opens and renames of its file away', async () => {
  const { share, baseKey } = await setup();
  const streamFile = share.files.acquire(streamFileKey(baseKey, 'S'), 'f.txt');
  const s = fakeOpen({ grantedAccess: Access.FILE_READ_DATA, shareAccess: ShareAccess.READ, stream: 'S' });
  streamFile.opens.add(s);
  assert.throws(() => checkStreamsAllowDelete(share, baseKey, Access.DELETE), isStatus(Status.SHARING_VIOLATION));
  checkStreamsAllowDelete(share, baseKey, Access.FILE_READ_DATA);
  assert.throws(() => refuseRenameWithOpenStreams(share, baseKey), isStatus(Status.ACCESS_DENIED));
  // Stream names fold like file names: 's' and 'S' are one object.
  assert.equal(share.files.get(streamFileKey(baseKey, 's')), streamFile);
  share.files.release(streamFile, s);
  const shared = share.files.acquire(streamFileKey(baseKey, 'S'), 'f.txt');
  shared.opens.add(fakeOpen({ grantedAccess: Access.FILE_READ_DATA, shareAccess: ShareAccess.READ | ShareAccess.DELETE, stream: 'S' }));
  checkStreamsAllowDelete(share, baseKey, Access.DELETE);
});

test('a deleted file stays, DELETE_PENDING, until its last stream open closes', async () => {
  const { backend, share, baseKey } = await setup();
  const streamFile = share.files.acquire(streamFileKey(baseKey, 'S'), 'f.txt');
  const s = fakeOpen({ grantedAccess: Access.FILE_READ_DATA, shareAccess: 7, stream: 'S' });
  streamFile.opens.add(s);
  const baseFile = share.files.acquire(baseKey, 'f.txt');
  const b = fakeOpen({ grantedAccess: Access.DELETE, shareAccess: 7 });
  baseFile.opens.add(b);
  baseFile.deletePending = true;
  assert.ok(share.files.release(baseFile, b));
  await afterLastClose(share, b, baseFile);
  assert.notEqual(await backend.stat('f.txt'), null, 'the name stays while a stream is open');
  assert.ok(deletePendingFor(share, baseKey));
  assert.ok(share.files.release(streamFile, s));
  await afterLastClose(share, s, streamFile);
  assert.equal(await backend.stat('f.txt'), null);
  assert.ok(!deletePendingFor(share, baseKey));
});

test('delete-on-close of a stream removes the stream, not the file', async () => {
  const { backend, share, baseKey } = await setup();
  const streamFile = share.files.acquire(streamFileKey(baseKey, 'S'), 'f.txt');
  const s = fakeOpen({ grantedAccess: Access.DELETE, shareAccess: 7, stream: 'S' });
  streamFile.opens.add(s);
  streamFile.deletePending = true;
  share.files.release(streamFile, s);
  await afterLastClose(share, s, streamFile);
  assert.notEqual(await backend.stat('f.txt'), null);
  assert.deepEqual((await backend.extras('f.txt')).list('stream'), []);
});
