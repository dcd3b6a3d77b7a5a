import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, statfsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import { FsAttribute } from '../../src/protocol/fscc/constants.js';
import {
  decodeAllocatedRangeQuery,
  decodeSetSparse,
  decodeZeroData,
  encodeAllocatedRanges,
} from '../../src/protocol/fscc/sparse.js';
import { addExtent, clipExtents, removeExtent } from '../../src/vfs/extents.js';
import { PosixBackend } from '../../src/vfs/posix.js';
import { MemoryBackend } from '../../src/vfs/memory.js';
import { readMeta } from '../../src/vfs/posix-meta.js';
import { FileAttribute, type Backend, type ByteRange, type VfsHandle } from '../../src/vfs/types.js';

const INT64_MAX = (1n << 63n) - 1n;
const K64 = 64n * 1024n;

function isStatus(status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof NtStatusError, `expected NtStatusError, got ${String(err)}`);
    assert.equal((err as NtStatusError).status, status >>> 0, (err as Error).message);
    return true;
  };
}

function pair(a: bigint, b: bigint, size = 16): Buffer {
  const buf = Buffer.alloc(size);
  buf.writeBigInt64LE(BigInt.asIntN(64, a), 0);
  buf.writeBigInt64LE(BigInt.asIntN(64, b), 8);
  return buf;
}

// ---------- codecs ----------

test('FILE_SET_SPARSE_BUFFER: no buffer sets, first byte decides, the rest is ignored', () => {
  assert.equal(decodeSetSparse(Buffer.alloc(0)), true);
  assert.equal(decodeSetSparse(Buffer.from([0])), false);
  assert.equal(decodeSetSparse(Buffer.from([1])), true);
  assert.equal(decodeSetSparse(Buffer.from([0xff])), true);
  const oversize = Buffer.alloc(100);
  assert.equal(decodeSetSparse(oversize), false);
  oversize[0] = 0xff;
  assert.equal(decodeSetSparse(oversize), true);
});

