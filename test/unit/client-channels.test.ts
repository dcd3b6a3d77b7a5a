// The client's multichannel half: interface records decode as the server encodes them, channel
// targets are ranked as Windows ranks them, and bound channels carry signed (or sealed) IO.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { createServer, connect, SmbError } from '../../src/index.js';
import { startTestServer, TEST_PASSWORD, TEST_USER, type TestServer } from '../harness/test-server.js';
import { ntHashFromPassword } from '../../src/auth/index.js';
import { ChannelSet, chooseChannelTargets, decodeInterfaceInfo, type Connection, type ConnectOptions, type RequestOptions, type Response } from '../../src/client/index.js';
import { encodeInterfaceInfo } from '../../src/multichannel/interfaces.js';
import { Access, Command, CreateDisposition, HeaderFlags } from '../../src/protocol/constants.js';
import { decodeHeader, encodeHeader } from '../../src/protocol/header.js';
import { Framer, framePrefix } from '../../src/transport/framer.js';
import { Connection as ClientConnection } from '../../src/client/connection.js';
import { Status } from '../../src/protocol/status.js';

let dir: string;
const logs: string[] = [];
let ts: TestServer;
const USER = TEST_USER;
const PASSWORD = TEST_PASSWORD;


before(async () => {
  ts = await startTestServer({ prefix: 'smb3d-client-mc-', interfaces: [{ name: '127.0.0.1', speed: 10_000_000_000, capabilities: ['RSS'] }], logger: pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) }) });
  dir = ts.dir;
});

after(() => ts.stop());

const opts = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ts.opts(extra);
const bound = () => logs.filter((l) => l.includes('channel bound to session')).length;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The server's write counters of the opens of `file` that closed (debug line "open closed"). */
const writeTotals = (file: string) =>
  logs
    .map((l) => JSON.parse(l) as { msg: string; path?: string; writes: number; bytes: number; replays: number; replaysSkipped: number })
    .filter((l) => l.msg === 'open closed' && l.path === file)
    .reduce((a, l) => ({ writes: a.writes + l.writes, bytes: a.bytes + l.bytes, replays: a.replays + l.replays, replaysSkipped: a.replaysSkipped + l.replaysSkipped }), { writes: 0, bytes: 0, replays: 0, replaysSkipped: 0 });

test('decodeInterfaceInfo reads what the server encodes (IPv4 and IPv6)', () => {
  const buf = encodeInterfaceInfo([
    { ifIndex: 7, speed: 10_000_000_000n, rss: true, rdma: false, family: 4, address: '10.77.1.1' },
    { ifIndex: 8, speed: 1_000_000_000n, rss: false, rdma: true, family: 6, address: 'fe80::1:2', scopeId: 8 },
  ]);
  assert.deepEqual(decodeInterfaceInfo(buf), [
    { ifIndex: 7, speed: 1e10, rss: true, rdma: false, family: 4, address: '10.77.1.1' },
    { ifIndex: 8, speed: 1e9, rss: false, rdma: true, family: 6, address: 'fe80::1:2', scopeId: 8 },
  ]);
  assert.deepEqual(decodeInterfaceInfo(Buffer.alloc(0)), []);
  const bad = Buffer.from(buf);
  bad.writeUInt32LE(8, 0);
  assert.throws(() => decodeInterfaceInfo(bad), RangeError);
});

