import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import pino from 'pino';
import { run, type CliIO } from '../../src/cli/run.js';
import { parseSmbUrl } from '../../src/cli/transfer.js';
import { createServer, type SmbServer } from '../../src/index.js';
import { ntHashFromPassword } from '../../src/auth/index.js';

let server: SmbServer;
let share: string;
let local: string;
let url: string;

function memoryIO(stdinText: string): CliIO & { err: () => string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d) => (err += d));
  return { stdin: Readable.from([stdinText]), stdout: new PassThrough(), stderr, err: () => err };
}

before(async () => {
  share = await mkdtemp(path.join(os.tmpdir(), 'smb3d-cli-share-'));
  local = await mkdtemp(path.join(os.tmpdir(), 'smb3d-cli-local-'));
  const ntHash = await ntHashFromPassword('pw-1');
  server = createServer({
    shares: [{ name: 'data', path: share, readOnly: false, guestOk: false, browseable: true, encrypt: 'if_required' }],
    users: { get: async (n) => (n === 'bob' ? { name: 'bob', ntHash } : undefined) },
    port: 0,
    listen: ['127.0.0.1'],
    logger: pino({ level: 'silent' }),
  });
  await server.listen();
  url = `//127.0.0.1:${server.addresses()[0]!.port}/data`;
});

after(async () => {
  await server.close();
  await rm(share, { recursive: true, force: true });
  await rm(local, { recursive: true, force: true });
});

test('parseSmbUrl: host, port, share and path', () => {
  assert.deepEqual(parseSmbUrl('//h:4445/s/a/b.txt'), { host: 'h', port: 4445, share: 's', path: 'a/b.txt' });
  assert.deepEqual(parseSmbUrl('\\\\h\\s\\x'), { host: 'h', port: 445, share: 's', path: 'x' });
  assert.throws(() => parseSmbUrl('//h/s'), /not \/\/HOST/);
});

test('smb3d put then get round-trips a file, with plain progress lines off a terminal', async () => {
  const data = randomBytes(5 * 1024 * 1024 + 3);
  await writeFile(path.join(local, 'up.bin'), data);
  const io = memoryIO('pw-1\n');
  assert.equal(await run(['put', path.join(local, 'up.bin'), `${url}/up.bin`, '-U', 'bob', '--password-stdin'], io), 0, io.err());
  assert.match(io.err(), /^done: 5242883 bytes 100% [\d.]+ MB\/s$/m);
  assert.deepEqual(await readFile(path.join(share, 'up.bin')), data);
  const io2 = memoryIO('pw-1\n');
  assert.equal(await run(['get', `${url}/up.bin`, path.join(local, 'down.bin'), '-U', 'bob', '--password-stdin'], io2), 0, io2.err());
  assert.deepEqual(await readFile(path.join(local, 'down.bin')), data);
});

test('smb3d get of a missing file exits 1 naming the NTSTATUS; a bad password too', async () => {
  const io = memoryIO('pw-1\n');
  assert.equal(await run(['get', `${url}/missing`, path.join(local, 'x'), '-U', 'bob', '--password-stdin'], io), 1);
  assert.match(io.err(), /STATUS_OBJECT_NAME_NOT_FOUND/);
  const io2 = memoryIO('wrong\n');
  assert.equal(await run(['put', path.join(local, 'up.bin'), `${url}/y`, '-U', 'bob', '--password-stdin'], io2), 1);
  assert.match(io2.err(), /STATUS_LOGON_FAILURE/);
});

test('smb3d get without -U is a usage error', async () => {
  const io = memoryIO('');
  assert.equal(await run(['get', `${url}/a`, 'b'], io), 2);
  assert.match(io.err(), /-U USER is required/);
});