test('FILE_ZERO_DATA_INFORMATION: malformed buffers are INVALID_PARAMETER', () => {
  for (let n = 0; n < 16; n++) assert.deepEqual(decodeZeroData(Buffer.alloc(n)), { ok: false, status: Status.INVALID_PARAMETER }, `length ${n}`);
  assert.deepEqual(decodeZeroData(pair(-1n, 10n)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeZeroData(pair(0n, -1n)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeZeroData(pair(4096n, 4095n)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeZeroData(pair(4095n, 4095n)), { ok: true, value: { start: 4095n, end: 4095n } });
  assert.deepEqual(decodeZeroData(pair(0n, INT64_MAX, 24)), { ok: true, value: { start: 0n, end: INT64_MAX } });
});

test('FILE_ALLOCATED_RANGE_BUFFER query: short, negative and wrapping ranges are INVALID_PARAMETER', () => {
  for (let n = 0; n < 16; n++) assert.equal(decodeAllocatedRangeQuery(Buffer.alloc(n)).ok, false, `length ${n}`);
  assert.deepEqual(decodeAllocatedRangeQuery(pair(512n, -1n)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeAllocatedRangeQuery(pair(-512n, 1n)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeAllocatedRangeQuery(pair(1n, INT64_MAX)), { ok: false, status: Status.INVALID_PARAMETER });
  assert.deepEqual(decodeAllocatedRangeQuery(pair(1n, INT64_MAX - 1n)), { ok: true, value: { offset: 1n, length: INT64_MAX - 1n } });
  // A doubled buffer (smbtorture's qar_malformed) is read for its first range.
  const twice = Buffer.concat([pair(0n, 1024n), pair(7n, 7n)]);
  assert.deepEqual(decodeAllocatedRangeQuery(twice), { ok: true, value: { offset: 0n, length: 1024n } });
});

test('allocated ranges answer: too small, overflow, exact', () => {
  const r = (offset: bigint, length: bigint): ByteRange => ({ offset, length });
  assert.deepEqual(encodeAllocatedRanges([], 0), { status: Status.SUCCESS, output: Buffer.alloc(0) });
  assert.equal(encodeAllocatedRanges([r(0n, 1n)], 15).status, Status.BUFFER_TOO_SMALL);
  assert.equal(encodeAllocatedRanges([r(0n, 1n)], -1).status, Status.BUFFER_TOO_SMALL);
  const three = [r(0n, 4096n), r(8192n, 4096n), r(1n << 40n, 1n)];
  const over = encodeAllocatedRanges(three, 40);
  assert.equal(over.status, Status.BUFFER_OVERFLOW);
  assert.deepEqual(over.output, Buffer.concat([pair(0n, 4096n), pair(8192n, 4096n)]));
  const all = encodeAllocatedRanges(three, 48);
  assert.equal(all.status, Status.SUCCESS);
  assert.equal(all.output.length, 48);
  assert.equal(all.output.readBigInt64LE(32), 1n << 40n);
});

test('sparse decoders never throw on random input', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = randomBytes(i % 40);
    decodeSetSparse(buf);
    const z = decodeZeroData(buf);
    if (z.ok) assert.ok(z.value.start >= 0n && z.value.start <= z.value.end);
    const q = decodeAllocatedRangeQuery(buf);
    if (q.ok) assert.ok(q.value.offset >= 0n && q.value.length >= 0n && q.value.offset + q.value.length <= INT64_MAX);
  }
});

test('extents: add merges what touches, remove splits, clip cuts', () => {
  let e = addExtent([], 0, 10);
  e = addExtent(e, 20, 30);
  assert.deepEqual(e, [[0, 10], [20, 30]]);
  assert.deepEqual(addExtent(e, 10, 20), [[0, 30]]);
  assert.deepEqual(addExtent(e, 5, 25), [[0, 30]]);
  assert.deepEqual(addExtent(e, 40, 40), e);
  assert.deepEqual(removeExtent([[0, 30]], 10, 20), [[0, 10], [20, 30]]);
  assert.deepEqual(removeExtent([[0, 30]], 0, Infinity), []);
  assert.deepEqual(removeExtent([[0, 10], [20, 30]], 5, 25), [[0, 5], [25, 30]]);
  assert.deepEqual(clipExtents([[0, 10], [20, 30]], 5, 22), [[5, 10], [20, 22]]);
});

// ---------- backends ----------

let base: string;
let root: string;

before(async () => {
  base = await fsp.mkdtemp(path.join(os.tmpdir(), 'smb3d-sparse-'));
  root = path.join(base, 'share');
  await fsp.mkdir(root);
});

after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

/** File systems known to punch holes and report them through SEEK_DATA/SEEK_HOLE at 4 KiB or finer. */
function tracksHoles(dir: string): boolean {
  const type = Number(statfsSync(dir).type);
  // ext2/3/4, tmpfs, xfs, btrfs
  return [0xef53, 0x01021994, 0x58465342, 0x9123683e].includes(type);
}

async function writePattern(h: VfsHandle, offset: bigint, length: number): Promise<void> {
  const data = Buffer.alloc(length);
  for (let i = 0; i < length; i++) data[i] = (Number(offset) + i) % 251 || 1;
  await h.write(data, offset);
}

async function readAll(h: VfsHandle, offset: bigint, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const n = await h.read(buf, 0, length, offset);
  return buf.subarray(0, n);
}

function sparseOps(h: VfsHandle) {
  assert.ok(h.setSparse && h.zeroRange && h.allocatedRanges, 'handle has the sparse-file calls');
  return { setSparse: h.setSparse.bind(h), zeroRange: h.zeroRange.bind(h), allocatedRanges: h.allocatedRanges.bind(h) };
}

const backends: Array<{ name: string; make: () => Promise<Backend>; holes: () => boolean }> = [
  { name: 'PosixBackend', make: () => PosixBackend.create(root), holes: () => tracksHoles(root) },
  { name: 'MemoryBackend', make: async () => new MemoryBackend(), holes: () => true },
];

for (const { name, make, holes } of backends) {
  test(`${name}: sparse attribute is set only by setSparse and kept`, async () => {
    const be = await make();
    assert.ok(((await be.fsInfo()).fsAttributes ?? 0) & FsAttribute.SUPPORTS_SPARSE_FILES, 'advertised');
    const h = await be.createFile('attr.bin', { read: true, write: true }, FileAttribute.SPARSE_FILE);
    assert.equal((await h.stat()).attributes & FileAttribute.SPARSE_FILE, 0, 'a new file is never sparse');
    const ops = sparseOps(h);
    await ops.setSparse(true);
    assert.ok((await h.stat()).attributes & FileAttribute.SPARSE_FILE);
    assert.ok((await be.stat('attr.bin'))!.attributes & FileAttribute.SPARSE_FILE, 'by path too');
    await h.close();
    // Setting DOS attributes keeps it; so does a new open.
    await be.setAttributes('attr.bin', FileAttribute.HIDDEN);
    const again = await be.open('attr.bin', { read: true, write: false });
    assert.equal((await again.stat()).attributes, FileAttribute.HIDDEN | FileAttribute.SPARSE_FILE);
    // Any handle may clear it (the SMB layer checks access); the other attributes stay.
    await sparseOps(again).setSparse(false);
    assert.equal((await again.stat()).attributes, FileAttribute.HIDDEN);
    await again.close();
    await be.setAttributes('attr.bin', FileAttribute.SPARSE_FILE | FileAttribute.ARCHIVE);
    assert.equal((await be.stat('attr.bin'))!.attributes, FileAttribute.ARCHIVE, 'setAttributes cannot set it');
    await be.unlink('attr.bin');
  });

  test(`${name}: directories are never sparse`, async () => {
    const be = await make();
    await be.mkdir('sdir', 0);
    const d = await be.open('sdir', { read: true, write: false });
    await assert.rejects(sparseOps(d).setSparse(true), isStatus(Status.INVALID_PARAMETER));
    await assert.rejects(sparseOps(d).allocatedRanges(0n, 10n), isStatus(Status.INVALID_PARAMETER));
    await d.close();
    assert.equal((await be.stat('sdir'))!.attributes, FileAttribute.DIRECTORY);
    await be.rmdir('sdir');
  });

  test(`${name}: zeroRange punches holes in a sparse file, allocatedRanges finds them`, async () => {
    const be = await make();
    const h = await be.createFile('holes.bin', { read: true, write: true }, 0);
    const ops = sparseOps(h);
    await writePattern(h, 0n, Number(2n * K64));
    // Not sparse: zeroed, data around it intact.
    await ops.zeroRange(100n, 200n);
    let data = await readAll(h, 0n, Number(2n * K64));
    assert.ok(data.subarray(100, 200).every((b) => b === 0));
    assert.notEqual(data[99], 0);
    assert.notEqual(data[200], 0);
    assert.equal((await h.stat()).size, 2n * K64, 'size unchanged');

    await ops.setSparse(true);
    await ops.zeroRange(0n, K64);
    data = await readAll(h, 0n, Number(2n * K64));
    assert.ok(data.subarray(0, Number(K64)).every((b) => b === 0), 'hole reads as zeros');
    assert.notEqual(data[Number(K64)], 0, 'data after the hole intact');
    assert.equal((await h.stat()).size, 2n * K64, 'size unchanged');
    const ranges = await ops.allocatedRanges(0n, 2n * K64);
    if (holes()) assert.deepEqual(ranges, [{ offset: K64, length: K64 }]);
    else assert.deepEqual(ranges, [{ offset: 0n, length: 2n * K64 }]);
    // Clipped to what was asked, off by one either side.
    if (holes()) {
      assert.deepEqual(await ops.allocatedRanges(K64 - 1n, K64 + 1n), [{ offset: K64, length: 1n }]);
      assert.deepEqual(await ops.allocatedRanges(K64 + 1n, 2n * K64), [{ offset: K64 + 1n, length: K64 - 1n }]);
      assert.deepEqual(await ops.allocatedRanges(0n, K64), []);
    }
    assert.deepEqual(await ops.allocatedRanges(5n, 5n), []);
    await h.close();
    await be.unlink('holes.bin');
  });

  test(`${name}: a write into an empty sparse file allocates only around it`, async () => {
    const be = await make();
    const h = await be.createFile('write.bin', { read: true, write: true }, 0);
    const ops = sparseOps(h);
    await ops.setSparse(true);
    assert.deepEqual(await ops.allocatedRanges(0n, 1024n), []);
    await writePattern(h, K64, 1024);
    const size = (await h.stat()).size;
    assert.equal(size, K64 + 1024n);
    const ranges = await ops.allocatedRanges(0n, size);
    if (holes()) assert.deepEqual(ranges, [{ offset: K64, length: 1024n }]);
    else assert.equal(ranges.length, 1);
    // Clearing sparse: the data reads the same.
    await ops.setSparse(false);
    const data = await readAll(h, 0n, Number(size));
    assert.ok(data.subarray(0, Number(K64)).every((b) => b === 0));
    assert.notEqual(data[Number(K64)], 0);
    await h.close();
    await be.unlink('write.bin');
  });

  test(`${name}: zeroRange needs a handle open for writing`, async () => {
    const be = await make();
    const w = await be.createFile('ro.bin', { read: true, write: true }, 0);
    await writePattern(w, 0n, 8192);
    await w.close();
    const r = await be.open('ro.bin', { read: true, write: false });
    await assert.rejects(sparseOps(r).zeroRange(0n, 4096n), isStatus(Status.ACCESS_DENIED));
    await r.close();
    await be.unlink('ro.bin');
  });
}

test('PosixBackend: the sparse attribute lives in the user.smb3d record', async () => {
  const be = await PosixBackend.create(root);
  const h = await be.createFile('rec.bin', { read: true, write: true }, 0);
  await sparseOps(h).setSparse(true);
  await h.close();
  const rec = readMeta({ path: path.join(root, 'rec.bin') });
  assert.ok(rec && rec.attributes & FileAttribute.SPARSE_FILE);
  // A read-only backend sees it and refuses to change it.
  const ro = await PosixBackend.create(root, { readOnly: true });
  const r = await ro.open('rec.bin', { read: true, write: false });
  assert.ok((await r.stat()).attributes & FileAttribute.SPARSE_FILE);
  await assert.rejects(sparseOps(r).setSparse(false), isStatus(Status.ACCESS_DENIED));
  await r.close();
  await be.unlink('rec.bin');
});

test('PosixBackend without xattrs: sparse files are not offered', async () => {
  const fb = await PosixBackend.create(root, { xattrs: false });
  assert.equal(((await fb.fsInfo()).fsAttributes ?? 0) & FsAttribute.SUPPORTS_SPARSE_FILES, 0);
  const h = await fb.createFile('nox.bin', { read: true, write: true }, 0);
  await assert.rejects(sparseOps(h).setSparse(true), isStatus(Status.INVALID_DEVICE_REQUEST));
  await assert.rejects(sparseOps(h).zeroRange(0n, 1n), isStatus(Status.INVALID_DEVICE_REQUEST));
  await h.close();
  await fb.unlink('nox.bin');
});

test('MemoryBackend: allocation size of a sparse file counts its allocated blocks', async () => {
  const m = new MemoryBackend();
  const h = await m.createFile('a', { read: true, write: true }, 0);
  const ops = sparseOps(h);
  await ops.setSparse(true);
  await h.write(Buffer.alloc(10, 1), 3n * 4096n);
  let st = await h.stat();
  assert.equal(st.size, 3n * 4096n + 10n);
  assert.equal(st.allocationSize, 4096n);
  await h.truncate(100n);
  st = await h.stat();
  assert.equal(st.allocationSize, 0n);
  assert.deepEqual(await ops.allocatedRanges(0n, 100n), []);
  await h.close();
});
