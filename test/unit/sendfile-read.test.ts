// Large unsigned READs go from the file to the socket with sendfile; signed and sealed ones, and
// small ones, through memory. Either way the client gets exactly the file's bytes.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { connect } from '../../src/index.js';
import { startTestServer, type TestServer } from '../harness/test-server.js';
import { Access } from '../../src/protocol/constants.js';
import { closeSocketDup, dupSocket, sendFileToSocket, sendfileAvailable, sendfileCounters } from '../../src/native/sendfile.js';

let ts: TestServer;
let dir: string;
const data = randomBytes(5 * 1024 * 1024 + 12345);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const skip = sendfileAvailable ? false : 'sendfile not available (koffi/libc)';

before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-sendfile-' });
  dir = ts.dir;
  await writeFile(path.join(dir, 'big.bin'), data);
});

after(() => ts.stop());

const opts = (extra = {}) => ts.opts(extra);

test('unsigned large READs are sent from the file, and the bytes are the file’s', { skip }, async () => {
  const c = await connect(opts({ sign: false }));
  try {
    const before = { ...sendfileCounters };
    const back = await c.tree.readFile('big.bin', { chunkSize: 1024 * 1024, depth: 8 });
    assert.equal(sha(back), sha(data));
    // Five 1 MiB READs; the client asks only for the 12345 bytes left in the last one, which is
    // below the sendfile threshold.
    assert.equal(sendfileCounters.sends - before.sends, 5);
    assert.equal(sendfileCounters.bytes - before.bytes, 5 * 1024 * 1024);
    // Past the end: END_OF_FILE (our client's read() answers it with no bytes), as through memory.
    const f = await c.tree.open('big.bin', { access: Access.GENERIC_READ });
    const sends = sendfileCounters.sends;
    assert.equal((await f.read(data.length, 128 * 1024)).length, 0);
    assert.equal(sendfileCounters.sends, sends);
    const tail = await f.read(data.length - 1000, 128 * 1024);
    assert.deepEqual(tail, data.subarray(data.length - 1000));
    await f.close();
  } finally {
    await c.close();
  }
});

test('signed, sealed and small READs go through memory', { skip }, async () => {
  for (const extra of [{}, { encrypt: true }]) {
    const c = await connect(opts(extra));
    try {
      const before = sendfileCounters.sends;
      assert.equal(sha(await c.tree.readFile('big.bin', { chunkSize: 1024 * 1024, depth: 4 })), sha(data));
      assert.equal(sendfileCounters.sends, before, JSON.stringify(extra));
    } finally {
      await c.close();
    }
  }
  const c = await connect(opts({ sign: false }));
  try {
    const before = sendfileCounters.sends;
    const f = await c.tree.open('big.bin', { access: Access.GENERIC_READ });
    assert.deepEqual(await f.read(4096, 32 * 1024), data.subarray(4096, 4096 + 32 * 1024));
    await f.close();
    assert.equal(sendfileCounters.sends, before, 'a 32 KiB READ is read into memory');
  } finally {
    await c.close();
  }
});

test('a CLOSE right behind READs waits for their data to be sent', { skip }, async () => {
  const c = await connect(opts({ sign: false }));
  try {
    const f = await c.tree.open('big.bin', { access: Access.GENERIC_READ });
    const reads = [0, 1, 2, 3].map((i) => f.read(i * 1024 * 1024, 1024 * 1024));
    const closed = f.close();
    const got = await Promise.all(reads);
    await closed;
    assert.equal(sha(Buffer.concat(got)), sha(data.subarray(0, 4 * 1024 * 1024)));
  } finally {
    await c.close();
  }
});

test('sendFileToSocket sends exactly the range, and rejects when the file ends first', { skip }, async () => {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const accepted = new Promise<net.Socket>((ok) => srv.once('connection', ok));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const peer = await accepted;
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  const fd = openSync(path.join(dir, 'big.bin'), 'r');
  const sock = dupSocket((peer as unknown as { _handle: { fd: number } })._handle.fd);
  try {
    await sendFileToSocket(sock, fd, 1000n, 3 * 1024 * 1024, () => false);
    await assert.rejects(sendFileToSocket(sock, fd, BigInt(data.length - 10), 100, () => false), /ended 90 bytes short/);
    const want = 3 * 1024 * 1024 + 10;
    while (chunks.reduce((n, c) => n + c.length, 0) < want) await new Promise((ok) => setTimeout(ok, 10));
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat([data.subarray(1000, 1000 + 3 * 1024 * 1024), data.subarray(data.length - 10)]));
  } finally {
    closeSocketDup(sock);
    closeSync(fd);
    client.destroy();
    peer.destroy();
    srv.close();
  }
});
