// Stream names as CREATE carries them, stream data over the memory and POSIX backends' stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import { listedStreamName, parseStreamSpec, sameStreamName, slashesAsSeparators, splitStreamPath } from '../../src/vfs/stream-names.js';
import { normalizeSmbPath } from '../../src/vfs/paths.js';
import { MemoryBackend } from '../../src/vfs/memory.js';
import { PosixBackend } from '../../src/vfs/posix.js';
import { MAX_STREAM_SIZE, StreamHandle } from '../../src/vfs/stream-handle.js';
import { encodeStreamList } from '../../src/protocol/fscc/file-info.js';
import type { Backend } from '../../src/vfs/types.js';
import { encodeFsInfo } from '../../src/protocol/fscc/fs-info.js';
import { keepsExtras } from '../../src/handlers/ea-create.js';
import { DEFAULT_FS_ATTRIBUTES, FsInfoClass, STREAMS_AND_EAS } from '../../src/protocol/fscc/constants.js';

function isStatus(status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof NtStatusError, `expected NtStatusError, got ${String(err)}`);
    assert.equal((err as NtStatusError).status, status >>> 0, (err as Error).message);
    return true;
  };
}

test('splitStreamPath: file, named stream, default data stream', () => {
  assert.deepEqual(splitStreamPath('dir\\file.txt'), { base: 'dir\\file.txt', defaultData: false });
  assert.deepEqual(splitStreamPath('dir\\f.txt:Stream One'), { base: 'dir\\f.txt', stream: 'Stream One', defaultData: false });
  assert.deepEqual(splitStreamPath('dir\\f.txt:Second:$DaTa'), { base: 'dir\\f.txt', stream: 'Second', defaultData: false });
  assert.deepEqual(splitStreamPath('dir\\f.txt::$DATA'), { base: 'dir\\f.txt', defaultData: true });
  assert.deepEqual(splitStreamPath('dir::$DATA'), { base: 'dir', defaultData: true });
  // Control characters and wildcards are fine in a stream name (smb2.streams.names).
  assert.equal(splitStreamPath('f:\x05Stream\n One').stream, '\x05Stream\n One');
  assert.equal(splitStreamPath('f:?Stream*:$DATA').stream, '?Stream*');
  // Only the last component carries a stream; a ':' earlier is left for path validation to refuse.
  assert.deepEqual(splitStreamPath('a:b\\c'), { base: 'a:b\\c', defaultData: false });
});

test('splitStreamPath: what Windows refuses is OBJECT_NAME_INVALID', () => {
  for (const bad of ['f:', 'f:s:', 'f:s:$FOO', 'f:s:?D*a', 'f::', 'f:a:b:c', 'f:a/b', 'f:a\0b', 'f:' + 'x'.repeat(256)]) {
    assert.throws(() => splitStreamPath(bad), isStatus(Status.OBJECT_NAME_INVALID), JSON.stringify(bad));
  }
  assert.equal(splitStreamPath('f:' + 'x'.repeat(255)).stream, 'x'.repeat(255));
});

test('stream name characters 0x01-0x7e: only / : \\ are refused (smb2.streams.names2)', () => {
  for (let c = 1; c < 0x7f; c++) {
    const name = `f:Stream${String.fromCharCode(c)}0x${c.toString(16)}:$DATA`;
    if (c === 0x2f || c === 0x3a) assert.throws(() => splitStreamPath(name), isStatus(Status.OBJECT_NAME_INVALID), name);
    // A backslash ends the component: the ':' left in the path is refused by path validation.
    else if (c === 0x5c) assert.throws(() => normalizeSmbPath(splitStreamPath(name).base), isStatus(Status.OBJECT_NAME_INVALID));
    else assert.equal(splitStreamPath(name).stream, `Stream${String.fromCharCode(c)}0x${c.toString(16)}`);
  }
});

test('parseStreamSpec, listed names and case-insensitive comparison', () => {
  assert.equal(parseStreamSpec('x'), 'x');
  assert.equal(parseStreamSpec(':$data'), undefined);
  assert.equal(listedStreamName(undefined), '::$DATA');
  assert.equal(listedStreamName('x'), ':x:$DATA');
  assert.ok(sameStreamName('StreamName', 'STREAMNAME'));
  assert.ok(!sameStreamName('a', 'b'));
});

test('slashesAsSeparators: "/" separates in CREATE paths, not in stream names', () => {
  assert.equal(slashesAsSeparators('a/b'), 'a\\b');
  assert.equal(slashesAsSeparators('a\\b'), 'a\\b');
  assert.equal(slashesAsSeparators('a/b:s'), 'a\\b:s');
  assert.equal(slashesAsSeparators('a:s/t'), 'a:s/t');
  assert.throws(() => slashesAsSeparators('a/b/'), isStatus(Status.OBJECT_NAME_INVALID));
});

