// smb3d copy / get / put against an smb3d in this process: both directions, a destination that is
// a directory, multichannel, the exit status per kind of failure, --resume, and reconnecting after
// a lost connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { run, type CliIO } from '../../src/cli/run.js';
import { copy } from '../../src/cli/copy.js';
import { parseSmbUrl } from '../../src/cli/smb-url.js';
import { progressReporter } from '../../src/cli/progress.js';
import { connect, SmbError, type ConnectOptions } from '../../src/client/index.js';
import { Command } from '../../src/protocol/constants.js';
import { Status } from '../../src/protocol/status.js';
import { startTestServer, TEST_PASSWORD, TEST_USER, type TestServer } from '../harness/test-server.js';

let ts: TestServer;
let local: string;
let url: string;
const MiB = 1024 * 1024;

function memoryIO(stdinText: string): CliIO & { err: () => string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d) => (err += d));
  return { stdin: Readable.from([stdinText]), stdout: new PassThrough(), stderr, err: () => err };
}

/** Runs `smb3d ARGS -U alice --password-stdin` with the right (or the given) password. */
async function smb3d(args: string[], password = TEST_PASSWORD) {
  const io = memoryIO(`${password}\n`);
  const code = await run([...args, '-U', TEST_USER, '--password-stdin'], io);
  return { code, err: io.err() };
}

before(async () => {
  // The share's address is advertised RSS-capable, so the client may bind up to 4 channels to it.
  ts = await startTestServer({ prefix: 'smb3d-cli-share-', interfaces: [{ name: '127.0.0.1', speed: 10_000_000_000, capabilities: ['RSS'] }] });
  local = await mkdtemp(path.join(os.tmpdir(), 'smb3d-cli-local-'));
  url = `//127.0.0.1:${ts.port}/data`;
});

after(async () => {
  await ts.stop();
  await rm(local, { recursive: true, force: true });
});

test('parseSmbUrl: host, port, share and path', () => {
  assert.deepEqual(parseSmbUrl('//h:4445/s/a/b.txt'), { host: 'h', port: 4445, share: 's', path: 'a/b.txt' });
  assert.deepEqual(parseSmbUrl('\\\\h\\s\\x'), { host: 'h', port: 445, share: 's', path: 'x' });
  assert.deepEqual(parseSmbUrl('smb://[::1]:99/s/'), { host: '::1', port: 99, share: 's', path: '' });
  assert.throws(() => parseSmbUrl('//h'), /not \/\/HOST/);
});

test('copy up then down round-trips a file over 3 channels, with plain progress lines off a terminal', async () => {
  const data = randomBytes(5 * MiB + 3);
  await writeFile(path.join(local, 'up.bin'), data);
  const up = await smb3d(['copy', path.join(local, 'up.bin'), `${url}/up.bin`, '--channels', '3']);
  assert.equal(up.code, 0, up.err);
  assert.match(up.err, /^done: 100% 5\.00 MiB of 5\.00 MiB, [\d.]+ \w+\/s, 3 channels in \d\d:\d\d$/m);
  assert.deepEqual(await readFile(path.join(ts.dir, 'up.bin')), data);
  const down = await smb3d(['get', `${url}/up.bin`, path.join(local, 'down.bin'), '--channels', '1']);
  assert.equal(down.code, 0, down.err);
  assert.match(down.err, /, 1 channel in /);
  assert.deepEqual(down.err.match(/^\d+%/gm), ['19%', '39%', '59%', '79%', '99%'], 'a line per tenth reached (1 MiB READs of 5 MiB)');
  assert.deepEqual(await readFile(path.join(local, 'down.bin')), data);
});

test('a destination that is a directory (or ends with /) gets the source name', async () => {
  await writeFile(path.join(local, 'named.txt'), 'hello');
  await mkdir(path.join(ts.dir, 'sub'));
  assert.equal((await smb3d(['put', path.join(local, 'named.txt'), `${url}/sub`])).code, 0);
  assert.equal(await readFile(path.join(ts.dir, 'sub', 'named.txt'), 'utf8'), 'hello');
  assert.equal((await smb3d(['put', path.join(local, 'named.txt'), `${url}/`])).code, 0);
  assert.equal(await readFile(path.join(ts.dir, 'named.txt'), 'utf8'), 'hello');
  await mkdir(path.join(local, 'into'));
  assert.equal((await smb3d(['copy', `${url}/sub/named.txt`, path.join(local, 'into')])).code, 0);
  assert.equal(await readFile(path.join(local, 'into', 'named.txt'), 'utf8'), 'hello');
});

