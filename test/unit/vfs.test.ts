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

test('setTimes sets write/access times, ignores create/change', async () => {
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

// ---------- memory backend: same contract ----------

test('MemoryBackend follows the same contract', async () => {
  const { MemoryBackend } = await import('../../src/vfs/memory.js');
  const m = new MemoryBackend({ capacityBytes: 1n << 20n });
  await m.mkdir('Docs', 0);
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
