// Large signed and sealed READs are protected while they are read (src/handlers/protected-read.ts):
// the data's GMAC is taken, or the data encrypted, piece by piece before the response header
// exists, and the header is joined afterwards (src/crypto/tail-mac.ts, sealed-tail.ts). The result
// must be exactly the signature or the sealed message of the whole, which real clients check.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '../../src/index.js';
import { Access } from '../../src/protocol/constants.js';
import { createSigner, decryptMessage, encryptMessage, gmacNonce, SealingTail, TRANSFORM_HEADER_SIZE } from '../../src/crypto/index.js';
import { sealedTailCounters } from '../../src/crypto/sealed-tail.js';
import { gcmAvailable } from '../../src/native/libcrypto.js';
import { CipherId, SigningAlgorithm } from '../../src/crypto/constants.js';
import { GhashKey, mul, Multiplier } from '../../src/crypto/gf128.js';
import { joinHead, tailMacCounters, TailGmac } from '../../src/crypto/tail-mac.js';
import { startTestServer, type TestServer } from '../harness/test-server.js';

const gmac = (key: Buffer, nonce: Buffer, parts: Buffer[]) => {
  const c = createCipheriv('aes-128-gcm', key, nonce);
  for (const p of parts) if (p.length) c.setAAD(p);
  c.final();
  return c.getAuthTag();
};

test('a tail GMAC joined to its head equals the GMAC of the whole message', () => {
  const raw = randomBytes(16);
  const key = createSecretKey(raw);
  const ghash = new GhashKey(key);
  // Heads are whole blocks; tails of every shape: empty, one byte, odd, whole blocks, megabytes.
  for (const [headLen, tailLen] of [[80, 0], [80, 1], [80, 15], [80, 16], [64, 17], [0, 33], [80, 3 * 1024 * 1024 + 5], [16, 8 * 1024 * 1024]] as const) {
    const head = randomBytes(headLen);
    const tail = randomBytes(tailLen);
    const nonce = randomBytes(12);
    const t = new TailGmac(key, ghash, nonce);
    // Fed in uneven pieces, as reads come back.
    for (let at = 0; at < tail.length; at += 1000003) t.update(tail.subarray(at, at + 1000003));
    assert.deepEqual(joinHead(head, t.finish()), gmac(raw, nonce, [head, tail]), `head ${headLen}, tail ${tailLen}`);
  }
  assert.throws(() => joinHead(randomBytes(20), new TailGmac(key, ghash, randomBytes(12)).finish()), /whole blocks/);
});

test('GF(2^128) multiplication: the table form agrees with the bitwise one, and 1 is neutral', () => {
  const one = 1n << 127n;
  for (let i = 0; i < 20; i++) {
    const x = BigInt(`0x${randomBytes(16).toString('hex')}`);
    const y = BigInt(`0x${randomBytes(16).toString('hex')}`);
    assert.equal(new Multiplier(y).times(x), mul(x, y));
    assert.equal(mul(x, y), mul(y, x));
    assert.equal(mul(x, one), x);
  }
});

test('the signer joins only tails taken with its own key and the same message id', () => {
  const k = randomBytes(16);
  const signer = createSigner(SigningAlgorithm.AES_GMAC, k);
  const other = createSigner(SigningAlgorithm.AES_GMAC, randomBytes(16));
  const opts = { messageId: 7n, isResponse: true, isCancel: false };
  const head = randomBytes(80);
  const data = randomBytes(5000);
  const mine = signer.beginTail!(opts);
  mine.update(data);
  const tag = mine.finish();
  assert.deepEqual(signer.signJoined!(head, tag, opts), signer.sign([head, data], opts));
  assert.deepEqual(signer.signJoined!(head, tag, opts), gmac(k, gmacNonce(opts), [head, data]));
  assert.equal(signer.signJoined!(head, tag, { ...opts, messageId: 8n }), undefined);
  assert.equal(other.signJoined!(head, tag, opts), undefined);
  assert.equal(createSigner(SigningAlgorithm.AES_CMAC, k).beginTail, undefined);
});

const noNativeGcm = gcmAvailable ? false : 'libcrypto AES-GCM not available (koffi)';

