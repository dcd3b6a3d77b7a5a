import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  available,
  getXattr,
  isUnsupported,
  libcError,
  removeXattr,
  setFileTimes,
  setXattr,
  XATTR_CREATE,
  FALLOC_FL_KEEP_SIZE,
  fallocate,
} from '../../src/native/libc.js';
import { lstatFields, statxAvailable } from '../../src/native/statx.js';

/** A directory on a file system with user xattrs: /tmp when it has them, else the repo's tmp/ (ext4). */
async function xattrDir(): Promise<string> {
  for (const parent of [os.tmpdir(), path.resolve('tmp')]) {
    await fsp.mkdir(parent, { recursive: true });
    const dir = await fsp.mkdtemp(path.join(parent, 'smb3d-native-'));
    try {
      setXattr({ path: dir }, 'user.probe', Buffer.from('x'));
      return dir;
    } catch {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }
  throw new Error('no directory with user xattrs found');
}

let dir: string;

before(async () => {
  if (process.platform === 'linux') dir = await xattrDir();
});

after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

test('libc loads on Linux', () => {
  assert.equal(available, process.platform === 'linux');
});

test('errno numbers become Node-style codes', () => {
  const cases: [number, string][] = [
    [2, 'ENOENT'],
    [13, 'EACCES'],
    [34, 'ERANGE'],
    [61, 'ENODATA'],
    [95, 'ENOTSUP'],
    [1, 'EPERM'],
  ];
  for (const [n, code] of cases) {
    const err = libcError(n, 'getxattr', '/x');
    assert.equal(err.code, code);
    assert.equal(err.errno, -n);
    assert.equal(err.syscall, 'getxattr');
    assert.equal(err.path, '/x');
    assert.match(err.message, new RegExp(`^${code}: getxattr '/x'`));
  }
  assert.equal(libcError(99999, 'x').code, 'E99999');
  assert.equal(isUnsupported(libcError(95, 'x')), true);
  assert.equal(isUnsupported(libcError(61, 'x')), false);
});

test('xattr roundtrip by path, without following, and by descriptor', { skip: process.platform !== 'linux' }, async () => {
  const file = path.join(dir, 'f');
  await fsp.writeFile(file, 'data');
  const buf = Buffer.alloc(64);
  assert.equal(getXattr({ path: file }, 'user.test', buf), -1, 'missing attribute reads as -1');

  const value = Buffer.from([0, 1, 2, 0xff, 0, 7]);
  setXattr({ path: file }, 'user.test', value);
  const n = getXattr({ path: file }, 'user.test', buf);
  assert.equal(n, value.length);
  assert.deepEqual(buf.subarray(0, n), value);
  assert.equal(getXattr({ path: file, follow: false }, 'user.test', buf), value.length);

  const fh = await fsp.open(file, 'r');
  try {
    setXattr({ fd: fh.fd }, 'user.other', Buffer.from('by-fd'));
    const m = getXattr({ fd: fh.fd }, 'user.other', buf);
    assert.equal(buf.subarray(0, m).toString(), 'by-fd');
  } finally {
    await fh.close();
  }

  // A buffer too small is ERANGE, not a silent truncation.
  assert.throws(() => getXattr({ path: file }, 'user.test', Buffer.alloc(2)), (e: NodeJS.ErrnoException) => e.code === 'ERANGE');
  assert.throws(() => setXattr({ path: file }, 'user.test', value, XATTR_CREATE), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');

  removeXattr({ path: file }, 'user.test');
  assert.equal(getXattr({ path: file }, 'user.test', buf), -1);
  removeXattr({ path: file }, 'user.test'); // already gone: not an error

  assert.throws(
    () => getXattr({ path: path.join(dir, 'missing') }, 'user.test', buf),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.errno === -2 && e.syscall === 'getxattr',
  );
  // Linux refuses user xattrs on symlinks themselves.
  await fsp.symlink(file, path.join(dir, 'link'));
  assert.throws(() => setXattr({ path: path.join(dir, 'link'), follow: false }, 'user.x', Buffer.from('1')), (e: NodeJS.ErrnoException) =>
    ['EPERM', 'ENOTSUP'].includes(e.code ?? ''),
  );
});

test('setFileTimes is exact to the nanosecond and can leave a time alone', { skip: process.platform !== 'linux' }, async () => {
  const file = path.join(dir, 't');
  await fsp.writeFile(file, '');
  const atime = 1_600_000_000_123_456_789n;
  const mtime = 1_500_000_000_987_654_321n;
  setFileTimes({ path: file }, { atimeNs: atime, mtimeNs: mtime });
  let st = await fsp.stat(file, { bigint: true });
  assert.equal(st.atimeNs, atime);
  assert.equal(st.mtimeNs, mtime);

  // Only mtime: atime untouched (UTIME_OMIT).
  setFileTimes({ path: file }, { mtimeNs: 1_700_000_000_000_000_100n });
  st = await fsp.stat(file, { bigint: true });
  assert.equal(st.atimeNs, atime);
  assert.equal(st.mtimeNs, 1_700_000_000_000_000_100n);

  // Before 1970 and after 2262 (past a signed 64-bit count of ns).
  const fh = await fsp.open(file, 'r');
  try {
    const y1968 = -63_158_400_000_000_000n + 500n;
    setFileTimes({ fd: fh.fd }, { atimeNs: y1968 });
    st = await fh.stat({ bigint: true });
    assert.equal(st.atimeNs, y1968);
    const y2446 = 15_032_385_535n * 1_000_000_000n;
    setFileTimes({ fd: fh.fd }, { mtimeNs: y2446 });
    st = await fh.stat({ bigint: true });
    assert.equal(st.mtimeNs, y2446);
  } finally {
    await fh.close();
  }
  assert.throws(() => setFileTimes({ path: path.join(dir, 'none') }, { mtimeNs: 0n }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('fallocate with KEEP_SIZE reserves blocks only', { skip: process.platform !== 'linux' }, async () => {
  const fh = await fsp.open(path.join(dir, 'alloc'), 'w');
  try {
    fallocate(fh.fd, FALLOC_FL_KEEP_SIZE, 0n, 8192n);
    const st = await fh.stat({ bigint: true });
    assert.equal(st.size, 0n);
    assert.ok(st.blocks * 512n >= 8192n);
    assert.throws(() => fallocate(fh.fd, 0, 0n, -1n), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
  } finally {
    await fh.close();
  }
});

test('lstatFields (statx) reads what lstat reads, for a file, a directory and a symlink; null for a missing path', { skip: statxAvailable ? false : 'statx not available (koffi)' }, async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-statx-'));
  try {
    await fsp.writeFile(path.join(dir, 'f'), Buffer.alloc(12345, 1));
    await fsp.mkdir(path.join(dir, 'd'));
    await fsp.symlink('f', path.join(dir, 'l'));
    for (const name of ['f', 'd', 'l']) {
      const p = path.join(dir, name);
      const want = await fsp.lstat(p, { bigint: true });
      const got = lstatFields(p)!;
      for (const k of ['mode', 'nlink', 'ino', 'size', 'blocks', 'atimeNs', 'mtimeNs', 'ctimeNs', 'birthtimeNs'] as const) assert.equal(got[k], want[k], `${name}: ${k}`);
      assert.equal(got.isDirectory(), want.isDirectory(), `${name}: isDirectory`);
      assert.equal(got.isSymbolicLink(), want.isSymbolicLink(), `${name}: isSymbolicLink`);
    }
    assert.equal(lstatFields(path.join(dir, 'missing')), null);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
