import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status, NtStatusError } from '../../src/protocol/status.js';
import {
  FileInfoClass,
  FsInfoClass,
  encodeDirectoryEntries,
  encodeFileInfo,
  encodeFsInfo,
  decodeFileBasicInformation,
  decodeFileRenameInformation,
  decodeFileDispositionInformation,
  decodeFileEndOfFileInformation,
  decodeFileAllocationInformation,
  decodeFilePositionInformation,
  decodeFileModeInformation,
  decodeFileFullEaInformation,
  type FileInfoInput,
} from '../../src/protocol/fscc/index.js';
import type { FileStat, FsInfo } from '../../src/vfs/types.js';

/** Hex with whitespace ignored: golden bytes written field by field from the [MS-FSCC] layouts. */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function isStatus(status: number) {
  return (err: unknown) => err instanceof NtStatusError && err.status === status;
}

const stat: FileStat = {
  isDirectory: false,
  size: 0x1234n,
  allocationSize: 0x2000n,
  creationTime: 0x01d0000000000001n,
  lastAccessTime: 0x01d0000000000002n,
  lastWriteTime: 0x01d0000000000003n,
  changeTime: 0x01d0000000000004n,
  attributes: 0x20,
  fileId: 0x1122334455667788n,
  nlink: 1,
};

const info: FileInfoInput = {
  stat,
  name: '\\d\\ab',
  deletePending: false,
  position: 0x10n,
  mode: 0x20,
  accessMask: 0x001f01ff,
};

test('FileBasicInformation golden bytes', () => {
  assert.deepEqual(
    encodeFileInfo(FileInfoClass.FileBasicInformation, info),
    hex(`
      0100000000 00d001  0200000000 00d001  0300000000 00d001  0400000000 00d001
      20000000 00000000`),
  );
});

test('FileStandardInformation golden bytes, delete pending drops the link count', () => {
  assert.deepEqual(
    encodeFileInfo(FileInfoClass.FileStandardInformation, { ...info, deletePending: true }),
    hex(`0020000000000000 3412000000000000 00000000 01 00 0000`),
  );
  const dir = { ...info, stat: { ...stat, isDirectory: true, nlink: 5, attributes: 0x10 } };
  const b = encodeFileInfo(FileInfoClass.FileStandardInformation, dir);
  assert.equal(b.readUInt32LE(16), 1);
  assert.equal(b[21], 1);
});

test('FileNameInformation and FileNormalizedNameInformation', () => {
  assert.deepEqual(
    encodeFileInfo(FileInfoClass.FileNameInformation, info),
    hex(`0a000000 5c00 6400 5c00 6100 6200`),
  );
  assert.deepEqual(encodeFileInfo(FileInfoClass.FileNormalizedNameInformation, info), hex(`08000000 6400 5c00 6100 6200`));
});

test('FileAllInformation layout: 100 fixed bytes then the name', () => {
  const b = encodeFileInfo(FileInfoClass.FileAllInformation, { ...info, eaSize: 7 });
  assert.equal(b.length, 100 + 10);
  assert.deepEqual(b.subarray(0, 40), encodeFileInfo(FileInfoClass.FileBasicInformation, info));
  assert.deepEqual(b.subarray(40, 64), encodeFileInfo(FileInfoClass.FileStandardInformation, info));
  assert.equal(b.readBigUInt64LE(64), stat.fileId);
  assert.equal(b.readUInt32LE(72), 7);
  assert.equal(b.readUInt32LE(76), 0x001f01ff);
  assert.equal(b.readBigUInt64LE(80), 0x10n);
  assert.equal(b.readUInt32LE(88), 0x20);
  assert.equal(b.readUInt32LE(92), 0);
  assert.equal(b.readUInt32LE(96), 10);
  assert.equal(b.subarray(100).toString('utf16le'), '\\d\\ab');
});

