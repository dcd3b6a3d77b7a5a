import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, FrameError, framePrefix } from '../../src/transport/framer.js';
import { CreditWindow } from '../../src/server/credits.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { FrameArrival } from '../../src/transport/frame-arrival.js';
import net from 'node:net';
import { writeSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { decodeHeader, encodeHeader } from '../../src/protocol/header.js';
import { HeaderFlags } from '../../src/protocol/constants.js';

test('framer with reused chunks copies every frame out, into buffers its allocator gives', () => {
  const sizes: number[] = [];
  const f = new Framer(1024, (len) => (sizes.push(len), Buffer.alloc(len + 100)), true);
  const wire = Buffer.concat([framePrefix(5), Buffer.from('hello'), framePrefix(3), Buffer.from('abc')]);
  const frames = f.push(wire);
  wire.fill(0x78); // the caller reuses its read buffer for the next read
  assert.deepEqual(frames.map(String), ['hello', 'abc']);
  assert.deepEqual(sizes, [5, 3]);
});

test('framer reassembles frames split across chunks and splits coalesced ones', () => {
  const f = new Framer(1024);
  const a = Buffer.from('hello');
  const b = Buffer.from('world!!');
  const wire = Buffer.concat([framePrefix(a.length), a, framePrefix(b.length), b]);
  const out: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 3) out.push(...f.push(wire.subarray(i, i + 3)));
  assert.deepEqual(out.map(String), ['hello', 'world!!']);
  assert.deepEqual(new Framer(1024).push(wire).map(String), ['hello', 'world!!']);
});

test('framer refuses oversize frames, empty frames and non-zero session message types', () => {
  assert.throws(() => new Framer(100).push(framePrefix(101)), FrameError);
  assert.throws(() => new Framer(100).push(Buffer.from([0, 0, 0, 0])), FrameError);
  assert.throws(() => new Framer(100).push(Buffer.from([0x81, 0, 0, 4])), FrameError);
});

test('credit window accepts granted ids once, in any order, and refuses the rest', () => {
  const w = new CreditWindow(8192);
  assert.equal(w.consume(0n, 1), true);
  assert.equal(w.consume(0n, 1), false, 'reuse');
  assert.equal(w.consume(1n, 1), false, 'not granted yet');
  assert.equal(w.grant(10, 1), 10, 'the charge back plus nine more');
  assert.equal(w.outstanding, 10);
  assert.equal(w.consume(5n, 2), true, 'out of order, multi-credit');
  assert.equal(w.consume(6n, 1), false);
  assert.equal(w.consume(1n, 4), true);
  assert.equal(w.consume(10n, 2), false, 'beyond the window');
  assert.equal(w.outstanding, 4);
});

test('credit window never grants beyond its maximum but never leaves the client dry', () => {
  const w = new CreditWindow(16);
  assert.equal(w.grant(100, 1), 15);
  assert.equal(w.outstanding, 16);
  assert.equal(w.grant(100, 1), 0);
  for (let i = 0n; i < 16n; i++) assert.equal(w.consume(i, 1), true);
  assert.equal(w.grant(0, 1, 'none'), 1);
});

test('in-order large charges advance the window; a hole still blocks reuse and the ids below it', () => {
  const w = new CreditWindow(8192);
  w.grant(1024, 1);
  assert.equal(w.consume(0n, 128), true);
  assert.equal(w.consume(0n, 1), false, 'reuse of a consumed id');
  assert.equal(w.consume(256n, 128), true, 'ahead of the next id');
  assert.equal(w.consume(128n, 128), true, 'fills the hole');
  assert.equal(w.consume(300n, 1), false, 'inside the range consumed out of order');
  assert.equal(w.consume(384n, 128), true);
  assert.equal(w.outstanding, 1 + 1024 - 512);
});

test('a multi-credit request gets its charge back plus what it asked for beyond one', () => {
  const w = new CreditWindow(8192);
  w.grant(256, 1);
  assert.equal(w.consume(1n, 128), true);
  assert.equal(w.grant(256, 128), 128 + 255);
  assert.equal(w.grant(5, 3, 'none'), 3, 'NEGOTIATE and failed SESSION_SETUP only get the charge back');
});

