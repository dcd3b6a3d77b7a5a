// Extended attributes: FILE_FULL_EA_INFORMATION encoding, names, and storage rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import { decodeFileFullEaInformation } from '../../src/protocol/fscc/index.js';
import { checkEaName, decodeGetEaList, eaListSize, eaSizeOf, encodeFullEaList, queryFullEas, readEas, writeEas } from '../../src/handlers/ea.js';
import { MapExtraStore } from '../../src/vfs/map-extras.js';

function isStatus(status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof NtStatusError, `expected NtStatusError, got ${String(err)}`);
    assert.equal((err as NtStatusError).status, status >>> 0, (err as Error).message);
    return true;
  };
}

const TWO = [
  { flags: 0, name: 'EAONE', value: Buffer.from('VALUE1') },
  { flags: 0x80, name: 'SECONDEA', value: Buffer.from('ValueTwo') },
];

test('encodeFullEaList: layout, alignment, and a round trip through the decoder', () => {
  const buf = encodeFullEaList(TWO);
  // First entry: 8 + 5 + 1 + 6 = 20, already 4-aligned; last entry unpadded: 8 + 8 + 1 + 8 = 25.
  assert.equal(buf.readUInt32LE(0), 20);
  assert.equal(buf.readUInt8(4), 0);
  assert.equal(buf.readUInt8(5), 5);
  assert.equal(buf.readUInt16LE(6), 6);
  assert.equal(buf.toString('latin1', 8, 13), 'EAONE');
  assert.equal(buf[13], 0);
  assert.equal(buf.length, 45);
  assert.equal(eaListSize(TWO), 45);
  const back = decodeFileFullEaInformation(buf);
  assert.deepEqual(back.map((e) => [e.flags, e.name, e.value.toString()]), [[0, 'EAONE', 'VALUE1'], [0x80, 'SECONDEA', 'ValueTwo']]);
  // An entry that needs padding: 8 + 1 + 1 + 1 = 11 -> 12.
  const padded = encodeFullEaList([{ flags: 0, name: 'A', value: Buffer.from('x') }, TWO[0]!]);
  assert.equal(padded.readUInt32LE(0), 12);
  assert.equal(eaListSize([]), 0);
});

test('checkEaName refuses what NTFS refuses', () => {
  checkEaName('EAONE');
  checkEaName('user.name-1');
  for (const bad of ['', 'a*b', 'a?b', 'a:b', 'a\\b', 'a/b', 'a<b', 'a|b', 'a\x01', 'x'.repeat(256), 'caf\u00e9']) {
    assert.throws(() => checkEaName(bad), isStatus(Status.INVALID_EA_NAME), JSON.stringify(bad));
  }
});

test('writeEas: names upper-cased, an empty value deletes, sizes follow', () => {
  const store = new MapExtraStore();
  assert.equal(eaSizeOf(store), 0);
  writeEas(store, [{ flags: 0, name: 'eaOne', value: Buffer.from('VALUE1') }, TWO[1]!]);
  assert.deepEqual(readEas(store).map((e) => [e.name, e.flags, e.value.toString()]), [['EAONE', 0, 'VALUE1'], ['SECONDEA', 0x80, 'ValueTwo']]);
  assert.equal(eaSizeOf(store), 45);
  // Setting by another case replaces the same EA.
  writeEas(store, [{ flags: 0, name: 'EAone', value: Buffer.from('v') }]);
  assert.equal(readEas(store).find((e) => e.name === 'EAONE')!.value.toString(), 'v');
  writeEas(store, [{ flags: 0, name: 'EAONE', value: Buffer.alloc(0) }]);
  assert.deepEqual(readEas(store).map((e) => e.name), ['SECONDEA']);
  // Streams in the same store are not EAs.
  store.set('stream', 'EAONE', Buffer.from('data'));
  assert.deepEqual(readEas(store).map((e) => e.name), ['SECONDEA']);
  // A bad name anywhere in the list leaves everything as it was.
  assert.throws(() => writeEas(store, [{ flags: 0, name: 'OK', value: Buffer.from('1') }, { flags: 0, name: 'b*d', value: Buffer.from('1') }]), isStatus(Status.INVALID_EA_NAME));
  assert.deepEqual(readEas(store).map((e) => e.name), ['SECONDEA']);
});

test('queryFullEas: all, by name, overflow, too small, none', () => {
  const store = new MapExtraStore();
  assert.throws(() => queryFullEas(store, 1024, undefined), isStatus(Status.NO_EAS_ON_FILE));
  writeEas(store, TWO);
  const all = queryFullEas(store, 1024, undefined);
  assert.equal(all.status, Status.SUCCESS);
  assert.equal(all.data.length, 45);
  const first = queryFullEas(store, 30, undefined);
  assert.equal(first.status, Status.BUFFER_OVERFLOW);
  assert.deepEqual(decodeFileFullEaInformation(first.data).map((e) => e.name), ['EAONE']);
  assert.throws(() => queryFullEas(store, 10, undefined), isStatus(Status.BUFFER_TOO_SMALL));
  const named = queryFullEas(store, 1024, ['secondea', 'MISSING']);
  assert.deepEqual(decodeFileFullEaInformation(named.data).map((e) => [e.name, e.value.length]), [['SECONDEA', 8], ['MISSING', 0]]);
});

test('decodeGetEaList: FILE_GET_EA_INFORMATION chain and its bounds', () => {
  const buf = Buffer.alloc(16);
  buf.writeUInt32LE(8, 0);
  buf.writeUInt8(2, 4);
  buf.write('AB', 5, 'latin1');
  buf.writeUInt32LE(0, 8);
  buf.writeUInt8(3, 12);
  buf.write('CDE', 13, 'latin1');
  assert.deepEqual(decodeGetEaList(buf), ['AB', 'CDE']);
  assert.throws(() => decodeGetEaList(buf.subarray(0, 14)), isStatus(Status.INVALID_PARAMETER));
  const loop = Buffer.from(buf);
  loop.writeUInt32LE(1, 0);
  assert.throws(() => decodeGetEaList(loop), isStatus(Status.INVALID_PARAMETER));
});