test('chooseChannelTargets: RSS first, then speed; one channel per address before a second; up to 4 on RSS, 1 elsewhere', () => {
  const it = (address: string, speed: number, rss = false) => ({ ifIndex: 1, rdma: false, family: 4 as const, address, speed, rss });
  const list = [it('10.0.0.1', 1e9), it('10.0.0.2', 1e10), it('10.0.0.3', 1e9, true), it('10.0.0.4', 25e9), it('10.0.0.2', 1e10)];
  assert.deepEqual(chooseChannelTargets(list, 2, ['::ffff:10.0.0.4']).map((t) => t.address), ['10.0.0.3', '10.0.0.2']);
  assert.deepEqual(chooseChannelTargets(list, 9, []).map((t) => t.address), ['10.0.0.3', '10.0.0.4', '10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.3', '10.0.0.3']);
  // Four RSS links, one channel on the first: the next three go to the other links, not to the first again.
  const four = [1, 2, 3, 4].map((k) => it(`10.77.${k}.1`, 1e9, true));
  assert.deepEqual(chooseChannelTargets(four, 3, ['10.77.1.1']).map((t) => t.address), ['10.77.2.1', '10.77.3.1', '10.77.4.1']);
  assert.deepEqual(chooseChannelTargets(four, 5, ['10.77.1.1']).map((t) => t.address), ['10.77.2.1', '10.77.3.1', '10.77.4.1', '10.77.1.1', '10.77.2.1']);
  // One RSS address already carrying four channels takes no more; a non-RSS one in use none.
  assert.deepEqual(chooseChannelTargets([it('10.0.0.3', 1e9, true)], 3, Array(4).fill('10.0.0.3')), []);
  assert.deepEqual(chooseChannelTargets([it('10.0.0.1', 1e9)], 3, ['10.0.0.1']), []);
});