test('SMB2 header round-trips sync and async forms', () => {
  const base = {
    creditCharge: 3, status: 0xc0000022, command: 8, credits: 31, nextCommand: 0,
    messageId: 0x1122334455667788n, treeId: 7, sessionId: 0xabcdefn, asyncId: 0n, signature: Buffer.alloc(16, 0xaa),
  };
  const sync = encodeHeader({ ...base, flags: HeaderFlags.SERVER_TO_REDIR });
  assert.equal(sync.length, 64);
  assert.equal(sync.toString('hex', 0, 4), 'fe534d42');
  assert.deepEqual({ ...decodeHeader(sync), signature: null }, { ...base, flags: 1, signature: null });
  const asyncHdr = encodeHeader({ ...base, flags: HeaderFlags.ASYNC_COMMAND, asyncId: 99n });
  const d = decodeHeader(asyncHdr);
  assert.equal(d.asyncId, 99n);
  assert.equal(d.treeId, 0);
  assert.throws(() => decodeHeader(Buffer.alloc(10)));
});

/** A loopback connection whose accepted side is paused, as the server accepts them (direct reads). */
async function pausedPair() {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  return { server, peer, accepted };
}

test('direct reads: frames of every size arrive intact and in order, replies go out, the server closes', async () => {
  const { server, peer, accepted } = await pausedPair();
  const got: Buffer[] = [];
  const allocs: number[] = [];
  let closed = '';
  const transport = new TcpTransport(
    accepted,
    16 << 20,
    {
      onFrame: (f) => {
        got.push(Buffer.from(f));
        transport.send([Buffer.from(`ack${got.length}`)]);
      },
      onClose: (r) => (closed = r),
      allocFrame: (len) => (allocs.push(len), Buffer.alloc(len + 7, 0xaa)),
    },
    { directReads: true },
  );
  assert.notEqual(transport.socket, accepted, 'the handle moved to a socket with onread');
  const sizes = [5, 70_000, 1, 3 * 1024 * 1024 + 17, 64 * 1024, 200, 8 * 1024 * 1024, 9];
  const frames = sizes.map((n) => randomBytes(n));
  const wire = Buffer.concat(frames.flatMap((f) => [framePrefix(f.length), f]));
  // Odd-sized writes, so frames start and end anywhere in a read.
  for (let at = 0; at < wire.length; ) {
    const n = Math.min(wire.length - at, 1 + ((at * 7919) % 300_000));
    peer.write(wire.subarray(at, at + n));
    at += n;
  }
  let replies = '';
  peer.on('data', (d: Buffer) => (replies += d.toString('latin1')));
  while (got.length < frames.length) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got.map((g) => g.length), sizes);
  for (let i = 0; i < frames.length; i++) assert.ok(got[i]!.equals(frames[i]!), `frame ${i} intact`);
  assert.deepEqual(allocs, sizes, 'every frame copied out of the reused read buffer or read into its own');
  while (!replies.includes(`ack${frames.length}`)) await new Promise((r) => setTimeout(r, 10));
  peer.end();
  await once(server.close(), 'close');
  assert.match(closed, /peer/);
});

