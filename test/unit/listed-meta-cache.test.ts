// src/vfs/listed-meta-cache.ts: records of listed files, kept while inode and ctime hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListedMetaCache } from '../../src/vfs/listed-meta-cache.js';
import type { StatFields } from '../../src/native/statx.js';

const stat = (ino: bigint, ctimeNs: bigint): StatFields => ({
  mode: 0o100644n,
  nlink: 1n,
  ino,
  size: 0n,
  blocks: 0n,
  atimeNs: ctimeNs,
  mtimeNs: ctimeNs,
  ctimeNs,
  birthtimeNs: ctimeNs,
  isDirectory: () => false,
  isSymbolicLink: () => false,
});
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const meta = { rec: { attributes: 2 }, eaSize: 0 };

test('an entry holds for the same inode and ctime only', () => {
  const c = new ListedMetaCache();
  const old = nowNs() - 10_000_000_000n;
  c.set('/s/a', stat(7n, old), meta);
  assert.deepEqual(c.get('/s/a', stat(7n, old))?.rec, meta.rec);
  assert.equal(c.get('/s/a', stat(7n, old + 1n)), undefined, 'ctime moved');
  assert.equal(c.get('/s/a', stat(8n, old)), undefined, 'another file under the name');
  assert.equal(c.get('/s/b', stat(7n, old)), undefined);
});

test('a record read with a ctime of the last few ticks is not kept, and drops what was kept', () => {
  const c = new ListedMetaCache();
  const old = nowNs() - 10_000_000_000n;
  c.set('/s/a', stat(7n, old), meta);
  const recent = nowNs() - 1_000_000n;
  c.set('/s/a', stat(7n, recent), meta);
  assert.equal(c.get('/s/a', stat(7n, recent)), undefined);
  assert.equal(c.get('/s/a', stat(7n, old)), undefined);
});

test('past its limit the cache starts over', () => {
  const c = new ListedMetaCache(2);
  const old = nowNs() - 10_000_000_000n;
  c.set('/s/a', stat(1n, old), meta);
  c.set('/s/b', stat(2n, old), meta);
  c.set('/s/c', stat(3n, old), meta);
  assert.equal(c.get('/s/a', stat(1n, old)), undefined);
  assert.ok(c.get('/s/c', stat(3n, old)));
});