test('client queries the interfaces and binds channels; IO spreads over all of them', async () => {
  const c = await connect(opts());
  try {
    const ifs = await c.tree.queryNetworkInterfaces();
    assert.deepEqual(ifs.map((i) => [i.address, i.speed, i.rss]), [['127.0.0.1', 1e10, true]]);
    const before = bound();
    // One advertised address, RSS-capable: it takes up to four channels, as Windows opens them.
    const report = await c.addChannels(5);
    assert.deepEqual(report.added.map((ch) => ch.connection.remoteAddress?.replace(/^::ffff:/, '')), ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    assert.equal(bound() - before, 3, 'the server logs each bind');
    assert.equal(c.session.channels.alive.length, 4);
    const data = randomBytes(8 * 1024 * 1024);
    await c.tree.writeFile('spread.bin', data, { chunkSize: 256 * 1024, depth: 16 });
    assert.equal(sha(await readFile(path.join(dir, 'spread.bin'))), sha(data));
    assert.equal(sha(await c.tree.readFile('spread.bin', { chunkSize: 256 * 1024, depth: 16 })), sha(data));
    for (const ch of c.session.channels.list) assert.ok(ch.bytes >= 2 * 1024 * 1024, `a channel carried only ${ch.bytes} bytes`);
  } finally {
    await c.close();
  }
});

test('ChannelSet weighs channels by link speed and skips closed ones', () => {
  const conn = (closed = false) => ({ closed, stalledMs: () => 0 }) as unknown as Connection;
  const sec = { sessionId: 1n, cipherId: 1, encryptKey: Buffer.alloc(0), decryptKey: Buffer.alloc(0), encrypt: false };
  const set = new ChannelSet({ connection: conn(), security: sec, speed: 1e9 });
  set.add({ connection: conn(), security: sec, speed: 3e9 });
  set.add({ connection: conn(true), security: sec, speed: 100e9 });
  const counts = [0, 0, 0];
  for (let i = 0; i < 400; i++) {
    const ch = set.pick(1 << 20)!;
    ch.inflightBytes += 1 << 20;
    counts[set.list.indexOf(ch)]!++;
  }
  assert.deepEqual(counts, [100, 300, 0]);
  set.stop();
});

test('ChannelSet: after a loss, STATUS_FILE_NOT_AVAILABLE is retried as a replay under the new sequence; CREATE is not replayed', async () => {
  const sent: Array<{ command: number; seq?: number; replay?: boolean; on: string }> = [];
  const stub = (name: string, answer: (o: RequestOptions) => Promise<Response>) => {
    const c = { closed: false, remoteAddress: name, stalledMs: () => 0, abort: () => void (c.closed = true) };
    return Object.assign(c, { request: (o: RequestOptions) => (sent.push({ command: o.command, seq: o.channelSequence, replay: o.replay, on: name }), answer(o)) }) as unknown as Connection;
  };
  const ok = (): Promise<Response> => Promise.resolve({ status: 0, flags: 0, sessionId: 1n, treeId: 1, msg: Buffer.alloc(64), release: () => undefined });
  const sec = { sessionId: 1n, cipherId: 1, encryptKey: Buffer.alloc(0), decryptKey: Buffer.alloc(0), encrypt: false };
  let barrier = 2;
  const dying = stub('a', () => {
    (dying as unknown as { closed: boolean }).closed = true;
    return Promise.reject(new Error('ECONNRESET'));
  });
  const set = new ChannelSet({ connection: dying, security: sec, speed: 1e9 });
  set.add({ connection: stub('b', () => (barrier-- > 0 ? Promise.reject(new SmbError(Status.FILE_NOT_AVAILABLE, Command.WRITE)) : ok())), security: sec, speed: 1e6 });
  await set.send({ command: Command.WRITE, body: Buffer.alloc(0), payloadSize: 1 });
  assert.deepEqual(sent, [
    { command: Command.WRITE, seq: 0, replay: false, on: 'a' },
    { command: Command.WRITE, seq: 1, replay: true, on: 'b' },
    { command: Command.WRITE, seq: 1, replay: true, on: 'b' },
    { command: Command.WRITE, seq: 1, replay: true, on: 'b' },
  ]);
  assert.deepEqual([set.losses.length, set.replays, set.notAvailable], [1, 3, 2]);
  // A CREATE that dies with its channel is not sent again: without a durable CreateGuid it could open twice.
  const dying2 = stub('c', () => {
    (dying2 as unknown as { closed: boolean }).closed = true;
    return Promise.reject(new Error('ECONNRESET'));
  });
  const set2 = new ChannelSet({ connection: dying2, security: sec, speed: 1e9 });
  set2.add({ connection: stub('d', ok), security: sec, speed: 1e6 });
  await assert.rejects(set2.send({ command: Command.CREATE, body: Buffer.alloc(0) }), /ECONNRESET/);
  assert.equal(sent.filter((x) => x.on === 'd').length, 0);
  // One that says it can be replayed (a durable v2 CreateGuid) is sent again, flagged.
  const dying3 = stub('e', () => {
    (dying3 as unknown as { closed: boolean }).closed = true;
    return Promise.reject(new Error('ECONNRESET'));
  });
  const set3 = new ChannelSet({ connection: dying3, security: sec, speed: 1e9 });
  set3.add({ connection: stub('f', ok), security: sec, speed: 1e6 });
  await set3.send({ command: Command.CREATE, body: Buffer.alloc(0), replayable: true });
  assert.deepEqual(sent.filter((x) => x.on === 'f').map((x) => [x.command, x.replay]), [[Command.CREATE, true]]);
  set.stop();
  set2.stop();
  set3.stop();
});

test('ChannelSet: the last channel left is given up only after lastChannelTimeoutMs without a byte', async () => {
  let stalled = 0;
  const mk = () => {
    const c = { closed: false, remoteAddress: 'x', stalledMs: () => stalled, asyncQuietMs: () => 0, abort: () => void (c.closed = true) };
    return c as unknown as Connection & { closed: boolean };
  };
  const sec = { sessionId: 1n, cipherId: 1, encryptKey: Buffer.alloc(0), decryptKey: Buffer.alloc(0), encrypt: false };
  const a = mk();
  const b = mk();
  const set = new ChannelSet({ connection: a, security: sec, speed: 1e9 }, { stallTimeoutMs: 100, lastChannelTimeoutMs: 400 });
  set.add({ connection: b, security: sec, speed: 1e9 });
  (a as { closed: boolean }).closed = true; // one channel lost already: b is the last one
  stalled = 250; // past stallTimeoutMs, short of lastChannelTimeoutMs
  await sleep(150);
  assert.equal(b.closed, false, 'the last channel is kept while it may still deliver');
  stalled = 450;
  await sleep(150);
  assert.equal(b.closed, true, 'given up after lastChannelTimeoutMs');
  set.stop();
});

test('ChannelSet: a channel where only STATUS_PENDING requests wait and nothing arrives is probed with an ECHO, and given up if that stalls', async () => {
  let quiet = 0;
  let stalled = 0;
  let probes = 0;
  const mk = () => {
    const c = { closed: false, remoteAddress: 'x', stalledMs: () => stalled, asyncQuietMs: () => quiet, probe: () => void probes++, abort: () => void (c.closed = true) };
    return c as unknown as Connection & { closed: boolean };
  };
  const sec = { sessionId: 1n, cipherId: 1, encryptKey: Buffer.alloc(0), decryptKey: Buffer.alloc(0), encrypt: false };
  const a = mk();
  const set = new ChannelSet({ connection: a, security: sec, speed: 1e9 }, { stallTimeoutMs: 100 });
  set.add({ connection: mk(), security: sec, speed: 1e9 });
  quiet = 50;
  await sleep(120);
  assert.equal(probes, 0, 'an async request quiet for less than stallTimeoutMs is left alone');
  quiet = 150;
  await sleep(120);
  assert.ok(probes > 0, 'probed once quiet for stallTimeoutMs');
  assert.equal(a.closed, false, 'a probe is not a verdict');
  quiet = 0;
  stalled = 150; // the ECHO went unanswered
  await sleep(120);
  assert.equal(a.closed, true);
  set.stop();
});

test('Connection.asyncQuietMs counts only while every waiting request is async; probe() sends an ECHO', async () => {
  // A server that answers every request with an async interim STATUS_PENDING and nothing more.
  const seen: number[] = [];
  const srv = net.createServer((s) => {
    const framer = new Framer(1 << 20);
    s.on('data', (d) => {
      for (const f of framer.push(d)) {
        const h = decodeHeader(f);
        seen.push(h.command);
        if (h.command === Command.ECHO) continue; // the link "died": the probe is never answered
        const r = encodeHeader({ ...h, status: Status.PENDING, flags: HeaderFlags.SERVER_TO_REDIR | HeaderFlags.ASYNC_COMMAND, credits: 1, asyncId: 1n, signature: Buffer.alloc(16) });
        const body = Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0]);
        s.write(Buffer.concat([framePrefix(r.length + body.length), r, body]));
      }
    });
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const conn = await ClientConnection.connect('127.0.0.1', (srv.address() as net.AddressInfo).port);
  try {
    const waiting = conn.request({ command: Command.READ, body: Buffer.alloc(49) }).catch((e: Error) => e);
    await sleep(100);
    assert.equal(conn.stalledMs(), 0, 'an async request is not a stall');
    assert.ok(conn.asyncQuietMs() >= 80, `quiet ${conn.asyncQuietMs()} ms`);
    conn.probe();
    await sleep(100);
    assert.deepEqual(seen, [Command.READ, Command.ECHO]);
    assert.equal(conn.asyncQuietMs(), 0, 'the probe waits: stalledMs measures it now');
    assert.ok(conn.stalledMs() >= 80);
    conn.abort(new Error('given up'));
    assert.match(String(await waiting), /given up/);
  } finally {
    conn.close();
    srv.close();
  }
});

for (const how of ['socket error', 'stall'] as const) {
  test(`failover on a ${how}: outstanding IO is replayed on the other channels with a new ChannelSequence`, async () => {
    const c = await connect(opts({ stallTimeoutMs: 300, rebindIntervalMs: 0 }));
    try {
      for (let i = 0; i < 2; i++) await c.session.bindChannel('127.0.0.1', 1e9);
      c.session.channels.list[0]!.speed = 1e9;
      const victim = c.session.channels.list[1]!;
      const data = randomBytes(24 * 1024 * 1024);
      let done = 0;
      let killed = false;
      const kill = () => {
        if (killed || done < 4 * 1024 * 1024) return;
        killed = true;
        // A socket error ends the connection at once; a stall is a channel that stops delivering
        // (as after a dropped link) and must be noticed by the watchdog.
        if (how === 'socket error') victim.connection.abort(new Error('ECONNRESET (test)'));
        else (victim.connection as unknown as { sock: import('node:net').Socket }).sock.pause();
      };
      const io = { chunkSize: 256 * 1024, depth: 24, onProgress: (n: number) => ((done += n), kill()) };
      await c.tree.writeFile(`failover-${how.replace(' ', '-')}.bin`, data, io);
      assert.ok(killed);
      assert.equal(sha(await readFile(path.join(dir, `failover-${how.replace(' ', '-')}.bin`))), sha(data), 'the server has exactly what was written');
      const totals = writeTotals(`failover-${how.replace(' ', '-')}.bin`);
      assert.equal(totals.bytes, data.length, `no WRITE ran twice on the server: ${JSON.stringify(totals)}`);
      assert.equal(totals.writes, data.length / (256 * 1024));
      assert.equal(c.session.channels.losses.length, 1);
      assert.equal(c.session.channels.losses[0]!.channel, victim);
      assert.equal(c.session.channels.sequence, 1);
      assert.ok(c.session.channels.replays > 0, 'the lost channel\'s requests were replayed');
      assert.equal(c.session.channels.alive.length, 2);
      assert.equal(sha(await c.tree.readFile(`failover-${how.replace(' ', '-')}.bin`, { chunkSize: 256 * 1024, depth: 24 })), sha(data));
    } finally {
      await c.close();
    }
  });
}

test('a CREATE whose channel is lost after the server ran it is replayed with its CreateGuid and gets the original open', async () => {
  const c = await connect(opts({ stallTimeoutMs: 300, rebindIntervalMs: 0 }));
  try {
    await c.session.bindChannel('127.0.0.1', 1e9);
    const first = c.session.channels.list[0]!;
    // The CREATE goes to the first channel (nothing in flight anywhere); it stops reading, so the
    // server runs the CREATE but its answer is never seen, as when a link drops the replies.
    (first.connection as unknown as { sock: import('node:net').Socket }).sock.pause();
    // Disposition CREATE: run a second time, it would fail with STATUS_OBJECT_NAME_COLLISION.
    const f = await c.tree.open('created-once.bin', { access: Access.GENERIC_WRITE | Access.GENERIC_READ, disposition: CreateDisposition.CREATE });
    assert.equal(c.session.channels.losses.length, 1);
    assert.equal(c.session.channels.losses[0]!.channel, first);
    assert.ok(c.session.channels.replays >= 1, 'the CREATE was replayed');
    await f.write(0, Buffer.from('once'));
    await f.close();
    assert.equal((await readFile(path.join(dir, 'created-once.bin'))).toString(), 'once');
  } finally {
    await c.close();
  }
});

test('a replayed WRITE whose bytes are already in the file is answered without writing again', async () => {
  const c = await connect(opts());
  try {
    const a = Buffer.alloc(64 * 1024, 0x61);
    const b = Buffer.alloc(64 * 1024, 0x62);
    const f = await c.tree.open('replayed.bin', { access: Access.GENERIC_WRITE | Access.GENERIC_READ, disposition: CreateDisposition.OVERWRITE_IF });
    await f.write(0, a);
    // From here every request goes out flagged SMB2_FLAGS_REPLAY_OPERATION, as after a lost channel.
    const channels = c.session.channels;
    const send = channels.send.bind(channels);
    channels.send = (o) => send({ ...o, replay: true });
    assert.equal(await f.write(0, a), a.length, 'the replay of a WRITE that ran reports its count');
    assert.equal(await f.write(a.length, b), b.length, 'a replay whose original never arrived is written');
    assert.equal(await f.write(0, b), b.length, 'a replay with other bytes than the file holds is written');
    channels.send = send;
    await f.close();
    assert.deepEqual(writeTotals('replayed.bin'), { writes: 3, bytes: 3 * 64 * 1024, replays: 3, replaysSkipped: 1 });
    assert.deepEqual(await readFile(path.join(dir, 'replayed.bin')), Buffer.concat([b, b]));
  } finally {
    await c.close();
  }
});

for (const [name, extra] of [
  ['3.0', { dialects: [0x0300] }],
  ['3.0.2', { dialects: [0x0302] }],
  ['3.1.1 sealed', { encrypt: true }],
] as const) {
  test(`client binds a channel on ${name}`, async () => {
    const c = await connect(opts(extra as Partial<ConnectOptions>));
    try {
      const ch = await c.session.bindChannel('127.0.0.1');
      assert.ok(c.session.channels.list.includes(ch));
      const data = randomBytes(3 * 1024 * 1024);
      await c.tree.writeFile('d.bin', data, { chunkSize: 512 * 1024 });
      assert.equal(sha(await c.tree.readFile('d.bin', { chunkSize: 512 * 1024 })), sha(data));
      assert.ok(ch.bytes > 0, 'the bound channel carried IO');
    } finally {
      await c.close();
    }
  });
}

test('connect({ channels }) binds to advertised addresses only; 2.1 cannot bind', async () => {
  // The only advertised address is the one in use and RSS-capable: four channels at most, all to it.
  const c = await connect(opts({ channels: 6 }));
  try {
    assert.equal(c.session.channels.list.length, 4);
    assert.equal(c.session.channels.list[0]!.speed, 1e10, 'the first channel takes its speed from the advertisement');
  } finally {
    await c.close();
  }
  const old = await connect(opts({ dialects: [0x0210] }));
  try {
    await assert.rejects(old.session.bindChannel('127.0.0.1'), (e: unknown) => e instanceof SmbError && e.statusName === 'STATUS_NOT_SUPPORTED');
  } finally {
    await old.close();
  }
});

test('a server with multichannel off: connect({ channels }) goes on with one channel and says why', async () => {
  const ntHash = await ntHashFromPassword(PASSWORD);
  const off = createServer({
    shares: [{ name: 'data', path: dir, readOnly: false, guestOk: false, browseable: true, encrypt: 'if_required' }],
    users: { get: async (n) => (n.toLowerCase() === USER ? { name: USER, ntHash } : undefined) },
    port: 0,
    listen: ['127.0.0.1'],
    multiChannel: false,
    logger: pino({ level: 'silent' }),
  });
  await off.listen();
  try {
    const c = await connect({ ...opts(), port: off.addresses()[0]!.port, channels: 3 });
    try {
      assert.equal(c.session.channels.list.length, 1);
      const report = await c.addChannels(1);
      assert.equal(report.added.length, 0);
      assert.equal((report.failed[0]?.error as SmbError).statusName, 'STATUS_INVALID_DEVICE_REQUEST');
      await c.tree.writeFile('single.bin', Buffer.from('still works'));
    } finally {
      await c.close();
    }
  } finally {
    await off.close();
  }
});

test('binds asked for at once take turns; one the server never answers fails after bindTimeoutMs, and the next still binds', { timeout: 20_000 }, async () => {
  // Accepts, reads, never answers: as a server that drops a bind.
  const silent = net.createServer((s) => s.resume());
  silent.listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const c = await connect(opts({ bindTimeoutMs: 400 }));
  try {
    const t0 = Date.now();
    const results = await Promise.allSettled([
      c.session.bindChannel('127.0.0.1', 1e9, silentPort),
      c.session.bindChannel('127.0.0.1', 1e9),
      c.session.bindChannel('127.0.0.1', 1e9),
    ]);
    assert.equal(results[0]!.status, 'rejected');
    const reason = (results[0] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof SmbError && reason.statusName === 'STATUS_IO_TIMEOUT', String(reason));
    assert.deepEqual(results.slice(1).map((r) => r.status), ['fulfilled', 'fulfilled'], 'the binds queued behind the silent one went through');
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(c.session.channels.alive.length, 3);
    const data = randomBytes(2 * 1024 * 1024);
    await c.tree.writeFile('after-timeout.bin', data, { chunkSize: 256 * 1024, depth: 8 });
    assert.equal(sha(await c.tree.readFile('after-timeout.bin')), sha(data));
  } finally {
    await c.close();
    await new Promise((r) => silent.close(r));
  }
});
