import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryPresence } from '../../src/vfs/posix-watch.js';

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
  assert.deepEqual(p.renamed('gone', undefined), { kind: 'removed', isDirectory: false });
});

test('entry presence: forget() after lost events goes back to looking', () => {
  const p = new EntryPresence([{ name: 'a', isDirectory: false }]);
  p.forget();
  assert.deepEqual(p.renamed('a', { isDirectory: false }), { kind: 'added', isDirectory: false });
});
