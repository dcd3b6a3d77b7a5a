// smb3d's own client against Samba's smbd: the same round trip as test/unit/client.test.ts,
// judged by a server nobody here wrote.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, SmbError } from '../../src/index.js';
import { Cipher } from '../../src/protocol/constants.js';
import type { ConnectOptions } from '../../src/client/index.js';
import { skipUnlessSmbd, startSmbd, type SmbdHandle } from '../harness/smbd.js';
import { run } from '../../src/cli/run.js';

describe('client against smbd', { skip: skipUnlessSmbd() }, () => {
  let smbd: SmbdHandle;
  const opts = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
    host: '127.0.0.1',
    port: smbd.port,
    share: 'share',
    user: smbd.user,
    password: smbd.password,
    ...extra,
  });

  before(async () => {
    smbd = await startSmbd({ global: ['server smb encrypt = if_required'] });
  });
  after(async () => {
    await smbd?.stop();
  });

  it('negotiates 3.1.1 and does every operation, signed', { timeout: 60_000 }, async () => {
    const c = await connect(opts());
    try {
      assert.equal(c.negotiated.dialect, 0x0311);
      const t = c.tree;
      await t.mkdir('sub');
      await t.writeFile('sub/a.txt', Buffer.from('hello'));
      assert.equal((await t.readFile('sub/a.txt')).toString(), 'hello');
      assert.equal((await t.stat('sub/a.txt')).size, 5);
      assert.deepEqual((await t.readdir('sub')).map((e) => e.name), ['a.txt']);
      await t.rename('sub/a.txt', 'sub/b.txt');
      assert.deepEqual((await t.readdir('sub')).map((e) => e.name), ['b.txt']);
      await t.rm('sub/b.txt');
      await t.rm('sub');
      await assert.rejects(t.stat('sub'), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_OBJECT_NAME_NOT_FOUND');
    } finally {
      await c.close();
    }
  });

  it('sign: false leaves requests unsigned but still signs the 3.1.1 TREE_CONNECT, which smbd insists on', { timeout: 60_000 }, async () => {
    const c = await connect(opts({ sign: false }));
    try {
      assert.equal(c.session.security.signer, undefined);
      await c.tree.writeFile('unsigned.txt', Buffer.from('ok'));
      assert.equal((await c.tree.readFile('unsigned.txt')).toString(), 'ok');
      await c.tree.rm('unsigned.txt');
    } finally {
      await c.close();
    }
  });

  for (const [name, cipher] of Object.entries(Cipher)) {
    it(`seals with ${name}`, { timeout: 60_000 }, async () => {
      const c = await connect(opts({ ciphers: [cipher], encrypt: true }));
      try {
        assert.equal(c.negotiated.cipherId, cipher);
        const data = randomBytes(2 * 1024 * 1024 + 5);
        await c.tree.writeFile(`e-${name}`, data);
        assert.deepEqual(await c.tree.readFile(`e-${name}`), data);
        await c.tree.rm(`e-${name}`);
      } finally {
        await c.close();
      }
    });
  }

  it('64 MiB round trip with SHA-256 check', { timeout: 120_000 }, async () => {
    const size = 64 * 1024 * 1024;
    const data = randomBytes(size);
    const want = createHash('sha256').update(data).digest('hex');
    const c = await connect(opts());
    try {
      let t0 = performance.now();
      const chunks = Array.from({ length: size / (4 << 20) }, (_, i) => data.subarray(i * (4 << 20), (i + 1) * (4 << 20)));
      await pipeline(Readable.from(chunks), c.tree.createWriteStream('big.bin'));
      const putMs = performance.now() - t0;
      assert.equal(createHash('sha256').update(await readFile(path.join(smbd.shareDir, 'big.bin'))).digest('hex'), want);
      t0 = performance.now();
      const h = createHash('sha256');
      for await (const chunk of c.tree.createReadStream('big.bin')) h.update(chunk as Buffer);
      const getMs = performance.now() - t0;
      assert.equal(h.digest('hex'), want);
      console.log(`# 64 MiB against smbd (signed): put ${(size / 1e3 / putMs).toFixed(0)} MB/s, get ${(size / 1e3 / getMs).toFixed(0)} MB/s`);
      await c.tree.rm('big.bin');
    } finally {
      await c.close();
    }
  });
  it('smb3d copy: up, down, --resume both ways, and the exit statuses smbd causes', { timeout: 120_000 }, async () => {
    const local = await mkdtemp(path.join(os.tmpdir(), 'smb3d-copy-smbd-'));
    // One channel: without an "interfaces" line smbd advertises the host's own addresses, and
    // the tests send nothing beyond loopback.
    const smb3d = async (args: string[], password = smbd.password) => {
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (d) => (err += d));
      const io = { stdin: Readable.from([`${password}\n`]), stdout: new PassThrough(), stderr };
      const code = await run([...args, '-U', smbd.user, '--password-stdin', '--channels', '1'], io);
      return { code, err };
    };
    const url = `//127.0.0.1:${smbd.port}/share`;
    try {
      const data = randomBytes(24 * 1024 * 1024 + 7);
      await writeFile(path.join(local, 'up.bin'), data);
      const up = await smb3d(['copy', path.join(local, 'up.bin'), `${url}/up.bin`]);
      assert.equal(up.code, 0, up.err);
      assert.deepEqual(await readFile(path.join(smbd.shareDir, 'up.bin')), data);
      // A partial download whose prefix is zeros: --resume keeps it and fetches only the rest.
      await writeFile(path.join(local, 'down.bin'), Buffer.alloc(5 * 1024 * 1024));
      const down = await smb3d(['copy', `${url}/up.bin`, path.join(local, 'down.bin'), '--resume']);
      assert.equal(down.code, 0, down.err);
      const got = await readFile(path.join(local, 'down.bin'));
      assert.ok(got.subarray(0, 5 * 1024 * 1024).equals(Buffer.alloc(5 * 1024 * 1024)) && got.subarray(5 * 1024 * 1024).equals(data.subarray(5 * 1024 * 1024)));
      // A partial upload: 20 MiB there, of which the first 4 MiB lie outside the 16 MiB rewrite window.
      await writeFile(path.join(smbd.shareDir, 'up.bin'), Buffer.concat([Buffer.alloc(4 * 1024 * 1024), data.subarray(4 * 1024 * 1024, 20 * 1024 * 1024)]));
      const resumed = await smb3d(['put', path.join(local, 'up.bin'), `${url}/up.bin`, '-c']);
      assert.equal(resumed.code, 0, resumed.err);
      assert.match(resumed.err, /resuming at byte 4194304/);
      const there = await readFile(path.join(smbd.shareDir, 'up.bin'));
      assert.ok(there.subarray(4 * 1024 * 1024).equals(data.subarray(4 * 1024 * 1024)) && there.length === data.length);
      assert.equal((await smb3d(['get', `${url}/nope`, path.join(local, 'x')])).code, 5);
      assert.equal((await smb3d(['get', `${url}/up.bin`, path.join(local, 'x')], 'wrong')).code, 4);
    } finally {
      await rm(local, { recursive: true, force: true });
    }
  });
});
