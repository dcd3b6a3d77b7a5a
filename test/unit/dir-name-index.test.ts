// Case-insensitive lookups in a big directory come from the name index instead of a readdir per
// lookup, and the index follows both the server's own changes (at once) and anyone else's
// (through inotify).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PathResolver } from '../../src/vfs/posix-resolve.js';
import { syncMetadataOps, type MetaOps } from '../../src/vfs/posix-ops.js';
import { DirNameIndex, indexedOps } from '../../src/vfs/dir-name-index.js';

async function setup(count: number) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'smb3d-names-'));
  mkdirSync(path.join(root, 'big'));
  for (let i = 0; i < count; i++) writeFileSync(path.join(root, 'big', `f${i}.dat`), '');
  let readdirs = 0;
  const counting: MetaOps = { ...syncMetadataOps, readdir: (p) => (readdirs++, syncMetadataOps.readdir(p)) };
  const index = new DirNameIndex({ minEntries: 32 });
  const ops = indexedOps(counting, index);
  const resolver = new PathResolver(root, ops, index);
  return { root, ops, index, resolver, readdirs: () => readdirs };
}

/** Runs `run` on a fresh setup of `count` files, then closes the index's watches and removes it all. */
async function inDir(count: number, run: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>): Promise<void> {
  const s = await setup(count);
  try {
    await run(s);
  } finally {
    s.index.clear();
    await rm(s.root, { recursive: true, force: true });
  }
}

/** Waits until `f` holds (inotify events arrive through the event loop). */
async function eventually(f: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await f()) return;
    await sleep(10);
  }
  assert.fail(`never: ${what}`);
}

test('a big directory is read once for many case-insensitive lookups of new names', async () => {
  await inDir(200, async (s) => {
    for (let i = 0; i < 100; i++) assert.equal((await s.resolver.entry(`big/new${i}.dat`)).exists, false);
    assert.equal(s.readdirs(), 1, 'the listing is read for the first miss only');
    const hit = await s.resolver.entry('big/F17.DAT');
    assert.deepEqual([hit.exists, hit.name], [true, 'f17.dat']);
    assert.equal(s.readdirs(), 1);
  });
});

test('a small directory is read each time and not indexed', async () => {
  await inDir(5, async (s) => {
    await s.resolver.entry('big/x1');
    await s.resolver.entry('big/x2');
    assert.equal(s.readdirs(), 2);
    assert.equal(s.index.size, 0);
  });
});

test("the server's own changes are in the index at once", async () => {
  await inDir(100, async (s) => {
    const dir = path.join(s.root, 'big');
    await s.resolver.entry('big/none'); // builds the index
    await s.ops.close(await s.ops.open(path.join(dir, 'Foo.txt'), fsc.O_CREAT | fsc.O_EXCL | fsc.O_RDWR, 0o644));
    assert.equal((await s.resolver.entry('big/FOO.TXT')).name, 'Foo.txt', 'found before any inotify event could arrive');
    await s.ops.rename(path.join(dir, 'Foo.txt'), path.join(dir, 'Bar.txt'));
    assert.equal((await s.resolver.entry('big/foo.txt')).exists, false);
    assert.equal((await s.resolver.entry('big/BAR.txt')).name, 'Bar.txt');
    await s.ops.unlink(path.join(dir, 'Bar.txt'));
    assert.equal((await s.resolver.entry('big/bar.TXT')).exists, false);
    await s.ops.mkdir(path.join(dir, 'Sub'), 0o755);
    assert.equal((await s.resolver.entry('big/SUB')).name, 'Sub');
    assert.equal(s.readdirs(), 1);
  });
});

test("others' changes reach the index through inotify", async () => {
  await inDir(100, async (s) => {
    const dir = path.join(s.root, 'big');
    await s.resolver.entry('big/none');
    writeFileSync(path.join(dir, 'Ext.TXT'), 'x');
    await eventually(async () => (await s.resolver.entry('big/ext.txt')).name === 'Ext.TXT', 'a file created outside is found by another case');
    unlinkSync(path.join(dir, 'Ext.TXT'));
    await eventually(async () => !(await s.resolver.entry('big/EXT.txt')).exists, 'a file removed outside is gone');
    renameSync(path.join(dir, 'f3.dat'), path.join(dir, 'Moved.dat'));
    await eventually(async () => (await s.resolver.entry('big/moved.DAT')).name === 'Moved.dat', 'a rename outside is seen');
    assert.equal((await s.resolver.entry('big/F3.dat')).exists, false);
    assert.equal(s.readdirs(), 1, 'all of it without reading the directory again');
  });
});

test('a directory moved or removed behind our back is read again, never answered from its old index', async () => {
  await inDir(100, async (s) => {
    await s.resolver.entry('big/none');
    assert.equal(s.index.size, 1);
    // Replace the directory with another of the same name and other contents.
    renameSync(path.join(s.root, 'big'), path.join(s.root, 'old'));
    mkdirSync(path.join(s.root, 'big'));
    for (let i = 0; i < 40; i++) writeFileSync(path.join(s.root, 'big', `G${i}.bin`), '');
    await eventually(async () => s.index.size === 0, 'the index of the moved directory is dropped');
    assert.equal((await s.resolver.entry('big/g7.BIN')).name, 'G7.bin');
    assert.equal((await s.resolver.entry('big/F7.dat')).exists, false);
    rmSync(path.join(s.root, 'big'), { recursive: true });
    await eventually(async () => s.index.size === 0, 'the index of the removed directory is dropped');
  });
});

test('our own rename of an indexed directory forgets its index at once', async () => {
  await inDir(100, async (s) => {
    await s.resolver.entry('big/none');
    await s.ops.rename(path.join(s.root, 'big'), path.join(s.root, 'old'));
    await s.ops.mkdir(path.join(s.root, 'big'), 0o755);
    writeFileSync(path.join(s.root, 'big', 'F1.DAT'), '');
    // No wait for events: the old index must already be gone.
    assert.equal((await s.resolver.entry('big/f1.dat')).name, 'F1.DAT');
  });
});

test('the index holds at most maxDirs directories, dropping the least recently used', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'smb3d-names-'));
  const index = new DirNameIndex({ maxDirs: 2, minEntries: 1 });
  try {
    for (const d of ['a', 'b', 'c']) {
      mkdirSync(path.join(root, d));
      writeFileSync(path.join(root, d, 'x'), '');
      index.build(path.join(root, d), ['x']);
      if (d === 'b') index.lookup(path.join(root, 'a'), 'X'); // a is now more recent than b
    }
    assert.equal(index.size, 2);
    assert.notEqual(index.lookup(path.join(root, 'a'), 'X'), undefined);
    assert.equal(index.lookup(path.join(root, 'b'), 'X'), undefined);
    assert.notEqual(index.lookup(path.join(root, 'c'), 'X'), undefined);
  } finally {
    index.clear();
    await rm(root, { recursive: true, force: true });
  }
});