test('data sealed ahead, joined to its head, opens as the whole message; one that does not fit is restored and sealed as usual', { skip: noNativeGcm }, () => {
  for (const [cipherId, keyLen] of [[CipherId.AES_128_GCM, 16], [CipherId.AES_256_GCM, 32]] as const) {
    const key = randomBytes(keyLen);
    for (const dataLen of [1, 4096 + 3, 3 * 1024 * 1024 + 17]) {
      const data = randomBytes(dataLen);
      const buf = Buffer.from(data);
      const head = [randomBytes(64), randomBytes(16)];
      const sealing = new SealingTail(cipherId, key, buf);
      for (let at = 0; at < dataLen; at += 1024 * 1024) sealing.update(buf.subarray(at, Math.min(dataLen, at + 1024 * 1024)));
      const sealedTail = sealing.finish();
      assert.notDeepEqual(buf, data, 'encrypted in place');
      const used = sealedTailCounters.used;
      const msg = encryptMessage(cipherId, key, 9n, [...head, buf], { sealedTail });
      assert.equal(sealedTailCounters.used - used, 1);
      // The caller's buffer itself: dispatch keeps a READ's buffer from the pool until a buffer it
      // owns has been sent, and tells its buffers by identity.
      assert.equal(msg[msg.length - 1], buf);
      assert.deepEqual(decryptMessage(cipherId, key, Buffer.concat(msg)), Buffer.concat([...head, data]), `cipher ${cipherId}, ${dataLen} bytes`);
      assert.equal(Buffer.concat(msg).readUInt32LE(36), 80 + dataLen, 'OriginalMessageSize');
    }
    // Another key: the tail does not fit, so the data is decrypted back and sealed as usual.
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const buf = Buffer.from(data);
    const sealing = new SealingTail(cipherId, key, buf);
    sealing.update(buf);
    const sealedTail = sealing.finish();
    const other = randomBytes(keyLen);
    const head = randomBytes(80);
    const used = sealedTailCounters.used;
    const msg = Buffer.concat(encryptMessage(cipherId, other, 9n, [head, buf], { sealedTail }));
    assert.equal(sealedTailCounters.used, used);
    assert.deepEqual(decryptMessage(cipherId, other, msg), Buffer.concat([head, data]));
    assert.equal(msg.length, TRANSFORM_HEADER_SIZE + 80 + data.length);
  }
});

let ts: TestServer;
const data = randomBytes(5 * 1024 * 1024 + 12345);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-protected-read-' });
  await writeFile(path.join(ts.dir, 'big.bin'), data);
});

after(() => ts.stop());

const modes = [
  { name: 'signed READs of 2 MiB and more are signed by joining, and our client verifies every one', extra: {}, count: () => tailMacCounters.joined, skip: false as const },
  { name: 'sealed READs of 2 MiB and more are sealed ahead, and our client opens every one', extra: { encrypt: true }, count: () => sealedTailCounters.used, skip: noNativeGcm },
];

for (const mode of modes) {
  test(mode.name, { skip: mode.skip }, async () => {
    const c = await connect(ts.opts(mode.extra));
    try {
      const before = mode.count();
      // Several READs in flight on one connection: they take turns, and each answer checks out.
      const back = await c.tree.readFile('big.bin', { chunkSize: 2 * 1024 * 1024, depth: 4 });
      assert.equal(sha(back), sha(data));
      // Two READs of 2 MiB; the client asks the third for the 1 MiB + 12345 bytes left, below 2 MiB.
      assert.equal(mode.count() - before, 2);
      // End of file inside the second 1 MiB piece: the answer is short, and still right.
      const f = await c.tree.open('big.bin', { access: Access.GENERIC_READ });
      const from = data.length - 1024 * 1024 - 777;
      assert.deepEqual(await f.read(from, 4 * 1024 * 1024), data.subarray(from));
      assert.equal(mode.count() - before, 3);
      // Below 2 MiB, the usual path.
      assert.deepEqual(await f.read(0, 1024 * 1024), data.subarray(0, 1024 * 1024));
      assert.equal(mode.count() - before, 3);
      await f.close();
    } finally {
      await c.close();
    }
  });
}
