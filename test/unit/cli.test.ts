import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { run, type CliIO } from '../../src/cli/run.js';
import { userAdd, userDel, userList, resolvePassdbPath } from '../../src/cli/user.js';
import { readPasswordFromStream } from '../../src/cli/password.js';
import { listenErrorMessage, startServe } from '../../src/cli/serve.js';
import { CliError } from '../../src/cli/errors.js';
import { PassDb } from '../../src/auth/passdb.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mainTs = path.join(root, 'src/cli/main.ts');

async function tmpdir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'smb3d-cli-'));
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[], stdin = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { cwd: root, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function memoryIO(stdinText = ''): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { stdin: Readable.from([stdinText]), stdout, stderr, out: () => out, err: () => err };
}

test('readPasswordFromStream takes the first line without its newline', async () => {
  assert.equal(await readPasswordFromStream(Readable.from(['pass word\r\nsecond\n'])), 'pass word');
  assert.equal(await readPasswordFromStream(Readable.from(['pa', 'ss'])), 'pass');
  await assert.rejects(readPasswordFromStream(Readable.from(['\n'])), /empty password/);
});

test('user add/del/list functions write the passdb', async () => {
  const dir = await tmpdir();
  const db = path.join(dir, 'new', 'dir', 'passdb');
  await userAdd(db, 'alice', 'Password');
  assert.equal((await stat(db)).mode & 0o777, 0o600);
  assert.match(await readFile(db, 'utf8'), /^alice:A4F49C406510BDCAB6824EE7C30FD852$/m);
  await userAdd(db, 'bob', 'x');
  assert.deepEqual(await userList(db), ['alice', 'bob']);
  await userDel(db, 'ALICE');
  assert.deepEqual(await userList(db), ['bob']);
  await assert.rejects(userDel(db, 'alice'), (e: unknown) => e instanceof CliError && /no user "alice"/.test(e.message));
  await assert.rejects(userAdd(db, 'a\\b', 'x'), CliError);
});

test('run: user add --password-stdin, list, del', async () => {
  const dir = await tmpdir();
  const db = path.join(dir, 'passdb');
  const io = memoryIO('Password\n');
  assert.equal(await run(['user', 'add', 'Alice', '--password-stdin', '--passdb', db], io), 0);
  const rec = await (await PassDb.open(db)).get('alice');
  assert.equal(rec?.ntHash.toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');

  const list = memoryIO();
  assert.equal(await run(['user', 'list', '--passdb', db], list), 0);
  assert.equal(list.out(), 'Alice\n');

  // Without a TTY and without --password-stdin the password is never guessed.
  const noTty = memoryIO('x\n');
  assert.equal(await run(['user', 'add', 'bob', '--passdb', db], noTty), 2);
  assert.match(noTty.err(), /--password-stdin/);

  assert.equal(await run(['user', 'del', 'alice', '--passdb', db], memoryIO()), 0);
  assert.deepEqual((await PassDb.open(db)).list(), []);

  const bad = memoryIO();
  assert.equal(await run(['user', 'frob'], bad), 2);
  assert.match(bad.err(), /unknown subcommand "frob"/);
  assert.match(bad.err(), /Usage: smb3d user/);
  assert.equal(await run(['user', 'add', '--passdb', db], memoryIO()), 2, 'missing name');
});

test('passdb path: --passdb, then smb3d:passdb from --config, then the default', async () => {
  const dir = await tmpdir();
  const conf = path.join(dir, 'smb.conf');
  await writeFile(conf, '[global]\nsmb3d:passdb = /srv/pdb\n');
  assert.equal(await resolvePassdbPath({ passdb: 'rel/p', config: conf }), path.resolve('rel/p'));
  assert.equal(await resolvePassdbPath({ config: conf }), '/srv/pdb');
  assert.equal(await resolvePassdbPath({ pathEnv: { env: {}, uid: 0 } }), '/var/lib/smb3d/passdb');
  assert.equal(await resolvePassdbPath({ pathEnv: { env: { SMB3D_PASSDB: '/e/p' }, uid: 0 } }), '/e/p');
});

test('bind errors become one-line remedies', () => {
  const inUse = Object.assign(new Error('x'), { code: 'EADDRINUSE' });
  const denied = Object.assign(new Error('x'), { code: 'EACCES' });
  assert.equal(listenErrorMessage(inUse, 445), 'port 445 is in use (is smbd running? stop it or use --port 4445)');
  assert.equal(
    listenErrorMessage(denied, 445),
    'binding port 445 needs root or CAP_NET_BIND_SERVICE: run as root, `setcap cap_net_bind_service=+ep $(which node)`, or use --port 4445',
  );
  assert.match(listenErrorMessage(inUse, 4445)!, /port 4445 is in use/);
  assert.equal(listenErrorMessage(new Error('other'), 445), undefined);
});

test('startServe on a busy port fails with the in-use message', async () => {
  const dir = await tmpdir();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      startServe(
        { shares: [`d=${dir}`], port, listen: ['127.0.0.1'], passdb: path.join(dir, 'p'), logLevel: 'silent' },
        { logger: pino({ level: 'silent' }) },
      ),
      (e: unknown) => e instanceof CliError && e.message === `port ${port} is in use: stop whatever listens there or choose another --port`,
    );
  } finally {
    blocker.close();
  }
});