test('FileStreamInformation: ::$DATA for files, nothing for directories', () => {
  assert.deepEqual(
    encodeFileInfo(FileInfoClass.FileStreamInformation, info),
    hex(`00000000 0e000000 3412000000000000 0020000000000000
         3a00 3a00 2400 4400 4100 5400 4100`),
  );
  const dir = { ...info, stat: { ...stat, isDirectory: true, attributes: 0x10 } };
  assert.equal(encodeFileInfo(FileInfoClass.FileStreamInformation, dir).length, 0);
});

test('fixed-size file info classes', () => {
  const sizes: [number, number][] = [
    [FileInfoClass.FileInternalInformation, 8],
    [FileInfoClass.FileEaInformation, 4],
    [FileInfoClass.FileAccessInformation, 4],
    [FileInfoClass.FilePositionInformation, 8],
    [FileInfoClass.FileModeInformation, 4],
    [FileInfoClass.FileAlignmentInformation, 4],
    [FileInfoClass.FileCompressionInformation, 16],
    [FileInfoClass.FileNetworkOpenInformation, 56],
    [FileInfoClass.FileAttributeTagInformation, 8],
    [FileInfoClass.FileIdInformation, 24],
  ];
  for (const [cls, size] of sizes) assert.equal(encodeFileInfo(cls, info).length, size, `class ${cls}`);
  const net = encodeFileInfo(FileInfoClass.FileNetworkOpenInformation, info);
  assert.equal(net.readBigUInt64LE(32), 0x2000n);
  assert.equal(net.readBigUInt64LE(40), 0x1234n);
  assert.equal(net.readUInt32LE(48), 0x20);
  assert.throws(() => encodeFileInfo(99, info), isStatus(Status.INVALID_INFO_CLASS));
});

test('FileAlternateNameInformation: 8.3 names answer themselves, long names have none', () => {
  assert.deepEqual(encodeFileInfo(FileInfoClass.FileAlternateNameInformation, info), hex('04000000 4100 4200'));
  assert.throws(
    () => encodeFileInfo(FileInfoClass.FileAlternateNameInformation, { ...info, name: '\\a long name.text' }),
    isStatus(Status.OBJECT_NAME_NOT_FOUND),
  );
});

test('FileDirectoryInformation golden bytes and chaining', () => {
  const { buffer, count } = encodeDirectoryEntries(
    FileInfoClass.FileDirectoryInformation,
    [
      { name: 'ab', stat },
      { name: 'c', stat },
    ],
    4096,
  );
  assert.equal(count, 2);
  const first = hex(`
    48000000 00000000
    0100000000 00d001  0200000000 00d001  0300000000 00d001  0400000000 00d001
    3412000000000000 0020000000000000 20000000 04000000
    6100 6200 00000000`);
  assert.deepEqual(buffer.subarray(0, 72), first);
  assert.equal(buffer.length, 72 + 64 + 2, 'no padding after the last entry');
  assert.equal(buffer.readUInt32LE(72), 0, 'last NextEntryOffset is 0');
  assert.equal(buffer.subarray(72 + 64).toString('utf16le'), 'c');
});

test('FileIdBothDirectoryInformation places short name and FileId', () => {
  const { buffer } = encodeDirectoryEntries(
    FileInfoClass.FileIdBothDirectoryInformation,
    [{ name: 'x', stat, shortName: 'X' }],
    4096,
  );
  assert.equal(buffer.length, 104 + 2);
  assert.equal(buffer.readUInt32LE(60), 2); // FileNameLength
  assert.equal(buffer.readUInt32LE(64), 0); // EaSize
  assert.equal(buffer[68], 2); // ShortNameLength
  assert.equal(buffer.subarray(70, 72).toString('utf16le'), 'X');
  assert.equal(buffer.readBigUInt64LE(96), stat.fileId);
  assert.equal(buffer.subarray(104).toString('utf16le'), 'x');
});