test('sendWithFile: messages sent meanwhile follow its data in order; a source that fails resets the connection', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const peer = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  let closed = '';
  const transport = new TcpTransport(accepted, 1 << 20, { onFrame: () => undefined, onClose: (r) => (closed = r) });
  const body = randomBytes(200_000);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const order: string[] = [];
  // Stands in for sendfile: writes the data on the descriptor it is given, once let go.
  const source = (data: Buffer, fail = false) => ({
    length: data.length,
    sendTo: async (fd: number) => {
      await gate;
      if (fail) throw new Error('file ended short (test)');
      // 200 kB fits a loopback socket's buffer: one non-blocking write takes it all.
      assert.equal(writeSync(fd, data), data.length);
      order.push('file data written');
    },
    cancel: () => order.push('cancelled'),
  });
  let received = Buffer.alloc(0);
  peer.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  transport.sendWithFile([Buffer.from('HEAD')], source(body), () => order.push('file sent'));
  transport.send([Buffer.from('next')], () => order.push('next sent'));
  transport.send([Buffer.from('last')]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(received.length, 8, 'only the prefix and header went out before the file data');
  release();
  const total = 4 + 4 + body.length + 2 * 8;
  while (received.length < total) await new Promise((r) => setTimeout(r, 10));
  const want = Buffer.concat([framePrefix(4 + body.length), Buffer.from('HEAD'), body, framePrefix(4), Buffer.from('next'), framePrefix(4), Buffer.from('last')]);
  assert.ok(received.equals(want), 'header, file data, then the messages held back, in order');
  assert.deepEqual(order, ['file data written', 'file sent', 'next sent']);
  // A source that cannot deliver: the peer would wait for bytes that never come, so reset.
  transport.sendWithFile([Buffer.from('HEAD')], source(body, true));
  const queued = source(body);
  transport.sendWithFile([Buffer.from('HEAD')], queued);
  while (!closed) await new Promise((r) => setTimeout(r, 10));
  assert.match(closed, /sendfile: file ended short/);
  assert.equal(order.at(-1), 'cancelled', 'a file message still queued gives its source back');
  peer.destroy();
  await once(server.close(), 'close');
});

test('early frames: handed out once while still arriving, filled in order, followed by the next frames; a cut fails the wait', async () => {
  const { server, peer, accepted } = await pausedPair();
  const events: string[] = [];
  const arrivals: FrameArrival[] = [];
  const frames: Buffer[] = [];
  let closed = '';
  new TcpTransport(
    accepted,
    16 << 20,
    {
      onFrame: (f, arrival) => {
        events.push(`${arrival ? 'early' : 'whole'} ${f.length}`);
        frames.push(f);
        if (arrival) arrivals.push(arrival);
      },
      // Frames of 1 MiB and more whose first byte is 'E', once 16 bytes are in.
      earlyFrame: (f, filled) => f.length >= 1 << 20 && filled >= 16 && f[0] === 0x45,
      onClose: (r) => (closed = r),
      allocFrame: (len) => Buffer.alloc(len),
    },
    { directReads: true },
  );
  const big = randomBytes(3 << 20);
  big[0] = 0x45;
  const plain = randomBytes(2 << 20);
  plain[0] = 0x50;
  const wire = Buffer.concat([framePrefix(big.length), big, framePrefix(5), Buffer.from('after'), framePrefix(plain.length), plain]);
  // The first megabyte, then the rest: the big frame must be handed out before it is whole.
  peer.write(wire.subarray(0, 1 << 20));
  while (arrivals.length === 0) await new Promise((r) => setTimeout(r, 5));
  const arrival = arrivals[0]!;
  assert.equal(arrival.complete, false);
  assert.ok(arrival.filled >= 16 && arrival.filled < big.length);
  const mid = arrival.waitFor(2 << 20);
  peer.write(wire.subarray(1 << 20));
  await mid;
  await arrival.done;
  assert.ok(frames[0]!.equals(big), 'the early frame filled in with the bytes sent');
  while (frames.length < 3) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(events, [`early ${big.length}`, 'whole 5', `whole ${plain.length}`], 'handed out once, and in order');
  assert.ok(frames[2]!.equals(plain));
  // A frame cut off in mid-arrival: whoever waits on it learns so.
  const cutOff = randomBytes(2 << 20);
  cutOff[0] = 0x45;
  peer.write(Buffer.concat([framePrefix(cutOff.length), cutOff.subarray(0, 1 << 19)]));
  while (arrivals.length < 2) await new Promise((r) => setTimeout(r, 5));
  const waiting = arrivals[1]!.waitFor(cutOff.length);
  peer.destroy();
  await assert.rejects(waiting, /connection closed/);
  await assert.rejects(arrivals[1]!.done);
  assert.match(closed, /peer/);
  await once(server.close(), 'close');
});
