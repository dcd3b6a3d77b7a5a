// Signed READs are authenticated while they are read: the data's GMAC is taken piece by piece
// before the response header exists, then joined to the header (src/crypto/tail-mac.ts). The join
// must give exactly the GMAC of the whole message, which real clients check.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createSecretKey, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '../../src/index.js';
import { Access } from '../../src/protocol/constants.js';
import { createSigner, gmacNonce } from '../../src/crypto/index.js';
import { SigningAlgorithm } from '../../src/crypto/constants.js';
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

let ts: TestServer;
const data = randomBytes(5 * 1024 * 1024 + 12345);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-tailmac-' });
  await writeFile(path.join(ts.dir, 'big.bin'), data);
});

after(() => ts.stop());

test('signed READs of 2 MiB and more are signed by joining, and our client verifies every one', async () => {
  const c = await connect(ts.opts({}));
  try {
    const joined = tailMacCounters.joined;
    // Several READs in flight on one connection: they take turns, and each answer verifies.
    const back = await c.tree.readFile('big.bin', { chunkSize: 2 * 1024 * 1024, depth: 4 });
    assert.equal(sha(back), sha(data));
    // Two READs of 2 MiB; the client asks the third for the 1 MiB + 12345 bytes left, below 2 MiB.
    assert.equal(tailMacCounters.joined - joined, 2);
    // End of file inside the second 1 MiB piece: the answer is short, its signature still right.
    const f = await c.tree.open('big.bin', { access: Access.GENERIC_READ });
    const from = data.length - 1024 * 1024 - 777;
    assert.deepEqual(await f.read(from, 4 * 1024 * 1024), data.subarray(from));
    assert.equal(tailMacCounters.joined - joined, 3);
    // Below 2 MiB, the usual path.
    assert.deepEqual(await f.read(0, 1024 * 1024), data.subarray(0, 1024 * 1024));
    assert.equal(tailMacCounters.joined - joined, 3);
    await f.close();
  } finally {
    await c.close();
  }
});