test('fixed sizes of every directory class', () => {
  const fixed: [number, number][] = [
    [FileInfoClass.FileDirectoryInformation, 64],
    [FileInfoClass.FileFullDirectoryInformation, 68],
    [FileInfoClass.FileBothDirectoryInformation, 94],
    [FileInfoClass.FileNamesInformation, 12],
    [FileInfoClass.FileIdBothDirectoryInformation, 104],
    [FileInfoClass.FileIdFullDirectoryInformation, 80],
    [FileInfoClass.FileIdExtdDirectoryInformation, 88],
  ];
  for (const [cls, size] of fixed) {
    const { buffer } = encodeDirectoryEntries(cls, [{ name: 'abc', stat }], 1000);
    assert.equal(buffer.length, size + 6, `class ${cls}`);
  }
  const { buffer } = encodeDirectoryEntries(FileInfoClass.FileIdFullDirectoryInformation, [{ name: 'a', stat }], 1000);
  assert.equal(buffer.readBigUInt64LE(72), stat.fileId);
  const names = encodeDirectoryEntries(FileInfoClass.FileNamesInformation, [{ name: 'ab', stat }], 1000).buffer;
  assert.deepEqual(names, hex('00000000 00000000 04000000 6100 6200'));
  assert.throws(() => encodeDirectoryEntries(0x77, [], 100), isStatus(Status.INVALID_INFO_CLASS));
});

