import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import { normalizeSmbPath, matchWildcard } from '../../src/vfs/paths.js';
import { statusFromErrno, toNtStatusError } from '../../src/vfs/errno.js';
import { PosixBackend } from '../../src/vfs/posix.js';
import { FILETIME_UNIX_EPOCH, attributesFromMode, modeForAttributes } from '../../src/vfs/posix-stat.js';
import { FileAttribute } from '../../src/vfs/types.js';
import { META_XATTR, decodeMeta, encodeMeta, readMeta } from '../../src/vfs/posix-meta.js';
import { getXattr, setXattr } from '../../src/native/libc.js';

function isStatus(status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof NtStatusError, `expected NtStatusError, got ${String(err)}`);
    assert.equal((err as NtStatusError).status, status >>> 0, (err as Error).message);
    return true;
  };
}

// ---------- paths ----------

test('normalizeSmbPath forms', () => {
  assert.equal(normalizeSmbPath(''), '');
  assert.equal(normalizeSmbPath('\\'), '');
  assert.equal(normalizeSmbPath('a'), 'a');
  assert.equal(normalizeSmbPath('\\a\\b\\'), 'a/b');
  assert.equal(normalizeSmbPath('a\\\\b'), 'a/b');
  assert.equal(normalizeSmbPath('a\\..\\b'), 'b');
  assert.equal(normalizeSmbPath('\u00e9t\u00e9\\\u6587'), '\u00e9t\u00e9/\u6587');
});

