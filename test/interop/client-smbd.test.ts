// smb3d's own client against Samba's smbd: the same round trip as test/unit/client.test.ts,
// judged by a server nobody here wrote.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, SmbError } from '../../src/index.js';
import { Cipher } from '../../src/protocol/constants.js';
import type { ConnectOptions } from '../../src/client/index.js';
import { skipUnlessSmbd, startSmbd, type SmbdHandle } from '../harness/smbd.js';

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
});