test('encodeDirectoryEntries respects maxBytes and 8-byte alignment', () => {
  const entries = ['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((name) => ({ name, stat }));
  // Full sizes: 64+2=66 -> next at 72; 72+64+4=140 -> next at 144; 144+64+6=214 -> next at 216; ...
  assert.equal(encodeDirectoryEntries(1, entries, 65).count, 0);
  assert.equal(encodeDirectoryEntries(1, entries, 66).count, 1);
  assert.equal(encodeDirectoryEntries(1, entries, 139).count, 1);
  const two = encodeDirectoryEntries(1, entries, 140);
  assert.equal(two.count, 2);
  assert.equal(two.buffer.length, 140);
  const all = encodeDirectoryEntries(1, entries, 1 << 16);
  assert.equal(all.count, 5);
  let at = 0;
  const seen: string[] = [];
  for (;;) {
    assert.equal(at % 8, 0);
    const len = all.buffer.readUInt32LE(at + 60);
    seen.push(all.buffer.subarray(at + 64, at + 64 + len).toString('utf16le'));
    const next = all.buffer.readUInt32LE(at);
    if (next === 0) break;
    assert.ok(next >= 64 + len && next < 64 + len + 8, 'padding stays under 8 bytes');
    at += next;
  }
  assert.deepEqual(seen, ['a', 'bb', 'ccc', 'dddd', 'eeeee']);
  assert.equal(all.buffer.length, at + 64 + 10);
  assert.equal(encodeDirectoryEntries(1, [], 100).buffer.length, 0);
});

const fs: FsInfo = {
  totalBytes: 4096n * 1000n,
  freeBytes: 4096n * 300n,
  availableBytes: 4096n * 200n,
  bytesPerSector: 512,
  sectorsPerAllocationUnit: 8,
  volumeSerial: 0xdeadbeef,
  volumeLabel: 'v',
  fsName: 'NTFS',
  volumeCreationTime: 0x01d0000000000000n,
  maxNameLength: 255,
};

test('FileFsSizeInformation and FileFsFullSizeInformation golden bytes', () => {
  assert.deepEqual(
    encodeFsInfo(FsInfoClass.FileFsSizeInformation, fs),
    hex('e803000000000000 c800000000000000 08000000 00020000'),
  );
  assert.deepEqual(
    encodeFsInfo(FsInfoClass.FileFsFullSizeInformation, fs),
    hex('e803000000000000 c800000000000000 2c01000000000000 08000000 00020000'),
  );
});

test('FileFsVolumeInformation and FileFsAttributeInformation golden bytes', () => {
  assert.deepEqual(
    encodeFsInfo(FsInfoClass.FileFsVolumeInformation, fs),
    hex('00000000 0000d001 efbeadde 02000000 00 00 7600'),
  );
  assert.deepEqual(
    encodeFsInfo(FsInfoClass.FileFsAttributeInformation, fs),
    hex('06000000 ff000000 08000000 4e00 5400 4600 5300'),
  );
  assert.deepEqual(encodeFsInfo(FsInfoClass.FileFsDeviceInformation, fs), hex('07000000 20000000'));
  assert.equal(encodeFsInfo(FsInfoClass.FileFsObjectIdInformation, fs).length, 64);
  assert.equal(encodeFsInfo(FsInfoClass.FileFsSectorSizeInformation, fs).length, 28);
  assert.throws(() => encodeFsInfo(2, fs), isStatus(Status.INVALID_INFO_CLASS));
});

test('decodeFileBasicInformation: 0 and -1 leave times alone', () => {
  const b = hex(`
    0000000000000000 ffffffffffffffff 0300000000 00d001 feffffffffffffff
    21000000 00000000`);
  assert.deepEqual(decodeFileBasicInformation(b), {
    creationTime: undefined,
    lastAccessTime: undefined,
    lastWriteTime: 0x01d0000000000003n,
    changeTime: undefined,
    attributes: 0x21,
  });
  assert.throws(() => decodeFileBasicInformation(b.subarray(0, 35)), isStatus(Status.INFO_LENGTH_MISMATCH));
});

test('decodeFileRenameInformation (SMB2 layout)', () => {
  const b = hex('01 00000000000000 0000000000000000 0c000000 6e00 6500 7700 5c00 7800 7900');
  assert.deepEqual(decodeFileRenameInformation(b), { replaceIfExists: true, rootDirectory: 0n, fileName: 'new\\xy' });
  assert.throws(() => decodeFileRenameInformation(b.subarray(0, 19)), isStatus(Status.INFO_LENGTH_MISMATCH));
  assert.throws(() => decodeFileRenameInformation(b.subarray(0, 25)), isStatus(Status.INVALID_PARAMETER));
  const odd = Buffer.from(b);
  odd.writeUInt32LE(3, 16);
  assert.throws(() => decodeFileRenameInformation(odd), isStatus(Status.INVALID_PARAMETER));
});

test('small SET_INFO decoders', () => {
  assert.deepEqual(decodeFileDispositionInformation(hex('01')), { deletePending: true });
  assert.deepEqual(decodeFileDispositionInformation(hex('00')), { deletePending: false });
  assert.throws(() => decodeFileDispositionInformation(Buffer.alloc(0)), isStatus(Status.INFO_LENGTH_MISMATCH));
  assert.equal(decodeFileEndOfFileInformation(hex('0010000000000000')), 4096n);
  assert.equal(decodeFileAllocationInformation(hex('0000010000000000')), 65536n);
  assert.equal(decodeFilePositionInformation(hex('0200000000000000')), 2n);
  assert.throws(() => decodeFileEndOfFileInformation(hex('ffffffffffffffff')), isStatus(Status.INVALID_PARAMETER));
  assert.throws(() => decodeFileEndOfFileInformation(hex('00')), isStatus(Status.INFO_LENGTH_MISMATCH));
  assert.equal(decodeFileModeInformation(hex('02000000')), 2);
  assert.throws(() => decodeFileModeInformation(hex('0200')), isStatus(Status.INFO_LENGTH_MISMATCH));
});

test('decodeFileFullEaInformation walks the chain and rejects bad ones', () => {
  // Entry 1: next=12, flags 0, name "A" (1), value "xy" (2): 8 + 2 + 2 = 12. Entry 2: name "BC", no value.
  const b = hex('0c000000 00 01 0200 4100 7879   00000000 80 02 0000 424300');
  assert.deepEqual(decodeFileFullEaInformation(b), [
    { flags: 0, name: 'A', value: Buffer.from('xy') },
    { flags: 0x80, name: 'BC', value: Buffer.alloc(0) },
  ]);
  const bad = Buffer.from(b);
  bad.writeUInt32LE(4, 0);
  assert.throws(() => decodeFileFullEaInformation(bad), isStatus(Status.INVALID_PARAMETER));
  assert.throws(() => decodeFileFullEaInformation(b.subarray(0, 10)), isStatus(Status.INVALID_PARAMETER));
  assert.throws(() => decodeFileFullEaInformation(b.subarray(0, 4)), isStatus(Status.INFO_LENGTH_MISMATCH));
});