test('encodeStreamList: 8-byte aligned chain, last entry unpadded', () => {
  const buf = encodeStreamList([
    { name: '::$DATA', size: 3n, allocationSize: 4096n },
    { name: ':ab:$DATA', size: 1n, allocationSize: 4096n },
  ]);
  const first = 24 + 14;
  assert.equal(buf.readUInt32LE(0), (first + 7) & ~7);
  assert.equal(buf.readUInt32LE(4), 14);
  assert.equal(buf.readBigUInt64LE(8), 3n);
  const second = (first + 7) & ~7;
  assert.equal(buf.readUInt32LE(second), 0);
  assert.equal(buf.toString('utf16le', second + 24), ':ab:$DATA');
  assert.equal(buf.length, second + 24 + 18);
  assert.equal(encodeStreamList([]).length, 0);
});

async function exerciseStreams(backend: Backend): Promise<void> {
  const f = await backend.createFile('f.txt', { read: true, write: true }, 0);
  await f.write(Buffer.from('base'), 0n);
  const store = f.extras!();
  store.set('stream', 'S1', Buffer.alloc(0));
  const s = new StreamHandle('f.txt', await backend.open('f.txt', { read: false, write: false }), store, 'S1', { read: true, write: true });
  assert.equal(await s.write(Buffer.from('test data'), 0n), 9);
  await s.write(Buffer.from('MORE DATA '), 5n);
  const out = Buffer.alloc(32);
  const n = await s.read(out, 0, 32, 0n);
  assert.equal(out.toString('latin1', 0, n), 'test MORE DATA ');
  const st = await s.stat();
  const base = await f.stat();
  assert.equal(st.size, 15n);
  assert.equal(st.fileId, base.fileId, 'a stream has its file\'s id');
  assert.equal(st.creationTime, base.creationTime);
  assert.equal(st.isDirectory, false);
  await s.truncate(4n);
  assert.equal((await s.stat()).size, 4n);
  assert.equal((await f.stat()).size, 4n, 'the file\'s own data is untouched');
  assert.deepEqual(store.list('stream'), [{ name: 'S1', size: 4 }]);
  // Streams and EAs are separate namespaces of one store.
  store.set('ea', 'S1', Buffer.from([0, 1]));
  assert.deepEqual(store.list('stream'), [{ name: 'S1', size: 4 }]);
  assert.deepEqual(store.list('ea'), [{ name: 'S1', size: 2 }]);
  await assert.rejects(s.write(Buffer.alloc(1), BigInt(MAX_STREAM_SIZE)), isStatus(Status.DISK_FULL));
  await assert.rejects(s.truncate(BigInt(MAX_STREAM_SIZE) + 1n), isStatus(Status.DISK_FULL));
  store.remove('stream', 'S1');
  store.remove('stream', 'S1');
  assert.deepEqual(store.list('stream'), []);
  await s.close();
  // They go with the file through a rename, and through the backend's path lookup.
  (await backend.extras!('f.txt')).set('stream', 'kept', Buffer.from('x'));
  await backend.rename('f.txt', 'g.txt', false);
  assert.deepEqual((await backend.extras!('g.txt')).get('stream', 'kept'), Buffer.from('x'));
  await f.close();
}

test('streams on the memory backend', async () => {
  await exerciseStreams(new MemoryBackend());
});

test('streams on the POSIX backend (user xattrs), and the file system limit is DISK_FULL', async (t) => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-streams-'));
  try {
    const backend = await PosixBackend.create(root);
    if (!backend.capabilities.xattrs) return t.skip('no user xattrs here');
    await exerciseStreams(backend);
    // ext4 keeps ~4 KB of xattrs per file: a 60 KB value must fail cleanly, never silently.
    const h = await backend.createFile('big.txt', { read: true, write: true }, 0);
    const store = h.extras!();
    try {
      store.set('stream', 'big', Buffer.alloc(60_000));
      assert.equal(store.get('stream', 'big')!.length, 60_000, 'stored in full where the file system allows it');
    } catch (err) {
      isStatus(Status.DISK_FULL)(err);
    }
    await h.close();
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

test('a backend that keeps streams and EAs says so in FileFsAttributeInformation', async () => {
  const fs = await new MemoryBackend().fsInfo();
  const buf = encodeFsInfo(FsInfoClass.FileFsAttributeInformation, fs);
  const attrs = buf.readUInt32LE(0);
  assert.equal(attrs & STREAMS_AND_EAS, STREAMS_AND_EAS);
  assert.equal(attrs & DEFAULT_FS_ATTRIBUTES, DEFAULT_FS_ATTRIBUTES);
  const plain = encodeFsInfo(FsInfoClass.FileFsAttributeInformation, { ...fs, fsAttributes: undefined });
  assert.equal(plain.readUInt32LE(0), DEFAULT_FS_ATTRIBUTES);
});

test('a share without xattrs keeps no streams or EAs, and says so before anything is created', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-noxattr-'));
  try {
    const plain = await PosixBackend.create(root, { xattrs: false });
    assert.equal(await keepsExtras(plain), false);
    await assert.rejects(plain.extras('') as Promise<unknown>, isStatus(Status.NOT_SUPPORTED));
    assert.equal(((await plain.fsInfo()).fsAttributes ?? 0) & STREAMS_AND_EAS, 0);
    assert.equal(await keepsExtras(new MemoryBackend()), true);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});
