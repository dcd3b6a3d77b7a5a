import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntryPresence, watchDirectory } from '../../src/vfs/posix-watch.js';
import { OwnRenames } from '../../src/vfs/own-renames.js';

/**
 * Watches `root` and records its events as "kind name"; `until(n)` waits (up to 2 s) for n of
 * them. `names`: leave out 'modified'.
 */
function record(root: string, recursive: boolean, o: { names?: boolean; renames?: OwnRenames } = {}) {
  const seen: string[] = [];
  const w = watchDirectory(root, recursive, (e) => {
    if (!o.names || e.kind !== 'modified') seen.push(`${e.kind} ${e.name}`);
  }, () => seen.push('overflow'), o.renames);
  const until = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  return { seen, until, w };
}

/** A rename as the backend makes one: noted, then done. */
function renameOwn(renames: OwnRenames, from: string, to: string): void {
  renames.note(from, to);
  renameSync(from, to);
}

test('entry presence: a known name flips with each rename event, whatever a late look finds', () => {
  const p = new EntryPresence([{ name: 'a.txt', isDirectory: false }]);
  // Deleted and created again before either event was handled: the file is there both times.
  assert.deepEqual(p.renamed('a.txt', { isDirectory: false }), { kind: 'removed', isDirectory: false });
  assert.deepEqual(p.renamed('a.txt', { isDirectory: false }), { kind: 'added', isDirectory: false });
});

test('entry presence: a new name is looked at; a removed directory stays a directory', () => {
  const p = new EntryPresence();
  assert.deepEqual(p.renamed('d', { isDirectory: true }), { kind: 'added', isDirectory: true });
  assert.deepEqual(p.renamed('d', undefined), { kind: 'removed', isDirectory: true });
  assert.deepEqual(p.renamed('gone', undefined), { kind: 'removed', isDirectory: undefined });
});

test('entry presence: forget() after lost events goes back to looking', () => {
  const p = new EntryPresence([{ name: 'a', isDirectory: false }]);
  p.forget();
  assert.deepEqual(p.renamed('a', { isDirectory: false }), { kind: 'added', isDirectory: false });
});

test('entry presence: a directory still there as the same one has only changed; one made again flips', () => {
  const p = new EntryPresence([{ name: 'd', isDirectory: true, id: '7:100' }]);
  // An attribute change of a subdirectory comes as 'rename' from libuv.
  assert.deepEqual(p.renamed('d', { isDirectory: true, id: '7:100' }), { kind: 'modified', isDirectory: true });
  // Removed and made again (the inode number handed out again) before the events were handled.
  assert.deepEqual(p.renamed('d', { isDirectory: true, id: '7:200' }), { kind: 'removed', isDirectory: true });
  assert.deepEqual(p.renamed('d', { isDirectory: true, id: '7:200' }), { kind: 'added', isDirectory: true });
});

test('entry presence: with all entries known, a new name gone before the look was still added first', () => {
  const p = new EntryPresence([]);
  assert.deepEqual(p.renamed('t', undefined), { kind: 'added', isDirectory: undefined });
  assert.deepEqual(p.renamed('t', undefined), { kind: 'removed', isDirectory: undefined });
});