test('the exit status tells the kind of failure', async () => {
  await writeFile(path.join(local, 'small.txt'), 'x');
  const missing = await smb3d(['get', `${url}/missing`, path.join(local, 'x')]);
  assert.equal(missing.code, 5, missing.err);
  assert.match(missing.err, /STATUS_OBJECT_NAME_NOT_FOUND/);
  const noShare = await smb3d(['get', `//127.0.0.1:${ts.port}/nosuch/f`, path.join(local, 'x')]);
  assert.equal(noShare.code, 5, noShare.err);
  assert.match(noShare.err, /STATUS_BAD_NETWORK_NAME/);
  const badPassword = await smb3d(['put', path.join(local, 'small.txt'), `${url}/y`], 'wrong');
  assert.equal(badPassword.code, 4, badPassword.err);
  assert.match(badPassword.err, /STATUS_LOGON_FAILURE/);
  const closedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const unreachable = await smb3d(['put', path.join(local, 'small.txt'), `//127.0.0.1:${closedPort}/data/y`, '--retries', '0']);
  assert.equal(unreachable.code, 3, unreachable.err);
  assert.match(unreachable.err, /ECONNREFUSED/);
  const noLocal = await smb3d(['put', path.join(local, 'nope'), `${url}/y`]);
  assert.equal(noLocal.code, 7, noLocal.err);
  assert.match(noLocal.err, /local file: .*ENOENT/);
  const usage = memoryIO('');
  assert.equal(await run(['get', `${url}/a`, 'b'], usage), 2);
  assert.match(usage.err(), /-U USER is required/);
  assert.equal((await smb3d(['put', `${url}/a`, path.join(local, 'b')])).code, 2, 'put from a server');
  assert.equal((await smb3d(['copy', `${url}/a`, `${url}/b`])).code, 2, 'server to server');
  assert.equal((await smb3d(['copy', 'a', 'b'])).code, 2, 'no server at all');
  assert.equal((await smb3d(['copy', 'a', `${url}/b`, '--channels', '0'])).code, 2);
});

test('get --resume keeps the local prefix and fetches only the rest; a longer local file is refused', async () => {
  const data = randomBytes(6 * MiB + 11);
  await writeFile(path.join(ts.dir, 'resume-get.bin'), data);
  // The local prefix is zeros where the server has random bytes: if the copy started over, they would change.
  const prefix = 2 * MiB + 5;
  await writeFile(path.join(local, 'resume-get.bin'), Buffer.alloc(prefix));
  const r = await smb3d(['get', `${url}/resume-get.bin`, path.join(local, 'resume-get.bin'), '-c']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`resuming at byte ${prefix}`));
  const got = await readFile(path.join(local, 'resume-get.bin'));
  assert.ok(got.subarray(0, prefix).equals(Buffer.alloc(prefix)), 'the prefix was not fetched again');
  assert.ok(got.subarray(prefix).equals(data.subarray(prefix)), 'the rest is the server file');
  await writeFile(path.join(local, 'too-long.bin'), Buffer.alloc(data.length + 1));
  const refused = await smb3d(['get', `${url}/resume-get.bin`, path.join(local, 'too-long.bin'), '--resume']);
  assert.equal(refused.code, 8, refused.err);
  assert.match(refused.err, /cannot resume/);
  assert.equal((await readFile(path.join(local, 'too-long.bin'))).length, data.length + 1, 'the refused destination is left alone');
});

test('put --resume rewrites from one write window (16 MiB) before the remote end, keeping what lies before it', async () => {
  const data = randomBytes(24 * MiB);
  await writeFile(path.join(local, 'resume-put.bin'), data);
  // The server holds 20 MiB: 4 MiB of zeros (a marker the resume must not touch), then the right bytes.
  const partial = Buffer.concat([Buffer.alloc(4 * MiB), data.subarray(4 * MiB, 20 * MiB)]);
  await writeFile(path.join(ts.dir, 'resume-put.bin'), partial);
  const r = await smb3d(['put', path.join(local, 'resume-put.bin'), `${url}/resume-put.bin`, '--resume']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`resuming at byte ${4 * MiB}`));
  const got = await readFile(path.join(ts.dir, 'resume-put.bin'));
  assert.equal(got.length, data.length);
  assert.ok(got.subarray(0, 4 * MiB).equals(Buffer.alloc(4 * MiB)));
  assert.ok(got.subarray(4 * MiB).equals(data.subarray(4 * MiB)));
});

/**
 * A connect whose first client loses its connection after `after` requests of `command`, and
 * which counts that command's requests over all clients.
 */