test('spawned: --help, serve --help, user --help, --version exit 0 with usage', async () => {
  const main = await spawnCli(['--help']);
  assert.equal(main.code, 0);
  assert.match(main.stdout, /^Usage: smb3d <command>/);
  const serve = await spawnCli(['serve', '--help']);
  assert.equal(serve.code, 0);
  assert.match(serve.stdout, /Usage: smb3d serve/);
  assert.match(serve.stdout, /--share NAME=PATH/);
  assert.match(serve.stdout, /\/var\/lib\/smb3d\/passdb/);
  const user = await spawnCli(['user', '--help']);
  assert.equal(user.code, 0);
  assert.match(user.stdout, /--password-stdin/);
  const version = await spawnCli(['--version']);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `smb3d ${pkg.version}\n`);
});

test('spawned: usage errors exit 2', async () => {
  const none = await spawnCli(['serve', '--port', '0']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^smb3d: no shares to serve/);
  const unknown = await spawnCli(['serve', '--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--frobnicate/);
  assert.match(unknown.stderr, /Usage: smb3d serve/);
  const cmd = await spawnCli(['explode']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command "explode"/);
  const port = await spawnCli(['serve', '--port', '99999', '--share', 'a=/tmp']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port/);
});

test('spawned: serve --config with a bad value exits 2 naming file:line', async () => {
  const dir = await tmpdir();
  await mkdir(path.join(dir, 'data'));
  const conf = path.join(dir, 'bad.conf');
  await writeFile(conf, `[global]\n  workgroup = W\n[data]\n  path = ${dir}/data\n  read only = maybe\n`);
  const r = await spawnCli(['serve', '--config', conf, '--port', '0']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `smb3d: ${conf}:5: unknown boolean value "maybe" for "read only"\n`);
});

test('spawned: serve --port 0 logs "listening" with the port and stops on SIGTERM', async () => {
  const dir = await tmpdir();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', mainTs, 'serve', '--share', `data=${dir}`, '--port', '0', '--listen', '127.0.0.1', '--passdb', path.join(dir, 'passdb')],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => r(code ?? (signal as unknown as number))));
  const listening = await new Promise<{ port: number; addresses: { address: string; port: number }[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line; stderr: ${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      stdout += d;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const rec = JSON.parse(line) as { msg?: string; port: number; addresses: { address: string; port: number }[] };
        if (rec.msg === 'listening') {
          clearTimeout(timer);
          resolve(rec);
        }
      }
    });
    exited.then(() => reject(new Error(`exited early; stderr: ${stderr}`)));
  });
  try {
    assert.ok(listening.port > 0);
    assert.deepEqual(listening.addresses, [{ address: '127.0.0.1', port: listening.port }]);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(listening.port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `stdout: ${stdout}\nstderr: ${stderr}`);
});
