import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advertisedInterfaces, encodeInterfaceInfo, DEFAULT_LINK_SPEED } from '../../src/multichannel/interfaces.js';

const nics = () => ({
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4' as const, mac: '', internal: true, cidr: null }],
  eth0: [
    { address: '192.0.2.2', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '', internal: false, cidr: null },
    { address: 'fd00::2', netmask: 'ffff::', family: 'IPv6' as const, mac: '', internal: false, cidr: null, scopeid: 0 },
  ],
  eth1: [{ address: '198.51.100.7', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '', internal: false, cidr: null }],
});
const facts = (name: string) => (name === 'eth0' ? { ifIndex: 2, speedMbps: 10000, rxQueues: 4 } : name === 'eth1' ? { ifIndex: 3, rxQueues: 1 } : {});
const sources = { networkInterfaces: nics, linkFacts: facts };

test('advertises every non-loopback address when listening on all, with detected index, speed and RSS', () => {
  const list = advertisedInterfaces(undefined, undefined, sources);
  assert.deepEqual(list.map((i) => i.address), ['192.0.2.2', 'fd00::2', '198.51.100.7']);
  assert.equal(list[0]!.ifIndex, 2);
  assert.equal(list[0]!.speed, 10_000_000_000n);
  assert.equal(list[0]!.rss, true);
  assert.equal(list[2]!.speed, DEFAULT_LINK_SPEED, 'unknown speed falls back to 1 Gbit/s');
  assert.equal(list[2]!.rss, false);
});

test('only listened-on addresses, never loopback, and the interfaces option overrides detection', () => {
  assert.deepEqual(advertisedInterfaces(['127.0.0.1', '198.51.100.7'], undefined, sources).map((i) => i.address), ['198.51.100.7']);
  const list = advertisedInterfaces(undefined, [{ name: 'eth1', ifIndex: 65, speed: 1_000_000_000, capabilities: ['RSS'] }], sources);
  assert.deepEqual(list.map((i) => [i.address, i.ifIndex, i.speed, i.rss]), [['198.51.100.7', 65, 1_000_000_000n, true]]);
});

test('loopback is advertised only when the interfaces option names it', () => {
  assert.deepEqual(advertisedInterfaces(undefined, [{ name: '127.0.0.1' }], sources).map((i) => i.address), ['127.0.0.1']);
  assert.deepEqual(advertisedInterfaces(undefined, [{ name: 'lo' }], sources).map((i) => i.address), ['127.0.0.1']);
  assert.deepEqual(advertisedInterfaces(['127.0.0.1'], [{ name: 'eth1' }], sources), []);
});

test('a server listening on loopback alone advertises it rather than nothing', () => {
  assert.deepEqual(advertisedInterfaces(['127.0.0.1'], undefined, sources).map((i) => i.address), ['127.0.0.1']);
  assert.deepEqual(advertisedInterfaces(['127.0.0.1', '198.51.100.7'], undefined, sources).map((i) => i.address), ['198.51.100.7']);
});

test('NETWORK_INTERFACE_INFO records are 152 bytes, chained, with SOCKADDR_STORAGE', () => {
  const buf = encodeInterfaceInfo(advertisedInterfaces(undefined, undefined, sources));
  assert.equal(buf.length, 3 * 152);
  assert.equal(buf.readUInt32LE(0), 152);
  assert.equal(buf.readUInt32LE(304), 0, 'last Next is 0');
  assert.equal(buf.readUInt32LE(8), 1, 'RSS capability');
  assert.equal(buf.readUInt16LE(24), 0x0002);
  assert.deepEqual([...buf.subarray(28, 32)], [192, 0, 2, 2]);
  assert.equal(buf.readUInt16LE(152 + 24), 0x0017);
  assert.equal(buf.subarray(152 + 32, 152 + 48).toString('hex'), 'fd000000000000000000000000000002');
});
