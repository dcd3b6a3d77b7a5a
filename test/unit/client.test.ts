import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { connect, SmbError } from '../../src/index.js';
import { startTestServer, type TestServer } from '../harness/test-server.js';
import { Access, Cipher, CreateOptions, LockFlags, SigningAlgorithm } from '../../src/protocol/constants.js';
import type { ConnectOptions } from '../../src/client/index.js';
import { verifyResponse } from '../../src/client/connection.js';
import { createSigner } from '../../src/crypto/index.js';

let ts: TestServer;
let dir: string;

before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-client-' });
  dir = ts.dir;
});

after(() => ts.stop());

const opts = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ts.opts(extra);

test('client: 3.1.1 signed session does every operation', async () => {
  const c = await connect(opts());
  try {
    assert.equal(c.negotiated.dialect, 0x0311);
    assert.ok(c.session.security.signer);
    const t = c.tree;
    await t.mkdir('sub');
    await t.writeFile('sub/a.txt', Buffer.from('hello'));
    assert.equal((await readFile(path.join(dir, 'sub/a.txt'))).toString(), 'hello');
    assert.equal((await t.readFile('sub/a.txt')).toString(), 'hello');
    const st = await t.stat('sub/a.txt');
    assert.equal(st.size, 5);
    assert.equal(st.isDirectory, false);
    assert.equal((await t.stat('sub')).isDirectory, true);
    assert.deepEqual((await t.readdir('sub')).map((e) => e.name), ['a.txt']);
    await t.rename('sub/a.txt', 'sub/b.txt');
    assert.deepEqual((await t.readdir('sub')).map((e) => [e.name, e.size]), [['b.txt', 5]]);
    await t.rm('sub/b.txt');
    await t.rm('sub');
    assert.deepEqual(await t.readdir(''), []);
    await assert.rejects(t.stat('nope'), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_OBJECT_NAME_NOT_FOUND');
  } finally {
    await c.close();
  }
});

test('client: wrong password is STATUS_LOGON_FAILURE', async () => {
  await assert.rejects(connect(opts({ password: 'wrong' })), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_LOGON_FAILURE');
});

for (const [name, algo] of Object.entries({ HMAC_SHA256: SigningAlgorithm.HMAC_SHA256, AES_CMAC: SigningAlgorithm.AES_CMAC, AES_GMAC: SigningAlgorithm.AES_GMAC })) {
  test(`client: signing with ${name}`, async () => {
    const c = await connect(opts({ signingAlgorithms: [algo] }));
    try {
      assert.equal(c.session.security.signer?.algorithmId, algo === SigningAlgorithm.HMAC_SHA256 ? SigningAlgorithm.HMAC_SHA256 : algo);
      const data = randomBytes(300_000);
      await c.tree.writeFile('s.bin', data);
      assert.deepEqual(await c.tree.readFile('s.bin'), data);
      await c.tree.rm('s.bin');
    } finally {
      await c.close();
    }
  });
}

for (const [name, cipher] of Object.entries(Cipher)) {
  test(`client: encryption with ${name}`, async () => {
    const c = await connect(opts({ ciphers: [cipher], encrypt: true }));
    try {
      assert.equal(c.negotiated.cipherId, cipher);
      assert.equal(c.session.security.encrypt, true);
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await c.tree.writeFile(`e-${name}.bin`, data);
      assert.deepEqual(await c.tree.readFile(`e-${name}.bin`), data);
      await c.tree.rm(`e-${name}.bin`);
    } finally {
      await c.close();
    }
  });
}

for (const dialect of [0x0300, 0x0302, 0x0210]) {
  test(`client: falls back to dialect 0x${dialect.toString(16)}`, async () => {
    const c = await connect(opts({ dialects: [dialect], encrypt: dialect >= 0x0300 }));
    try {
      assert.equal(c.negotiated.dialect, dialect);
      await c.tree.writeFile('d.txt', Buffer.from('x'.repeat(1000)));
      assert.equal((await c.tree.readFile('d.txt')).length, 1000);
      await c.tree.rm('d.txt');
    } finally {
      await c.close();
    }
  });
}

test('client: 64 MiB round trip through streams with pipelined 1 MiB requests, SHA-256 checked', async () => {
  const size = 64 * 1024 * 1024;
  const data = randomBytes(size);
  const want = createHash('sha256').update(data).digest('hex');
  const c = await connect(opts());
  try {
    let t0 = performance.now();
    const chunks = Array.from({ length: size / (4 << 20) }, (_, i) => data.subarray(i * (4 << 20), (i + 1) * (4 << 20)));
    await pipeline(Readable.from(chunks), c.tree.createWriteStream('big.bin', { depth: 8 }));
    const putMs = performance.now() - t0;
    assert.equal(createHash('sha256').update(await readFile(path.join(dir, 'big.bin'))).digest('hex'), want);
    t0 = performance.now();
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of c.tree.createReadStream('big.bin', { depth: 8 })) {
      h.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
    const getMs = performance.now() - t0;
    assert.equal(n, size);
    assert.equal(h.digest('hex'), want);
    console.log(`# 64 MiB against smb3d (signed): put ${(size / 1e3 / putMs).toFixed(0)} MB/s, get ${(size / 1e3 / getMs).toFixed(0)} MB/s`);
    await c.tree.rm('big.bin');
  } finally {
    await c.close();
  }
});

test('client: 64 KiB requests 64 deep stay inside the credit window and keep order', async () => {
  const c = await connect(opts());
  try {
    const data = randomBytes(8 * 1024 * 1024 + 1);
    await c.tree.writeFile('many.bin', data, { chunkSize: 65536, depth: 64 });
    assert.deepEqual(await c.tree.readFile('many.bin', { chunkSize: 65536, depth: 64 }), data);
    await c.tree.rm('many.bin');
  } finally {
    await c.close();
  }
});

test('client: CHANGE_NOTIFY goes async (STATUS_PENDING interim) and completes when another client writes', async () => {
  const watcher = await connect(opts({ encrypt: true }));
  const writer = await connect(opts());
  try {
    await watcher.tree.mkdir('watched');
    const d = await watcher.tree.open('watched', { access: 0x1 | 0x80 | 0x100000, options: 1 });
    const notified = d.changeNotify();
    await new Promise((r) => setTimeout(r, 100));
    await writer.tree.writeFile('watched/new.txt', Buffer.from('x'));
    const changes = await notified;
    assert.ok(changes.some((c) => c.name === 'new.txt'), JSON.stringify(changes));
    await d.close();
    await writer.tree.rm('watched/new.txt');
    await writer.tree.rm('watched');
  } finally {
    await watcher.close();
    await writer.close();
  }
});

test('client: LOCK takes, refuses, waits for and releases byte ranges between two clients', async () => {
  const a = await connect(opts());
  const b = await connect(opts());
  try {
    await a.tree.writeFile('locks.bin', Buffer.alloc(1000));
    const rw = (Access.GENERIC_READ | Access.GENERIC_WRITE) >>> 0;
    const fa = await a.tree.open('locks.bin', { access: rw });
    const fb = await b.tree.open('locks.bin', { access: rw });
    const now = LockFlags.EXCLUSIVE | LockFlags.FAIL_IMMEDIATELY;
    await fa.lock([{ offset: 0, length: 100, flags: now }]);
    const status = (e: unknown) => (e instanceof SmbError ? e.statusName : String(e));
    await assert.rejects(fb.lock([{ offset: 99, length: 2, flags: now }]), (e) => status(e) === 'STATUS_LOCK_NOT_GRANTED');
    await assert.rejects(fb.write(0, Buffer.from('x')), (e) => status(e) === 'STATUS_FILE_LOCK_CONFLICT');
    await fb.lock([{ offset: 100, length: 100, flags: now }]);
    // A blocking lock waits (async on the server) until the holder lets go.
    let granted = false;
    const waiting = fb.lock([{ offset: 0, length: 10, flags: LockFlags.EXCLUSIVE }]).then(() => (granted = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(granted, false);
    await fa.unlock(0, 100);
    await waiting;
    await assert.rejects(fa.unlock(0, 100), (e) => status(e) === 'STATUS_RANGE_NOT_LOCKED');
    await fb.unlock(0, 10);
    await fb.unlock(100, 100);
    assert.equal(await fa.write(0, Buffer.from('x')), 1);
    await fa.close();
    await fb.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test('client: verifyResponse accepts a signed response and refuses a tampered one', () => {
  for (const algo of [SigningAlgorithm.HMAC_SHA256, SigningAlgorithm.AES_CMAC, SigningAlgorithm.AES_GMAC]) {
    const signer = createSigner(algo, randomBytes(16));
    const msg = Buffer.concat([Buffer.alloc(64), randomBytes(1000)]);
    msg.writeUInt32LE(0x424d53fe, 0);
    msg.writeBigUInt64LE(7n, 24);
    signer.sign(msg, { messageId: 7n, isResponse: true, isCancel: false }).copy(msg, 48);
    assert.equal(verifyResponse(signer, msg), true);
    msg[500]! ^= 1;
    assert.equal(verifyResponse(signer, msg), false);
  }
});

test('client: a missing share is STATUS_BAD_NETWORK_NAME', async () => {
  await assert.rejects(connect(opts({ share: 'nosuch' })), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_BAD_NETWORK_NAME');
});


test('client: rm refuses a full directory; a delete-on-close CLOSE of one succeeds and keeps it, as on Windows', async () => {
  const c = await connect(opts());
  const isStatus = (name: string) => (e: unknown) => e instanceof SmbError && e.statusName === name;
  try {
    const t = c.tree;
    await t.mkdir('full');
    await t.mkdir('full/child');
    await assert.rejects(t.rm('full'), isStatus('STATUS_DIRECTORY_NOT_EMPTY'));
    // Another open keeps the child, so removing it only makes its delete pending.
    const held = await t.open('full/child', { access: Access.FILE_READ_ATTRIBUTES, options: CreateOptions.DIRECTORY_FILE });
    await t.rm('full/child');
    const parent = await t.open('full', { access: Access.DELETE | Access.FILE_READ_ATTRIBUTES, options: CreateOptions.DIRECTORY_FILE | CreateOptions.DELETE_ON_CLOSE });
    await parent.close();
    assert.equal((await t.stat('full')).isDirectory, true);
    await held.close();
    await t.rm('full');
    await assert.rejects(t.stat('full'), isStatus('STATUS_OBJECT_NAME_NOT_FOUND'));
  } finally {
    await c.close();
  }
});

test('3.1.1 TREE_CONNECT: the client signs it even with sign: false; the server drops a connection whose user sends it unsigned', async () => {
  const c = await connect(opts({ sign: false }));
  try {
    assert.equal(c.session.security.signer, undefined, 'the session\'s requests go unsigned');
    await c.tree.writeFile('unsigned.txt', Buffer.from('ok'));
    assert.equal((await c.tree.readFile('unsigned.txt')).toString(), 'ok');
    const path = Buffer.from(`\\\\127.0.0.1\\data`, 'utf16le');
    const body = Buffer.alloc(8 + path.length);
    body.writeUInt16LE(9, 0);
    body.writeUInt16LE(64 + 8, 4);
    body.writeUInt16LE(path.length, 6);
    path.copy(body, 8);
    await assert.rejects(c.session.request({ command: 0x0003, body, noSign: true }), (e: unknown) => e instanceof SmbError && ['STATUS_ACCESS_DENIED', 'STATUS_CONNECTION_DISCONNECTED'].includes(e.statusName));
    await assert.rejects(c.tree.stat('unsigned.txt'), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_CONNECTION_DISCONNECTED', 'the connection is gone');
  } finally {
    await c.close().catch(() => undefined);
  }
});
