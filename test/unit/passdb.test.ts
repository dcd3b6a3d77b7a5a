import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassDb, ntHash, parsePassDb, validateUserName } from '../../src/auth/passdb.js';
import { ConfigError } from '../../src/config/errors.js';

async function tmpdir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'smb3d-passdb-'));
}

test('ntHash matches [MS-NLMP] 4.2.1 (password "Password")', async () => {
  assert.equal((await ntHash('Password')).toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
  // MD4 of the empty string (RFC 1320 A.5), since UTF-16LE of "" is empty.
  assert.equal((await ntHash('')).toString('hex'), '31d6cfe0d16ae931b73c59d7e0c089c0');
});

test('missing file is an empty database; add/get/list/remove round-trip through the file', async () => {
  const dir = await tmpdir();
  const file = path.join(dir, 'nested', 'passdb');
  const db = await PassDb.open(file);
  assert.deepEqual(db.list(), []);
  assert.equal(await db.get('alice'), undefined);

  await db.add('Alice', 'Password');
  await db.add('bob', 'secret');
  const st = await stat(file);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);

  const text = await readFile(file, 'utf8');
  assert.match(text, /^#/);
  assert.match(text, /^Alice:A4F49C406510BDCAB6824EE7C30FD852$/m);

  const again = await PassDb.open(file);
  assert.deepEqual(again.list(), ['Alice', 'bob']);
  const rec = await again.get('ALICE');
  assert.equal(rec?.name, 'Alice');
  assert.equal(rec?.ntHash.toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');

  // Changing a password keeps one record per (case-insensitive) name.
  await again.add('alice', 'other');
  assert.deepEqual(again.list(), ['alice', 'bob']);
  assert.deepEqual((await again.get('Alice'))?.ntHash, await ntHash('other'));

  assert.equal(await again.remove('BOB'), true);
  assert.equal(await again.remove('bob'), false);
  assert.deepEqual((await PassDb.open(file)).list(), ['alice']);
  // No temp files left behind by the atomic writes.
  assert.deepEqual(await readdir(path.dirname(file)), ['passdb']);
});

test('a running database sees changes made by another writer', async () => {
  const dir = await tmpdir();
  const file = path.join(dir, 'passdb');
  const server = await PassDb.open(file);
  const admin = await PassDb.open(file);
  await admin.add('carol', 'pw');
  assert.equal((await server.get('carol'))?.name, 'carol');
  await admin.remove('carol');
  assert.equal(await server.get('carol'), undefined);
});

test('warns when the file is readable by others', async () => {
  const dir = await tmpdir();
  const file = path.join(dir, 'passdb');
  await writeFile(file, 'dave:' + '00'.repeat(16) + '\n');
  await chmod(file, 0o644);
  const warnings: string[] = [];
  const db = await PassDb.open(file, { warn: (m) => warnings.push(m) });
  assert.deepEqual(db.list(), ['dave']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /chmod 600/);
  await chmod(file, 0o600);
  const quiet: string[] = [];
  await PassDb.open(file, { warn: (m) => quiet.push(m) });
  assert.deepEqual(quiet, []);
});

test('malformed lines are errors with file and line', () => {
  assert.throws(() => parsePassDb('# header\nok:' + 'ab'.repeat(16) + '\nbad:1234\n', '/x/passdb'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.line, 3);
    assert.match(err.message, /^\/x\/passdb:3: /);
    return true;
  });
  assert.throws(() => parsePassDb('nocolon\n', 'p'), /p:1:/);
});

test('user names that would break the format or NTLM parsing are refused', async () => {
  validateUserName('alice.smith-2');
  for (const bad of ['', ' a', 'a:b', 'dom\\user', 'a\nb', 'x'.repeat(105)]) assert.throws(() => validateUserName(bad));
  const db = await PassDb.open(path.join(await tmpdir(), 'p'));
  await assert.rejects(db.add('a:b', 'pw'), /invalid user name/);
});