function flakyConnect(command: number, after: number) {
  const seen = { attempts: 0, requests: [] as number[] };
  const connectFn = async (o: ConnectOptions) => {
    const c = await connect(o);
    const attempt = seen.attempts++;
    seen.requests[attempt] = 0;
    const request = c.session.request.bind(c.session);
    c.session.request = (r) => {
      if (r.command === command && ++seen.requests[attempt]! === after && attempt === 0) {
        setImmediate(() => c.connection.abort(new SmbError(Status.CONNECTION_DISCONNECTED, undefined, 'cut by the test')));
      }
      return request(r);
    };
    return c;
  };
  return { seen, connectFn };
}

test('a copy whose connection is lost reconnects and goes on where it stopped', async () => {
  const data = randomBytes(12 * MiB);
  await writeFile(path.join(ts.dir, 'flaky.bin'), data);
  const out = new PassThrough();
  let err = '';
  out.on('data', (d) => (err += d));
  const base = { user: TEST_USER, password: TEST_PASSWORD, channels: 1, retryDelayMs: 10, chunkSize: 256 * 1024, depth: 4 };

  const down = flakyConnect(Command.READ, 20);
  await copy(`${url}/flaky.bin`, path.join(local, 'flaky.bin'), { ...base, connect: down.connectFn }, out);
  assert.deepEqual(await readFile(path.join(local, 'flaky.bin')), data);
  assert.equal(down.seen.attempts, 2);
  assert.match(err, /connection failed \(STATUS_CONNECTION_DISCONNECTED: cut by the test\); retry 1 of 3/);
  // 48 READs in all; the second connection asked only for what the first had not delivered.
  assert.ok(down.seen.requests[1]! <= 48 - 20 + 4, `second attempt sent ${down.seen.requests[1]} READs`);

  await writeFile(path.join(local, 'flaky-up.bin'), data);
  const up = flakyConnect(Command.WRITE, 20);
  await copy(path.join(local, 'flaky-up.bin'), `${url}/flaky-up.bin`, { ...base, connect: up.connectFn }, out);
  assert.deepEqual(await readFile(path.join(ts.dir, 'flaky-up.bin')), data);
  assert.equal(up.seen.attempts, 2);
  assert.ok(up.seen.requests[1]! <= 48 - 20 + 4, `second attempt sent ${up.seen.requests[1]} WRITEs`);
});

test('retries run out: the exit status is the connection one', async () => {
  const data = randomBytes(2 * MiB);
  await writeFile(path.join(ts.dir, 'gone.bin'), data);
  const always = async (o: ConnectOptions) => {
    const c = await connect(o);
    const request = c.session.request.bind(c.session);
    c.session.request = (r) => {
      if (r.command === Command.READ) setImmediate(() => c.connection.abort(new SmbError(Status.CONNECTION_DISCONNECTED, undefined, 'cut')));
      return request(r);
    };
    return c;
  };
  const out = new PassThrough();
  out.resume();
  await assert.rejects(
    copy(`${url}/gone.bin`, path.join(local, 'gone.bin'), { user: TEST_USER, password: TEST_PASSWORD, channels: 1, retries: 2, retryDelayMs: 5, connect: always }, out),
    (e: unknown) => (e as { exitCode?: number }).exitCode === 3,
  );
});

test('progress on a terminal: one bar redrawn in place with percentage, rate, time left and channels', () => {
  let text = '';
  let t = 0;
  const out = { isTTY: true, columns: 120, write: (s: string) => (text += s) };
  const p = progressReporter(out, 100 * MiB, 0, () => t);
  t = 1000;
  p.update(25 * MiB, 4);
  t = 1050;
  p.update(26 * MiB, 4); // within 100 ms of the last draw: not drawn
  t = 2000;
  p.update(50 * MiB, 2);
  p.finish(100 * MiB, 2);
  const frames = text.split('\r').filter(Boolean);
  assert.equal(frames.length, 3, JSON.stringify(text));
  assert.match(frames[0]!, /^\[#{10}-{30}\]  25% 25\.0 MiB of 100 MiB, 25\.0 MiB\/s, 4 channels, 00:03 left\x1b\[K$/);
  assert.match(frames[1]!, /  50% 50\.0 MiB of 100 MiB, 25\.0 MiB\/s, 2 channels, 00:02 left/);
  assert.match(frames[2]!, /^\[#{40}\] 100% 100 MiB of 100 MiB, 50\.0 MiB\/s, 2 channels, in 00:02\x1b\[K\n$/);
});
