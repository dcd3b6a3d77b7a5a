// A large unsigned WRITE goes to the file while the client is still sending it
// (src/server/early-write.ts). The client's bytes pass through a proxy that holds back the end
// of the WRITE, so the test sees what the server did with the part that arrived: written, for an
// unsigned WRITE; nothing, for a signed one or one the server refuses. Either way the answer
// waits for the last byte, and a connection cut in mid-WRITE leaves only the client's own bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, SmbError } from '../../src/index.js';
import type { SmbClient, SmbFile } from '../../src/client/index.js';
import { Access, CreateDisposition } from '../../src/protocol/constants.js';
import { startTestServer, type TestServer } from '../harness/test-server.js';
import { HoldingProxy } from '../harness/holding-proxy.js';

const MiB = 1024 * 1024;
let ts: TestServer;

before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-early-write-' });
});
after(() => ts.stop());

/**
 * Runs `body` with a client whose connection goes through a fresh proxy and a file of `name`
 * open; then closes the proxy first (a failed assertion may leave a WRITE held back, which the
 * client's close would wait for), and the client.
 */
async function throughProxy(
  name: string,
  o: { sign: boolean; access?: number },
  body: (t: { proxy: HoldingProxy; f: SmbFile }) => Promise<void>,
): Promise<void> {
  const access = o.access ?? Access.GENERIC_READ | Access.GENERIC_WRITE;
  const proxy = await HoldingProxy.start(ts.port);
  const c: SmbClient = await connect(ts.opts({ port: proxy.port, sign: o.sign }));
  try {
    const f = await c.tree.open(name, { access, disposition: access & Access.GENERIC_WRITE ? CreateDisposition.OVERWRITE_IF : CreateDisposition.OPEN });
    await body({ proxy, f });
  } finally {
    await proxy.close();
    await c.close().catch(() => undefined);
  }
}

/** Size of the file on disk once it reaches `min` bytes, or what it has after `ms`. */
async function sizeReaching(file: string, min: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const size = (await stat(file)).size;
    if (size >= min || Date.now() > until) return size;
    await sleep(10);
  }
}

/** Tracks a promise so the test can say whether it settled yet. */
function watch<T>(p: Promise<T>) {
  const w = { settled: false, p };
  p.then(
    () => (w.settled = true),
    () => (w.settled = true),
  );
  return w;
}

test('an unsigned 4 MiB WRITE is written while its last megabyte is held back, and answered only after it', async () => {
  await throughProxy('early.bin', { sign: false }, async ({ proxy, f }) => {
    const data = randomBytes(4 * MiB);
    proxy.holdAfter(3 * MiB);
    const w = watch(f.write(0, data));
    // Of the ~3 MiB of data that passed, whole 1 MiB pieces are written at once.
    const size = await sizeReaching(path.join(ts.dir, 'early.bin'), 2 * MiB, 5000);
    assert.ok(size >= 2 * MiB, `only ${size} bytes written while the WRITE's end was held back`);
    assert.ok(size < data.length, 'more written than had arrived');
    const onDisk = await readFile(path.join(ts.dir, 'early.bin'));
    assert.ok(onDisk.equals(data.subarray(0, onDisk.length)), 'what is written is the client’s bytes');
    await sleep(50);
    assert.equal(w.settled, false, 'the WRITE was answered before its data had all arrived');
    proxy.release();
    assert.equal(await w.p, data.length);
    await f.close();
    assert.ok((await readFile(path.join(ts.dir, 'early.bin'))).equals(data));
  });
});

test('a signed WRITE writes nothing before its signature can be checked', async () => {
  await throughProxy('signed.bin', { sign: true }, async ({ proxy, f }) => {
    const data = randomBytes(4 * MiB);
    proxy.holdAfter(3 * MiB);
    const w = watch(f.write(0, data));
    assert.equal(await sizeReaching(path.join(ts.dir, 'signed.bin'), 1, 500), 0);
    assert.equal(w.settled, false);
    proxy.release();
    assert.equal(await w.p, data.length);
    await f.close();
    assert.ok((await readFile(path.join(ts.dir, 'signed.bin'))).equals(data));
  });
});

test('an unsigned WRITE on a read-only open writes nothing and is refused once it has all arrived', async () => {
  const before = randomBytes(1000);
  await writeFile(path.join(ts.dir, 'readonly.bin'), before);
  await throughProxy('readonly.bin', { sign: false, access: Access.GENERIC_READ }, async ({ proxy, f }) => {
    proxy.holdAfter(3 * MiB);
    const w = watch(f.write(0, randomBytes(4 * MiB)));
    await sleep(300);
    assert.equal(w.settled, false, 'answered before the WRITE had all arrived');
    proxy.release();
    await assert.rejects(w.p, (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_ACCESS_DENIED');
    assert.ok((await readFile(path.join(ts.dir, 'readonly.bin'))).equals(before));
  });
});

test('a connection cut in mid-WRITE leaves the client’s own bytes, and the server serves on', async () => {
  const data = randomBytes(4 * MiB);
  await throughProxy('cut.bin', { sign: false }, async ({ proxy, f }) => {
    proxy.holdAfter(3 * MiB);
    const w = watch(f.write(0, data));
    assert.ok((await sizeReaching(path.join(ts.dir, 'cut.bin'), 2 * MiB, 5000)) >= 2 * MiB);
    proxy.cut();
    await assert.rejects(w.p);
  });
  const left = await readFile(path.join(ts.dir, 'cut.bin'));
  assert.ok(left.length < data.length && left.equals(data.subarray(0, left.length)));
  // The server goes on, and its pooled frame memory is sound: large WRITEs and READs round-trip.
  const c2 = await connect(ts.opts({ sign: false }));
  try {
    const more = randomBytes(6 * MiB + 123);
    await c2.tree.writeFile('after.bin', more, { chunkSize: 2 * MiB, depth: 3 });
    assert.ok((await c2.tree.readFile('after.bin')).equals(more));
  } finally {
    await c2.close();
  }
});

test('a WRITE whose channel is given up while its end is held back stops; its late bytes do not land on what came after', { timeout: 20_000 }, async () => {
  const proxy = await HoldingProxy.start(ts.port);
  // The first channel goes through the proxy, the second straight to the server.
  const c = await connect(ts.opts({ port: proxy.port, sign: false, stallTimeoutMs: 300, rebindIntervalMs: 0 }));
  const file = path.join(ts.dir, 'stale.bin');
  try {
    await c.session.bindChannel('127.0.0.1', 1e9, ts.port);
    const f = await c.tree.open('stale.bin', { access: Access.GENERIC_READ | Access.GENERIC_WRITE, disposition: CreateDisposition.OVERWRITE_IF });
    const a = randomBytes(4 * MiB);
    proxy.holdAfter(3 * MiB);
    // Goes out on the first channel (nothing in flight anywhere), stalls there, and is replayed
    // on the second with the next channel sequence once the client gives the first up.
    assert.equal(await f.write(0, a), a.length);
    assert.equal(c.session.channels.losses.length, 1, 'the held channel was given up');
    assert.ok(c.session.channels.replays >= 1, 'the WRITE was replayed');
    const b = randomBytes(4 * MiB);
    assert.equal(await f.write(0, b), b.length);
    // The dead link comes back: the rest of the first WRITE reaches the server after all.
    proxy.release();
    await sleep(300);
    assert.ok((await readFile(file)).equals(b), 'stale bytes of the given-up WRITE overwrote the later one');
    await f.close();
  } finally {
    await proxy.close();
    await c.close().catch(() => undefined);
  }
});
