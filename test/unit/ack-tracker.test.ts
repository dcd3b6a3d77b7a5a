// Break delivery (R6) counts a message as delivered only when the peer's TCP acknowledged it.
// These tests use real loopback sockets: a peer that reads acknowledges, a peer that stops
// reading stops acknowledging once its window is full, and the test IOCTL's flag hides acks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { AckTracker, MAX_RTO_MS, MIN_RTO_MS, RTO_MULTIPLE } from '../../src/transport/ack-tracker.js';
import { readTcpInfo, readUnackedBytes, tcpInfoAvailable } from '../../src/native/tcp-info.js';

const linux = process.platform === 'linux';

async function pair(): Promise<{ transport: TcpTransport; peer: net.Socket; done: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const peer = net.connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  await once(peer, 'connect');
  const transport = new TcpTransport(accepted, 1 << 20, { onFrame: () => {}, onClose: () => {} });
  return {
    transport,
    peer,
    done: () => {
      transport.close('test over');
      peer.destroy();
      server.close();
    },
  };
}

test('TCP_INFO and SIOCOUTQ are read on Linux', { skip: !linux }, async () => {
  assert.equal(tcpInfoAvailable, true);
  const { transport, done } = await pair();
  try {
    const fd = (transport.socket as unknown as { _handle: { fd: number } })._handle.fd;
    const info = readTcpInfo(fd);
    assert.ok(info, 'TCP_INFO of a connected socket');
    assert.equal(info.state, 1, 'ESTABLISHED');
    assert.ok(info.rtoUs >= 200_000, `rto ${info.rtoUs} us`);
    assert.equal(readUnackedBytes(fd), 0);
    assert.equal(readTcpInfo(-1), undefined);
  } finally {
    done();
  }
});

test('a message the peer reads is acknowledged', { skip: !linux }, async () => {
  const { transport, peer, done } = await pair();
  try {
    peer.on('data', () => {});
    assert.equal(await transport.sendAcknowledged([Buffer.alloc(1000, 1)]), 'acked');
    assert.equal(transport.ack.ackedBytes(), 1004, 'the message and its 4-byte length');
  } finally {
    done();
  }
});

test('a peer that stops reading stops acknowledging: timeout after 6×RTO', { skip: !linux }, async () => {
  const { transport, peer, done } = await pair();
  try {
    peer.pause();
    // Far more than both socket buffers hold: the tail cannot be acknowledged.
    for (let i = 0; i < 64; i++) transport.send([Buffer.alloc(1 << 20)]);
    const t0 = Date.now();
    assert.equal(await transport.sendAcknowledged([Buffer.alloc(100)]), 'timeout');
    const waited = Date.now() - t0;
    assert.ok(waited >= RTO_MULTIPLE * MIN_RTO_MS - 50 && waited <= RTO_MULTIPLE * MAX_RTO_MS + 1000, `waited ${waited} ms`);
  } finally {
    done();
  }
});

test('a slow peer that keeps acknowledging is not called dead, however long the backlog takes', { skip: !linux }, async () => {
  const { transport, peer, done } = await pair();
  try {
    // Read 2 MiB, then nothing for 150 ms: about 13 MB/s, so 40 MiB take ~3 s, well past 6×RTO.
    let since = 0;
    peer.on('data', (b: Buffer) => {
      since += b.length;
      if (since >= 2 << 20) {
        since = 0;
        peer.pause();
        setTimeout(() => peer.resume(), 150);
      }
    });
    for (let i = 0; i < 40; i++) transport.send([Buffer.alloc(1 << 20)]);
    const t0 = Date.now();
    assert.equal(await transport.sendAcknowledged([Buffer.alloc(100)]), 'acked');
    assert.ok(Date.now() - t0 > RTO_MULTIPLE * MIN_RTO_MS, 'the backlog took longer than one deadline');
  } finally {
    done();
  }
});

test('forceUnacked (FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT) hides acks; closing ends the wait', { skip: !linux }, async () => {
  const { transport, peer, done } = await pair();
  try {
    peer.on('data', () => {});
    transport.ack.forceUnacked = true;
    assert.equal(await transport.sendAcknowledged([Buffer.alloc(10)]), 'timeout');
    const waiting = transport.sendAcknowledged([Buffer.alloc(10)]);
    transport.close('gone');
    assert.equal(await waiting, 'closed');
    assert.equal(await transport.sendAcknowledged([Buffer.alloc(10)]), 'closed', 'nothing is sent on a closed transport');
  } finally {
    done();
  }
});

test('without a descriptor the tracker assumes 1 s RTO and counts written bytes as acknowledged', async () => {
  const t = new AckTracker(() => -1);
  assert.equal(t.rtoMs(), MAX_RTO_MS);
  assert.equal(t.ackedBytes(), undefined);
  assert.equal(await t.waitFor(1 << 30), 'acked');
});