test('normalizeSmbPath refusals', () => {
  assert.throws(() => normalizeSmbPath('..'), isStatus(Status.OBJECT_PATH_SYNTAX_BAD));
  assert.throws(() => normalizeSmbPath('a\\..\\..\\etc'), isStatus(Status.OBJECT_PATH_SYNTAX_BAD));
  assert.throws(() => normalizeSmbPath('\\..\\x'), isStatus(Status.OBJECT_PATH_SYNTAX_BAD));
  assert.throws(() => normalizeSmbPath('a\\.'), isStatus(Status.OBJECT_NAME_INVALID));
  assert.throws(() => normalizeSmbPath('.\\a'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  for (const bad of ['a<b', 'a>b', 'a"b', 'a|b', 'a?b', 'a*b', 'x\\a\u0001', 'a/b', 'file:stream', 'f::$DATA']) {
    assert.throws(() => normalizeSmbPath(bad), isStatus(Status.OBJECT_NAME_INVALID), bad);
  }
  assert.throws(() => normalizeSmbPath('x'.repeat(256)), isStatus(Status.OBJECT_NAME_INVALID));
  assert.equal(normalizeSmbPath('x'.repeat(255)), 'x'.repeat(255));
  assert.equal(normalizeSmbPath('d\\*.txt', { allowWildcardsInLast: true }), 'd/*.txt');
  assert.throws(() => normalizeSmbPath('*\\a', { allowWildcardsInLast: true }), isStatus(Status.OBJECT_NAME_INVALID));
});

test('matchWildcard', () => {
  const yes: [string, string][] = [
    ['*', 'anything'],
    ['*.*', 'noext'],
    ['*.txt', 'A.TXT'],
    ['a?c', 'abc'],
    ['*a*b*', 'xxaybz'],
    ['FILE.TXT', 'file.txt'],
    ['<.txt', 'a.b.txt'],
    ['<', 'noext'],
    ['foo>>>.txt', 'foo.txt'],
    ['foo>>>.txt', 'fooab.txt'],
    ['a>>', 'a'],
    ['a"', 'a'],
    ['a"', 'a.'],
    ['a"b', 'a.b'],
    ['\u00e9*', '\u00c9t\u00e9'],
  ];
  const no: [string, string][] = [
    ['*.txt', 'a.txt.bak'],
    ['a?c', 'ac'],
    ['<', 'a.b'],
    ['foo>>>.txt', 'fooabcd.txt'],
    ['a"b', 'axb'],
    ['abc', 'ab'],
    ['?', ''],
  ];
  for (const [p, n] of yes) assert.equal(matchWildcard(p, n), true, `${p} ~ ${n}`);
  for (const [p, n] of no) assert.equal(matchWildcard(p, n), false, `${p} !~ ${n}`);
  // Pathological pattern must stay fast (memoized).
  assert.equal(matchWildcard('*a*a*a*a*a*a*a*a*b', 'a'.repeat(200)), false);
});

// ---------- errno ----------

test('errno mapping', () => {
  const e = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(statusFromErrno(e('ENOENT')), Status.OBJECT_NAME_NOT_FOUND);
  assert.equal(statusFromErrno(e('ENOENT'), 'parent'), Status.OBJECT_PATH_NOT_FOUND);
  assert.equal(statusFromErrno(e('EEXIST')), Status.OBJECT_NAME_COLLISION);
  assert.equal(statusFromErrno(e('EACCES')), Status.ACCESS_DENIED);
  assert.equal(statusFromErrno(e('EPERM')), Status.ACCESS_DENIED);
  assert.equal(statusFromErrno(e('ENOTEMPTY')), Status.DIRECTORY_NOT_EMPTY);
  assert.equal(statusFromErrno(e('EISDIR')), Status.FILE_IS_A_DIRECTORY);
  assert.equal(statusFromErrno(e('ENOSPC')), Status.DISK_FULL);
  assert.equal(statusFromErrno(e('EDQUOT')), Status.DISK_FULL);
  assert.equal(statusFromErrno(e('EROFS')), Status.MEDIA_WRITE_PROTECTED);
  assert.equal(statusFromErrno(e('EMFILE')), Status.TOO_MANY_OPENED_FILES);
  assert.equal(statusFromErrno(e('EXDEV')), Status.NOT_SAME_DEVICE);
  assert.equal(statusFromErrno(e('EWHATEVER')), Status.UNSUCCESSFUL);
  assert.equal(statusFromErrno(new NtStatusError(Status.SHARING_VIOLATION)), Status.SHARING_VIOLATION);
  const wrapped = toNtStatusError(e('ENOTDIR'));
  assert.equal(wrapped.status, Status.OBJECT_PATH_NOT_FOUND);
  const same = new NtStatusError(Status.DISK_FULL);
  assert.equal(toNtStatusError(same), same);
});

test('DOS attribute mapping on permission bits', () => {
  assert.equal(attributesFromMode(0o644, false), FileAttribute.NORMAL);
  assert.equal(attributesFromMode(0o444, false), FileAttribute.READONLY);
  assert.equal(attributesFromMode(0o755, false), FileAttribute.ARCHIVE | FileAttribute.SYSTEM | FileAttribute.HIDDEN);
  assert.equal(attributesFromMode(0o555, true), FileAttribute.DIRECTORY);
  assert.equal(modeForAttributes(0o664, FileAttribute.READONLY | FileAttribute.HIDDEN), 0o445);
  assert.equal(modeForAttributes(0o444, FileAttribute.ARCHIVE), 0o744);
});

// ---------- posix backend ----------

let base: string;
let root: string;
let outside: string;
let be: PosixBackend;

before(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-vfs-'));
  root = path.join(base, 'share');
  outside = path.join(base, 'outside');
  await fsp.mkdir(root);
  await fsp.mkdir(outside);
  await fsp.writeFile(path.join(outside, 'secret'), 'secret');
  await fsp.mkdir(path.join(root, 'Docs'));
  await fsp.writeFile(path.join(root, 'Docs', 'Readme.TXT'), 'hello world');
  await fsp.symlink('/etc', path.join(root, 'etc-link'));
  await fsp.symlink('../outside', path.join(root, 'sibling-link'));
  await fsp.symlink(path.join(outside, 'secret'), path.join(root, 'secret-link'));
  await fsp.symlink(path.join(root, 'Docs'), path.join(root, 'abs-inside'));
  await fsp.symlink('Docs/Readme.TXT', path.join(root, 'rel-file-link'));
  await fsp.symlink('/nonexistent/nowhere', path.join(root, 'dangling'));
  be = await PosixBackend.create(root);
});

after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

test('create() validates the root', async () => {
  await assert.rejects(PosixBackend.create(path.join(base, 'missing')));
  await assert.rejects(PosixBackend.create(path.join(outside, 'secret')));
});

test('symlinks leaving the share are refused, inside ones followed', async () => {
  await assert.rejects(be.stat('etc-link'), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.stat('etc-link/passwd'), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.open('etc-link/passwd', { read: true, write: false }), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.stat('sibling-link/secret'), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.open('secret-link', { read: true, write: false }), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.readdir('sibling-link'), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.createFile('sibling-link/new', { read: true, write: true }, 0), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.mkdir('etc-link/x', 0), isStatus(Status.ACCESS_DENIED));
  // Case-insensitive route to the same escaping link.
  await assert.rejects(be.stat('ETC-LINK/passwd'), isStatus(Status.ACCESS_DENIED));

  const viaAbs = await be.stat('abs-inside/readme.txt');
  assert.ok(viaAbs);
  assert.equal(viaAbs.size, 11n);
  const h = await be.open('rel-file-link', { read: true, write: false });
  const buf = Buffer.alloc(5);
  assert.equal(await h.read(buf, 0, 5, 0n), 5);
  assert.equal(buf.toString(), 'hello');
  await h.close();

  // Listing hides escaping and dangling links, keeps inside ones.
  const names = (await be.readdir('')).map((e) => e.name).sort();
  assert.deepEqual(names, ['Docs', 'abs-inside', 'rel-file-link']);
  assert.equal(await be.stat('dangling'), null);
});

test('backend paths are validated again', async () => {
  await assert.rejects(be.stat('../outside/secret'), isStatus(Status.OBJECT_NAME_INVALID));
  await assert.rejects(be.stat('Docs/../../outside'), isStatus(Status.OBJECT_NAME_INVALID));
  await assert.rejects(be.stat('/etc/passwd'), isStatus(Status.OBJECT_NAME_INVALID));
});

test('case-insensitive lookup', async () => {
  assert.equal(await be.resolveCase('docs/readme.txt'), 'Docs/Readme.TXT');
  assert.equal(await be.resolveCase('DOCS'), 'Docs');
  assert.equal(await be.resolveCase(''), '');
  assert.equal(await be.resolveCase('docs/missing'), null);
  await assert.rejects(be.resolveCase('nodir/x'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  await assert.rejects(be.resolveCase('docs/readme.txt/x'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  const st = await be.stat('DOCS/README.txt');
  assert.ok(st && !st.isDirectory);
  assert.equal(await be.stat('docs/none'), null);
  await assert.rejects(be.stat('none/none'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
});

test('stat fields', async () => {
  const st = await be.stat('Docs/Readme.TXT');
  assert.ok(st);
  const raw = await fsp.stat(path.join(root, 'Docs', 'Readme.TXT'), { bigint: true });
  assert.equal(st.fileId, raw.ino);
  assert.equal(st.lastWriteTime, FILETIME_UNIX_EPOCH + raw.mtimeNs / 100n);
  assert.equal(st.allocationSize, raw.blocks * 512n);
  assert.ok(st.creationTime > FILETIME_UNIX_EPOCH);
  const dir = await be.stat('');
  assert.ok(dir && dir.isDirectory);
  assert.equal(dir.attributes, FileAttribute.DIRECTORY);
});

test('large reads return the bytes up to end of file, from any offset into any buffer offset', async () => {
  const h = await be.createFile('docs/Pieces.bin', { read: true, write: true }, 0);
  const MiB = 1024 * 1024;
  const data = Buffer.alloc(5 * MiB + 12345);
  for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(i, i);
  assert.equal(await h.write(data, 0n), data.length);
  // Whole file in one 8 MiB read that runs past end of file.
  const out = Buffer.alloc(8 * MiB, 0xee);
  assert.equal(await h.read(out, 0, out.length, 0n), data.length);
  assert.ok(out.subarray(0, data.length).equals(data));
  // From an odd offset, into an odd buffer offset.
  const at = 3 * MiB + 7;
  const out2 = Buffer.alloc(4 * MiB + 3);
  assert.equal(await h.read(out2, 3, 4 * MiB, BigInt(at)), data.length - at);
  assert.ok(out2.subarray(3, 3 + data.length - at).equals(data.subarray(at)));
  // Entirely inside the file: exactly the length asked for.
  assert.equal(await h.read(out, 0, 2 * MiB, 1n), 2 * MiB);
  assert.ok(out.subarray(0, 2 * MiB).equals(data.subarray(1, 1 + 2 * MiB)));
  await h.close();
  await fsp.rm(path.join(root, 'Docs', 'Pieces.bin'));
});

test('create, write, read, truncate', async () => {
  const h = await be.createFile('docs/New.bin', { read: true, write: true }, 0);
  assert.equal(h.isDirectory, false);
  const data = Buffer.from('0123456789');
  assert.equal(await h.write(data, 5n), 10);
  const out = Buffer.alloc(20, 0xff);
  assert.equal(await h.read(out, 2, 18, 0n), 15);
  assert.deepEqual(out.subarray(2, 17), Buffer.concat([Buffer.alloc(5), data]));
  assert.equal(await h.read(out, 0, 4, 100n), 0);
  await h.truncate(3n);
  assert.equal((await h.stat()).size, 3n);
  // New files carry ARCHIVE ([MS-FSA]).
  assert.equal((await h.stat()).attributes, FileAttribute.ARCHIVE);
  await h.close();
  await h.close();
  assert.ok(await fsp.stat(path.join(root, 'Docs', 'New.bin')));

  await assert.rejects(be.createFile('DOCS/new.BIN', { read: true, write: true }, 0), isStatus(Status.OBJECT_NAME_COLLISION));
  await assert.rejects(be.createFile('nodir/x', { read: true, write: true }, 0), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  await assert.rejects(be.open('docs/absent', { read: true, write: false }), isStatus(Status.OBJECT_NAME_NOT_FOUND));
  await assert.rejects(be.createFile('dangling', { read: true, write: true }, 0), isStatus(Status.OBJECT_NAME_COLLISION));

  const ro = await be.createFile('ro.txt', { read: true, write: true }, FileAttribute.READONLY | FileAttribute.HIDDEN);
  assert.equal(await ro.write(Buffer.from('x'), 0n), 1);
  assert.equal((await ro.stat()).attributes, FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.ARCHIVE);
  await ro.close();
  await assert.rejects(be.open('ro.txt', { read: true, write: true }), isStatus(Status.ACCESS_DENIED));
  await be.setAttributes('ro.txt', FileAttribute.NORMAL);
  assert.equal((await be.stat('ro.txt'))!.attributes, FileAttribute.NORMAL);
  await be.unlink('RO.TXT');
  assert.equal(await be.stat('ro.txt'), null);
});

test('writes issued before a close are all written, though they take turns', async () => {
  const h = await be.createFile('queued.bin', { read: true, write: true }, 0);
  const big = h.write(Buffer.alloc(4 * 1024 * 1024, 0x61), 0n);
  const small = h.write(Buffer.from('b'), 4n * 1024n * 1024n);
  await h.close();
  assert.equal(await big, 4 * 1024 * 1024);
  assert.equal(await small, 1);
  const data = await fsp.readFile(path.join(root, 'queued.bin'));
  assert.equal(data.length, 4 * 1024 * 1024 + 1);
  assert.equal(data.at(-1), 0x62);
  await be.unlink('queued.bin');
});

test('directory handles', async () => {
  const d = await be.open('docs', { read: true, write: false });
  assert.equal(d.isDirectory, true);
  assert.ok((await d.stat()).isDirectory);
  await assert.rejects(d.read(Buffer.alloc(1), 0, 1, 0n), isStatus(Status.INVALID_DEVICE_REQUEST));
  await assert.rejects(d.write(Buffer.alloc(1), 0n), isStatus(Status.FILE_IS_A_DIRECTORY));
  await d.close();
});

test('mkdir, rmdir, unlink semantics', async () => {
  await be.mkdir('Sub', 0);
  await assert.rejects(be.mkdir('sub', 0), isStatus(Status.OBJECT_NAME_COLLISION));
  const h = await be.createFile('sub/f', { read: false, write: true }, 0);
  await h.close();
  await assert.rejects(be.rmdir('SUB'), isStatus(Status.DIRECTORY_NOT_EMPTY));
  await assert.rejects(be.unlink('sub'), isStatus(Status.FILE_IS_A_DIRECTORY));
  await assert.rejects(be.rmdir('sub/f'), isStatus(Status.NOT_A_DIRECTORY));
  await be.unlink('sub/F');
  await assert.rejects(be.unlink('sub/f'), isStatus(Status.OBJECT_NAME_NOT_FOUND));
  await be.rmdir('sub');
  assert.equal(await be.stat('sub'), null);
  await assert.rejects(be.rmdir(''), isStatus(Status.ACCESS_DENIED));
  // Removing a link to a directory removes the link only.
  await be.rmdir('abs-inside');
  assert.ok(await be.stat('Docs'));
  await fsp.symlink(path.join(root, 'Docs'), path.join(root, 'abs-inside'));
});

test('rename semantics', async () => {
  const mk = async (p: string, content: string) => {
    const h = await be.createFile(p, { read: true, write: true }, 0);
    await h.write(Buffer.from(content), 0n);
    await h.close();
  };
  await mk('r1', 'one');
  await mk('r2', 'two');
  await assert.rejects(be.rename('r1', 'R2', false), isStatus(Status.OBJECT_NAME_COLLISION));
  await be.rename('r1', 'R2', true);
  const names = await fsp.readdir(root);
  assert.ok(names.includes('R2') && !names.includes('r2') && !names.includes('r1'));
  assert.equal(await fsp.readFile(path.join(root, 'R2'), 'utf8'), 'one');
  // Case-only rename of itself is allowed even without replace.
  await be.rename('r2', 'r2', false);
  await be.rename('R2', 'r2', false);
  assert.ok((await fsp.readdir(root)).includes('r2'));
  await be.rename('r2', 'docs/moved', false);
  assert.equal(await fsp.readFile(path.join(root, 'Docs', 'moved'), 'utf8'), 'one');
  await assert.rejects(be.rename('docs/moved', 'nodir/x', false), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  await assert.rejects(be.rename('absent', 'x', false), isStatus(Status.OBJECT_NAME_NOT_FOUND));
  await be.mkdir('d1', 0);
  await assert.rejects(be.rename('docs/moved', 'D1', true), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(be.rename('docs/moved', 'sibling-link/stolen', true), isStatus(Status.ACCESS_DENIED));
  await be.rmdir('d1');
  await be.unlink('docs/moved');
});

test('setTimes with only a write time leaves the access time', async () => {
  const h = await be.createFile('t.txt', { read: true, write: true }, 0);
  await h.close();
  const mtime = FILETIME_UNIX_EPOCH + 1_600_000_000n * 10_000_000n + 1_234_500n;
  const before = (await be.stat('t.txt'))!;
  await be.setTimes('t.txt', { lastWriteTime: mtime, creationTime: 5n, changeTime: 0n });
  const after = (await be.stat('t.txt'))!;
  const drift = after.lastWriteTime - mtime;
  assert.ok(drift >= -10n && drift <= 10n, `mtime off by ${drift}`);
  assert.equal(after.lastAccessTime / 10_000n, before.lastAccessTime / 10_000n);
  await be.unlink('t.txt');
});

test('readdir and fsInfo', async () => {
  const entries = await be.readdir('docs');
  assert.deepEqual(entries.map((e) => e.name).sort(), ['New.bin', 'Readme.TXT']);
  assert.equal(entries.find((e) => e.name === 'Readme.TXT')!.stat.size, 11n);
  assert.ok(entries.every((e) => e.name !== '.' && e.name !== '..'));
  await assert.rejects(be.readdir('docs/readme.txt'), isStatus(Status.NOT_A_DIRECTORY));
  const fi = await be.fsInfo();
  assert.ok(fi.totalBytes > 0n && fi.totalBytes >= fi.freeBytes && fi.freeBytes >= fi.availableBytes);
  assert.equal(fi.bytesPerSector * fi.sectorsPerAllocationUnit >= 512, true);
  assert.equal(fi.fsName, 'NTFS');
});

test('read-only backend refuses every change', async () => {
  const ro = await PosixBackend.create(root, { readOnly: true });
  assert.ok(await ro.stat('docs/readme.txt'));
  await assert.rejects(ro.open('docs/readme.txt', { read: true, write: true }), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.createFile('x', { read: true, write: true }, 0), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.mkdir('x', 0), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.unlink('docs/readme.txt'), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.rename('docs', 'x', false), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.setAttributes('docs/readme.txt', 1), isStatus(Status.ACCESS_DENIED));
  await assert.rejects(ro.setTimes('docs/readme.txt', { lastWriteTime: 1n << 56n }), isStatus(Status.ACCESS_DENIED));
  const h = await ro.open('docs/readme.txt', { read: true, write: false });
  await assert.rejects(h.write(Buffer.from('x'), 0n), isStatus(Status.ACCESS_DENIED));
  await h.close();
});

// ---------- metadata in xattrs ----------

const FT = (unixSeconds: bigint, extra100ns = 0n) => FILETIME_UNIX_EPOCH + unixSeconds * 10_000_000n + extra100ns;

test('metadata record codec', () => {
  const rec = { attributes: FileAttribute.HIDDEN | FileAttribute.SYSTEM, creationTime: FT(1_700_000_000n, 1234567n), changeTime: FT(1_600_000_000n, 1n), changeMtimeNs: 15_032_385_535_000_000_123n };
  const buf = encodeMeta(rec);
  assert.equal(buf.length, 40);
  assert.equal(buf[0], 1);
  assert.deepEqual(decodeMeta(buf), rec);
  // Pre-1970 mtimes survive the seconds/nanoseconds split.
  assert.equal(decodeMeta(encodeMeta({ ...rec, changeMtimeNs: -1n }))!.changeMtimeNs, -1n);
  // Unstorable bits (DIRECTORY, COMPRESSED, ...) are dropped, SPARSE_FILE kept; absent fields stay absent.
  assert.deepEqual(decodeMeta(encodeMeta({ attributes: FileAttribute.DIRECTORY | FileAttribute.COMPRESSED | FileAttribute.ARCHIVE })), { attributes: FileAttribute.ARCHIVE });
  assert.deepEqual(decodeMeta(encodeMeta({ attributes: FileAttribute.SPARSE_FILE })), { attributes: FileAttribute.SPARSE_FILE });
  // Other versions and short records are ignored; longer version-1 records are read.
  const v2 = Buffer.from(buf);
  v2[0] = 2;
  assert.equal(decodeMeta(v2), null);
  assert.equal(decodeMeta(buf.subarray(0, 39)), null);
  assert.deepEqual(decodeMeta(Buffer.concat([buf, Buffer.alloc(8)])), rec);
  // The EA size is kept only when given (flag 4); 0 is a size, not an absence.
  assert.deepEqual(decodeMeta(encodeMeta({ attributes: 0, eaSize: 0 })), { attributes: 0, eaSize: 0 });
  assert.deepEqual(decodeMeta(encodeMeta({ ...rec, eaSize: 45 })), { ...rec, eaSize: 45 });
});

test('listings take EaSize from the record, which EA changes keep; files without a record have their xattrs listed', async () => {
  const h = await be.createFile('ea-kept.txt', { read: true, write: true }, 0);
  try {
    assert.equal(readMeta({ path: path.join(root, 'ea-kept.txt') })!.eaSize, 0, 'a new file records that it has no EAs');
    const store = h.extras!();
    store.set('ea', 'EAONE', Buffer.concat([Buffer.from([0]), Buffer.from('VALUE1')]));
    const listed = async () => (await be.readdir('')).find((e) => e.name === 'ea-kept.txt')!.stat.eaSize;
    const withOne = await listed();
    assert.ok(withOne! > 0);
    assert.equal(readMeta({ path: path.join(root, 'ea-kept.txt') })!.eaSize, withOne);
    store.remove('ea', 'EAONE');
    assert.equal(await listed(), 0);
  } finally {
    await h.close();
    await be.unlink('ea-kept.txt');
  }
  // Made outside the backend: an EA xattr and no record; the listing finds the EA by listing.
  await fsp.writeFile(path.join(root, 'ea-outside.txt'), 'x');
  setXattr({ path: path.join(root, 'ea-outside.txt') }, 'user.smb3d.e.EAONE', Buffer.concat([Buffer.from([0]), Buffer.from('VALUE1')]));
  assert.equal(readMeta({ path: path.join(root, 'ea-outside.txt') }), null);
  const outside = (await be.readdir('')).find((e) => e.name === 'ea-outside.txt')!.stat.eaSize;
  await fsp.unlink(path.join(root, 'ea-outside.txt'));
  assert.ok(outside! > 0, `EaSize ${outside}`);
});

test('listings keep records between them, and show a change made since, by the server or another process', async () => {
  const file = path.join(root, 'kept.txt');
  await fsp.writeFile(file, 'x');
  // Records are kept only once the file's ctime is older than any clock tick.
  await new Promise((resolve) => setTimeout(resolve, 80));
  const attributes = async () => (await be.readdir('')).find((e) => e.name === 'kept.txt')!.stat.attributes;
  assert.equal(await attributes(), FileAttribute.NORMAL);
  assert.equal(await attributes(), FileAttribute.NORMAL);
  await be.setAttributes('kept.txt', FileAttribute.HIDDEN);
  assert.equal(await attributes(), FileAttribute.HIDDEN);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(await attributes(), FileAttribute.HIDDEN);
  // Another process rewrites the record.
  setXattr({ path: file }, META_XATTR, encodeMeta({ attributes: FileAttribute.SYSTEM }));
  assert.equal(await attributes(), FileAttribute.SYSTEM);
  await fsp.unlink(file);
});

test('xattrs are detected on the share', () => {
  assert.equal(be.capabilities.xattrs, true);
});

test('all four times are kept exactly (xattrs)', async () => {
  const h = await be.createFile('times.bin', { read: true, write: true }, 0);
  await h.write(Buffer.from('abc'), 0n);
  const times = {
    creationTime: FT(1_790_000_000n, 1n),
    lastAccessTime: FT(1_780_000_000n, 9_999_999n),
    lastWriteTime: FT(1_770_000_000n, 5n),
    changeTime: FT(1_760_000_000n, 42n),
  };
  await be.setTimes('times.bin', times);
  const pick = (st: { creationTime: bigint; lastAccessTime: bigint; lastWriteTime: bigint; changeTime: bigint }) => ({
    creationTime: st.creationTime,
    lastAccessTime: st.lastAccessTime,
    lastWriteTime: st.lastWriteTime,
    changeTime: st.changeTime,
  });
  assert.deepEqual(pick((await be.stat('times.bin'))!), times);
  assert.deepEqual(pick(await h.stat()), times);
  assert.deepEqual(pick((await be.readdir('')).find((e) => e.name === 'times.bin')!.stat), times);

  // Attribute changes keep the times (the handler sets attributes right after the times).
  await be.setAttributes('times.bin', FileAttribute.HIDDEN);
  assert.deepEqual(pick((await be.stat('times.bin'))!), times);

  // Data written: mtime moves, so the stored change time yields to the (newer) real ctime.
  await h.write(Buffer.from('more'), 3n);
  const afterWrite = (await h.stat())!;
  const raw = await fsp.stat(path.join(root, 'times.bin'), { bigint: true });
  assert.equal(afterWrite.changeTime, FILETIME_UNIX_EPOCH + raw.ctimeNs / 100n);
  assert.ok(afterWrite.changeTime > times.changeTime);
  assert.equal(afterWrite.creationTime, times.creationTime);
  await h.close();

  // Creation time survives a rename, and times far outside 1970..2262 work.
  await be.rename('times.bin', 'docs/times2.bin', false);
  assert.equal((await be.stat('docs/times2.bin'))!.creationTime, times.creationTime);
  const far = { creationTime: FT(15_032_385_535n), lastWriteTime: FT(15_032_385_535n), changeTime: FT(15_032_385_535n) };
  await be.setTimes('docs/times2.bin', far);
  const st = (await be.stat('docs/times2.bin'))!;
  assert.deepEqual([st.creationTime, st.lastWriteTime, st.changeTime], [far.creationTime, far.lastWriteTime, far.changeTime]);
  const old = FT(-63_158_400n);
  await be.setTimes('docs/times2.bin', { creationTime: old, lastWriteTime: old, changeTime: old });
  const st2 = (await be.stat('docs/times2.bin'))!;
  assert.deepEqual([st2.creationTime, st2.lastWriteTime, st2.changeTime], [old, old, old]);
  // 0 and -1/-2 leave times alone.
  await be.setTimes('docs/times2.bin', { creationTime: -1n, lastWriteTime: -2n, changeTime: 0n });
  assert.deepEqual((await be.stat('docs/times2.bin'))!.creationTime, old);
  await be.unlink('docs/times2.bin');
});

test('creation time is stored when the backend creates a file or directory', async () => {
  const h = await be.createFile('born.txt', { read: false, write: true }, 0);
  await h.close();
  const raw = await fsp.stat(path.join(root, 'born.txt'), { bigint: true });
  const rec = readMeta({ path: path.join(root, 'born.txt') });
  assert.ok(rec && rec.creationTime !== undefined);
  assert.equal(rec.creationTime, FILETIME_UNIX_EPOCH + (raw.birthtimeNs > 0n ? raw.birthtimeNs : raw.mtimeNs) / 100n);
  assert.equal(rec.attributes, FileAttribute.ARCHIVE);
  await be.mkdir('BornDir', FileAttribute.HIDDEN);
  const drec = readMeta({ path: path.join(root, 'BornDir') });
  assert.ok(drec && drec.creationTime !== undefined);
  assert.equal((await be.stat('borndir'))!.attributes, FileAttribute.DIRECTORY | FileAttribute.HIDDEN);
  await be.unlink('born.txt');
  await be.rmdir('borndir');
});

test('DOS attributes roundtrip (xattrs), READONLY also in the mode', async () => {
  const h = await be.createFile('attrs.txt', { read: true, write: true }, FileAttribute.HIDDEN);
  await h.close();
  const full = path.join(root, 'attrs.txt');
  assert.equal((await be.stat('attrs.txt'))!.attributes, FileAttribute.HIDDEN | FileAttribute.ARCHIVE);
  assert.equal((await fsp.stat(full)).mode & 0o7777, 0o644, 'no permission bits borrowed for DOS attributes');

  const every =
    FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE | FileAttribute.TEMPORARY | FileAttribute.OFFLINE | FileAttribute.NOT_CONTENT_INDEXED;
  await be.setAttributes('attrs.txt', every);
  assert.equal((await be.stat('attrs.txt'))!.attributes, every);

  await be.setAttributes('attrs.txt', FileAttribute.READONLY | FileAttribute.SYSTEM);
  assert.equal((await be.stat('attrs.txt'))!.attributes, FileAttribute.READONLY | FileAttribute.SYSTEM);
  assert.equal((await fsp.stat(full)).mode & 0o222, 0, 'READONLY clears the write bits');
  await assert.rejects(be.open('attrs.txt', { read: false, write: true }), isStatus(Status.ACCESS_DENIED));

  // A Linux user's chmod u+w is seen as clearing READONLY.
  await fsp.chmod(full, 0o644);
  assert.equal((await be.stat('attrs.txt'))!.attributes, FileAttribute.SYSTEM);

  // NORMAL only when nothing else is set; DIRECTORY and unstorable bits are not kept.
  await be.setAttributes('attrs.txt', FileAttribute.NORMAL);
  assert.equal((await be.stat('attrs.txt'))!.attributes, FileAttribute.NORMAL);
  await be.setAttributes('attrs.txt', FileAttribute.NORMAL | FileAttribute.ARCHIVE | FileAttribute.SPARSE_FILE);
  assert.equal((await be.stat('attrs.txt'))!.attributes, FileAttribute.ARCHIVE);

  // Directories: DIRECTORY plus stored bits; READONLY is stored, the mode untouched.
  await be.mkdir('adir', 0);
  assert.equal((await be.stat('adir'))!.attributes, FileAttribute.DIRECTORY);
  await be.setAttributes('adir', FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE | FileAttribute.TEMPORARY);
  assert.equal(
    (await be.stat('adir'))!.attributes,
    FileAttribute.DIRECTORY | FileAttribute.READONLY | FileAttribute.HIDDEN | FileAttribute.SYSTEM | FileAttribute.ARCHIVE,
  );
  assert.equal((await fsp.stat(path.join(root, 'adir'))).mode & 0o777, 0o755);
  const d = await be.open('adir', { read: true, write: false });
  assert.equal((await d.stat()).attributes & FileAttribute.HIDDEN, FileAttribute.HIDDEN);
  await d.close();
  await be.rmdir('adir');
  await be.unlink('attrs.txt');
});

test('files made outside the backend: no record, executable bits mean nothing', async () => {
  const full = path.join(root, 'script.sh');
  await fsp.writeFile(full, '#!/bin/sh\n');
  await fsp.chmod(full, 0o755);
  const st = (await be.stat('script.sh'))!;
  assert.equal(st.attributes, FileAttribute.NORMAL);
  const raw = await fsp.stat(full, { bigint: true });
  assert.equal(st.creationTime, FILETIME_UNIX_EPOCH + (raw.birthtimeNs > 0n ? raw.birthtimeNs : raw.mtimeNs) / 100n);
  assert.equal(st.changeTime, FILETIME_UNIX_EPOCH + raw.ctimeNs / 100n);
  // A garbled record is ignored, not an error.
  setXattr({ path: full }, META_XATTR, Buffer.from('junk'));
  assert.equal((await be.stat('script.sh'))!.attributes, FileAttribute.NORMAL);
  // Setting one thing writes a full record, freezing the creation time it showed.
  await be.setAttributes('script.sh', FileAttribute.HIDDEN);
  const after = (await be.stat('script.sh'))!;
  assert.equal(after.attributes, FileAttribute.HIDDEN);
  assert.equal(after.creationTime, st.creationTime);
  assert.ok(getXattr({ path: full }, META_XATTR, Buffer.alloc(64)) >= 40);
  await fsp.unlink(full);
});

test('fallback without xattrs: permission-bit mapping, creation/change times dropped', async () => {
  const fb = await PosixBackend.create(root, { xattrs: false });
  assert.equal(fb.capabilities.xattrs, false);
  const h = await fb.createFile('fb.txt', { read: true, write: true }, FileAttribute.HIDDEN);
  await h.close();
  const full = path.join(root, 'fb.txt');
  assert.equal(readMeta({ path: full }), null, 'no record written');
  assert.equal((await fsp.stat(full)).mode & 0o7777, 0o745);
  assert.equal((await fb.stat('fb.txt'))!.attributes, FileAttribute.HIDDEN | FileAttribute.ARCHIVE);
  await fb.setAttributes('fb.txt', FileAttribute.READONLY | FileAttribute.SYSTEM);
  assert.equal((await fb.stat('fb.txt'))!.attributes, FileAttribute.READONLY | FileAttribute.SYSTEM);
  assert.equal((await fsp.stat(full)).mode & 0o7777, 0o454);
  const before = (await fb.stat('fb.txt'))!;
  const w = FT(1_700_000_000n, 123n);
  await fb.setTimes('fb.txt', { creationTime: FT(1_000_000_000n), changeTime: FT(1_000_000_000n), lastWriteTime: w });
  const after = (await fb.stat('fb.txt'))!;
  assert.equal(after.lastWriteTime, w);
  assert.equal(after.creationTime, before.creationTime);
  assert.notEqual(after.changeTime, FT(1_000_000_000n));
  await fb.mkdir('fbdir', FileAttribute.HIDDEN);
  await fb.setAttributes('fbdir', FileAttribute.HIDDEN);
  assert.equal((await fb.stat('fbdir'))!.attributes, FileAttribute.DIRECTORY);
  await fb.rmdir('fbdir');
  await fb.setAttributes('fb.txt', FileAttribute.NORMAL);
  await fb.unlink('fb.txt');
});

test('allocation size: reserve above EOF, truncate below', async () => {
  const { PosixFileHandle } = await import('../../src/vfs/posix-handle.js');
  const h = await be.createFile('alloc.bin', { read: true, write: true }, 0);
  assert.ok(h instanceof PosixFileHandle);
  await h.setAllocationSize(4096n);
  let st = await h.stat();
  assert.equal(st.size, 0n);
  assert.equal(st.allocationSize, 4096n);
  await h.write(Buffer.alloc(100, 1), 0n);
  await h.setAllocationSize(10n);
  st = await h.stat();
  assert.equal(st.size, 10n);
  await h.setAllocationSize(0n);
  st = await h.stat();
  assert.equal(st.size, 0n);
  assert.equal(st.allocationSize, 0n);
  await h.close();
  const ro = await be.open('alloc.bin', { read: true, write: false });
  await assert.rejects((ro as InstanceType<typeof PosixFileHandle>).setAllocationSize(4096n), isStatus(Status.ACCESS_DENIED));
  await ro.close();
  await be.unlink('alloc.bin');
});

test('metadata failures reject the promise, never throw synchronously (sync metadata)', async () => {
  let p: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    p = be.open('docs/absent', { read: true, write: false });
  });
  await assert.rejects(p!, isStatus(Status.OBJECT_NAME_NOT_FOUND));
  assert.doesNotThrow(() => {
    p = be.mkdir('docs/readme.TXT', 0);
  });
  await assert.rejects(p!, isStatus(Status.OBJECT_NAME_COLLISION));
  assert.doesNotThrow(() => {
    p = be.readdir('nodir/x');
  });
  await assert.rejects(p!, isStatus(Status.OBJECT_PATH_NOT_FOUND));
});

test('close waits for reads still in flight, then the handle is dead', async () => {
  const h = await be.createFile('inflight.bin', { read: true, write: true }, 0);
  await h.write(Buffer.alloc(1 << 20, 7), 0n);
  const buf = Buffer.alloc(1 << 20);
  const reading = h.read(buf, 0, buf.length, 0n);
  await h.close();
  assert.equal(await reading, 1 << 20);
  assert.equal(buf[buf.length - 1], 7);
  await assert.rejects(h.read(buf, 0, 1, 0n), isStatus(Status.INVALID_HANDLE));
  await assert.rejects(h.stat(), isStatus(Status.INVALID_HANDLE));
  await be.unlink('inflight.bin');
});

test('readdir of a directory larger than one sync slice lists everything', async () => {
  await fsp.mkdir(path.join(root, 'many'));
  const n = 1500;
  await Promise.all(Array.from({ length: n }, (_, i) => fsp.writeFile(path.join(root, 'many', `f${i}`), '')));
  const names = new Set((await be.readdir('MANY')).map((e) => e.name));
  assert.equal(names.size, n);
  assert.ok(names.has('f0') && names.has(`f${n - 1}`));
  await fsp.rm(path.join(root, 'many'), { recursive: true });
});

test('syncMetadata: false (thread-pool path) keeps the same semantics', async () => {
  const ab = await PosixBackend.create(root, { syncMetadata: false });
  assert.equal(await ab.resolveCase('docs/README.txt'), 'Docs/Readme.TXT');
  assert.equal(await ab.resolveCase('docs/missing'), null);
  await assert.rejects(ab.resolveCase('nodir/x'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  await assert.rejects(ab.stat('secret-link'), isStatus(Status.ACCESS_DENIED));
  const h = await ab.createFile('docs/Async.bin', { read: true, write: true }, FileAttribute.HIDDEN);
  assert.equal(await h.write(Buffer.from('abc'), 1n), 3);
  const out = Buffer.alloc(8);
  assert.equal(await h.read(out, 0, 8, 0n), 4);
  assert.equal((await h.stat()).attributes, FileAttribute.HIDDEN | FileAttribute.ARCHIVE);
  await h.close();
  await assert.rejects(ab.createFile('DOCS/async.BIN', { read: true, write: true }, 0), isStatus(Status.OBJECT_NAME_COLLISION));
  await ab.mkdir('AsyncDir', 0);
  await ab.rename('docs/async.bin', 'asyncdir/moved', false);
  assert.deepEqual((await ab.readdir('asyncdir')).map((e) => e.name), ['moved']);
  const mtime = FILETIME_UNIX_EPOCH + 1_600_000_000n * 10_000_000n;
  await ab.setTimes('asyncdir/moved', { lastWriteTime: mtime, creationTime: mtime - 10n });
  const st = (await ab.stat('asyncdir/moved'))!;
  assert.equal(st.lastWriteTime, mtime);
  assert.equal(st.creationTime, mtime - 10n);
  await ab.setAttributes('asyncdir/moved', FileAttribute.READONLY);
  await assert.rejects(ab.open('asyncdir/moved', { read: true, write: true }), isStatus(Status.ACCESS_DENIED));
  await ab.setAttributes('asyncdir/moved', FileAttribute.NORMAL);
  await assert.rejects(ab.rmdir('asyncdir'), isStatus(Status.DIRECTORY_NOT_EMPTY));
  await ab.unlink('asyncdir/MOVED');
  await ab.rmdir('asyncdir');
  assert.equal(await ab.stat('asyncdir'), null);
  assert.ok((await ab.fsInfo()).totalBytes > 0n);
});

// ---------- memory backend: same contract ----------

test('MemoryBackend follows the same contract', async () => {
  const { MemoryBackend } = await import('../../src/vfs/memory.js');
  const m = new MemoryBackend({ capacityBytes: 1n << 20n });
  await m.mkdir('Docs');
  const h = await m.createFile('docs/A.txt', { read: true, write: true }, 0);
  assert.equal(await h.write(Buffer.from('hello'), 2n), 5);
  const out = Buffer.alloc(10);
  assert.equal(await h.read(out, 0, 10, 0n), 7);
  assert.deepEqual(out.subarray(0, 7), Buffer.from('\0\0hello'));
  assert.equal((await h.stat()).attributes, FileAttribute.ARCHIVE);
  await h.close();
  assert.equal(await m.resolveCase('DOCS/a.TXT'), 'Docs/A.txt');
  assert.equal(await m.resolveCase('docs/none'), null);
  await assert.rejects(m.resolveCase('none/x'), isStatus(Status.OBJECT_PATH_NOT_FOUND));
  await assert.rejects(m.createFile('docs/a.txt', { read: true, write: false }, 0), isStatus(Status.OBJECT_NAME_COLLISION));
  await assert.rejects(m.rmdir('docs'), isStatus(Status.DIRECTORY_NOT_EMPTY));
  await m.rename('docs/a.txt', 'docs/a.TXT', false);
  assert.deepEqual((await m.readdir('docs')).map((e) => e.name), ['a.TXT']);
  await assert.rejects(m.rename('docs', 'docs/x', false), isStatus(Status.INVALID_PARAMETER));
  await m.setAttributes('docs/a.txt', FileAttribute.READONLY);
  await assert.rejects(m.open('docs/a.txt', { read: false, write: true }), isStatus(Status.ACCESS_DENIED));
  const big = await m.createFile('big', { read: true, write: true }, 0);
  await assert.rejects(big.write(Buffer.alloc(2 << 20), 0n), isStatus(Status.DISK_FULL));
  await big.close();
  await m.unlink('docs/a.txt');
  await m.rmdir('docs');
  assert.equal(await m.stat('docs'), null);
});