test('recursive watch: events in subdirectories made after it started, at any depth, relative and in order', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb3d-watch-'));
  const { seen, until, w } = record(root, true, { names: true });
  try {
    mkdirSync(join(root, 'd'));
    // As the server does after each mkdir: libuv reports this attribute change as a 'rename' too.
    chmodSync(join(root, 'd'), 0o755);
    await until(1);
    writeFileSync(join(root, 'd', 'f1'), 'x');
    await until(2);
    // Made and removed before the watcher looks: both still reported, in order.
    writeFileSync(join(root, 'd', 'tmp'), 'x');
    rmSync(join(root, 'd', 'tmp'));
    await until(4);
    // Made before the watcher saw the directory: found by looking into it.
    mkdirSync(join(root, 'd', 'e'));
    writeFileSync(join(root, 'd', 'e', 'f2'), 'x');
    mkdirSync(join(root, 'x', 'y', 'z'), { recursive: true });
    writeFileSync(join(root, 'x', 'y', 'z', 'g'), 'x');
    await until(10);
    rmSync(join(root, 'x', 'y', 'z', 'g'));
    rmdirSync(join(root, 'x', 'y', 'z'));
    await until(12);
    // Settle, so that a duplicate would show.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, [
      'added d',
      'added d/f1',
      'added d/tmp',
      'removed d/tmp',
      'added d/e',
      'added d/e/f2',
      'added x',
      'added x/y',
      'added x/y/z',
      'added x/y/z/g',
      'removed x/y/z/g',
      'removed x/y/z',
    ]);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('recursive watch: a directory moved out stops reporting, under its old name or any', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb3d-watch-'));
  const outside = mkdtempSync(join(tmpdir(), 'smb3d-watch-out-'));
  mkdirSync(join(root, 'm', 'sub'), { recursive: true });
  const { seen, until, w } = record(root, true, { names: true });
  try {
    writeFileSync(join(root, 'm', 'sub', 'new'), 'x');
    await until(1);
    renameSync(join(root, 'm'), join(outside, 'm2'));
    await until(2);
    writeFileSync(join(outside, 'm2', 'sub', 'after'), 'x');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, ['added m/sub/new', 'removed m']);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('watch: a new entry is reported added alone; a later attribute change as modified', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb3d-watch-'));
  const { seen, until, w } = record(root, false);
  try {
    // As the server makes a directory: its mode is set right after.
    mkdirSync(join(root, 'd'));
    chmodSync(join(root, 'd'), 0o755);
    await until(1);
    await new Promise((r) => setTimeout(r, 50));
    chmodSync(join(root, 'd'), 0o700);
    await until(2);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, ['added d', 'modified d']);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('watch: the server\'s own rename within a directory is a RENAMED pair; into another directory, removed and added', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb3d-watch-'));
  const renames = new OwnRenames();
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'a'), 'x');
  const { seen, until, w } = record(root, true, { names: true, renames });
  try {
    renameOwn(renames, join(root, 'a'), join(root, 'b'));
    await until(2);
    renameOwn(renames, join(root, 'b'), join(root, 'sub', 'c'));
    await until(4);
    // Another process's rename is not known as one.
    renameSync(join(root, 'sub', 'c'), join(root, 'sub', 'd'));
    await until(6);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, ['renamed-old a', 'renamed-new b', 'removed b', 'added sub/c', 'removed sub/c', 'added sub/d']);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('watch: a directory made, its mode set and renamed before the watch looks is added, then renamed; its entries follow it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb3d-watch-'));
  const renames = new OwnRenames();
  const { seen, until, w } = record(root, true, { names: true, renames });
  try {
    // As smbtorture's smb2.notify.rec does through the server: the attribute change of a directory
    // comes as a 'rename' event too, and all three are handled after the rename happened.
    mkdirSync(join(root, 'd'));
    chmodSync(join(root, 'd'), 0o755);
    renameOwn(renames, join(root, 'd'), join(root, 'd-r'));
    await until(3);
    writeFileSync(join(root, 'd-r', 'f'), 'x');
    await until(4);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, ['added d', 'renamed-old d', 'renamed-new d-r', 'added d-r/f']);
  } finally {
    w.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('own renames: kept per directory for a while, each paired once per watch, dropped when the rename failed', () => {
  let now = 0;
  const r = new OwnRenames(() => now);
  r.note('/s/a', '/s/b');
  r.note('/s/x', '/t/x');
  r.note('/s/f', '/s/g');
  r.drop('/s/f', '/s/g');
  const w1 = new WeakSet<object>();
  const w2 = new WeakSet<object>();
  assert.equal(r.targetOf('/s/a', w1), '/s/b');
  assert.equal(r.targetOf('/s/a', w1), undefined);
  assert.equal(r.targetOf('/s/a', w2), '/s/b');
  assert.equal(r.targetOf('/s/x', w1), undefined);
  assert.equal(r.targetOf('/s/f', w1), undefined);
  r.note('/s/c', '/s/d');
  now += OwnRenames.TTL_MS + 1;
  assert.equal(r.targetOf('/s/c', w1), undefined);
});
