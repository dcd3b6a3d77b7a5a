/**
 * File information records answered to QUERY_INFO (InfoType FILE). Each layout is the [MS-FSCC] 2.4
 * section named after its information class.
 */
import { Status, fail } from '../status.js';
import { FileAttribute, type FileStat } from '../../vfs/types.js';
import { FileInfoClass } from './constants.js';

export interface FileInfoInput {
  stat: FileStat;
  /** Full path from the share root as Windows writes it: '\dir\file', '\' for the root. */
  name: string;
  deletePending: boolean;
  /** Current byte offset of the open (FilePositionInformation). */
  position: bigint;
  /** FILE_* mode flags of the open (FileModeInformation). */
  mode: number;
  /** Granted access of the open (FileAccessInformation). */
  accessMask: number;
  eaSize?: number;
  /** 8.3 name for FileAlternateNameInformation; when absent the name itself serves if it is 8.3-legal. */
  shortName?: string;
  /** FileStreamInformation: the streams to list, '::$DATA' included where the file has it. */
  streams?: StreamListEntry[];
  /** Volume serial for FileIdInformation. */
  volumeSerial?: bigint;
}

export interface StreamListEntry {
  /** As listed: ':name:$DATA', '::$DATA'. */
  name: string;
  size: bigint;
  allocationSize: bigint;
}

const BASIC_SIZE = 40;
const STANDARD_SIZE = 24;

/** FileBasicInformation: four times, FileAttributes, Reserved. */
function writeBasic(buf: Buffer, at: number, s: FileStat): void {
  buf.writeBigUInt64LE(s.creationTime, at);
  buf.writeBigUInt64LE(s.lastAccessTime, at + 8);
  buf.writeBigUInt64LE(s.lastWriteTime, at + 16);
  buf.writeBigUInt64LE(s.changeTime, at + 24);
  buf.writeUInt32LE(s.attributes >>> 0, at + 32);
}

/** FileStandardInformation: AllocationSize, EndOfFile, NumberOfLinks, DeletePending, Directory, Reserved. */
function writeStandard(buf: Buffer, at: number, f: FileInfoInput): void {
  const s = f.stat;
  // As Windows and Samba: a directory counts one link, and a delete-pending name no longer counts.
  let links = s.isDirectory ? 1 : s.nlink;
  if (f.deletePending && links > 0) links -= 1;
  buf.writeBigUInt64LE(s.allocationSize, at);
  buf.writeBigUInt64LE(s.size, at + 8);
  buf.writeUInt32LE(links >>> 0, at + 16);
  buf.writeUInt8(f.deletePending ? 1 : 0, at + 20);
  buf.writeUInt8(s.isDirectory ? 1 : 0, at + 21);
}

/** FILE_NAME_INFORMATION (FileNameInformation): FileNameLength then UTF-16 name, no terminator. */
function nameInformation(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf16le');
  const buf = Buffer.alloc(4 + bytes.length);
  buf.writeUInt32LE(bytes.length, 0);
  bytes.copy(buf, 4);
  return buf;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v, 0);
  return b;
}

function leafName(path: string): string {
  const i = path.lastIndexOf('\\');
  return i < 0 ? path : path.slice(i + 1);
}

const DOS_83 = /^[A-Z0-9!#$%&'()\-@^_`{}~]{1,8}(\.[A-Z0-9!#$%&'()\-@^_`{}~]{1,3})?$/;

/** A name that is already a legal upper-case 8.3 name is its own short name, as on NTFS. */
export function isDos83Name(name: string): boolean {
  return DOS_83.test(name);
}

export function encodeFileInfo(infoClass: number, f: FileInfoInput): Buffer {
  const s = f.stat;
  switch (infoClass) {
    case FileInfoClass.FileBasicInformation: {
      const buf = Buffer.alloc(BASIC_SIZE);
      writeBasic(buf, 0, s);
      return buf;
    }
    case FileInfoClass.FileStandardInformation: {
      const buf = Buffer.alloc(STANDARD_SIZE);
      writeStandard(buf, 0, f);
      return buf;
    }
    case FileInfoClass.FileInternalInformation: // IndexNumber
      return u64(s.fileId);
    case FileInfoClass.FileEaInformation: // EaSize
      return u32(f.eaSize ?? 0);
    case FileInfoClass.FileAccessInformation: // AccessFlags
      return u32(f.accessMask);
    case FileInfoClass.FileNameInformation:
      return nameInformation(f.name);
    case FileInfoClass.FilePositionInformation: // CurrentByteOffset
      return u64(f.position);
    case FileInfoClass.FileModeInformation: // Mode
      return u32(f.mode);
    case FileInfoClass.FileAlignmentInformation: // FILE_BYTE_ALIGNMENT
      return u32(0);
    case FileInfoClass.FileAllInformation:
      return encodeAllInformation(f);
    case FileInfoClass.FileAlternateNameInformation: {
      // Without 8.3 name generation a long name has no alternate: NTFS with 8dot3 off
      // answers OBJECT_NAME_NOT_FOUND too.
      const leaf = leafName(f.name);
      const short = f.shortName ?? (isDos83Name(leaf.toUpperCase()) ? leaf.toUpperCase() : undefined);
      if (!short) fail(Status.OBJECT_NAME_NOT_FOUND, 'no short name');
      return nameInformation(short);
    }
    case FileInfoClass.FileStreamInformation:
      return f.streams ? encodeStreamList(f.streams) : encodeStreamInformation(s);
    case FileInfoClass.FileCompressionInformation: {
      // CompressedFileSize, CompressionFormat (0 = none), three shifts, Reserved[3].
      const buf = Buffer.alloc(16);
      buf.writeBigUInt64LE(s.size, 0);
      return buf;
    }
    case FileInfoClass.FileNetworkOpenInformation: {
      // four times, AllocationSize, EndOfFile, FileAttributes, Reserved.
      const buf = Buffer.alloc(56);
      buf.writeBigUInt64LE(s.creationTime, 0);
      buf.writeBigUInt64LE(s.lastAccessTime, 8);
      buf.writeBigUInt64LE(s.lastWriteTime, 16);
      buf.writeBigUInt64LE(s.changeTime, 24);
      buf.writeBigUInt64LE(s.allocationSize, 32);
      buf.writeBigUInt64LE(s.size, 40);
      buf.writeUInt32LE(s.attributes >>> 0, 48);
      return buf;
    }
    case FileInfoClass.FileAttributeTagInformation: {
      // FileAttributes, ReparseTag (none: no reparse points).
      const buf = Buffer.alloc(8);
      buf.writeUInt32LE(s.attributes >>> 0, 0);
      return buf;
    }
    case FileInfoClass.FileNormalizedNameInformation: {
      // same layout as FileNameInformation; the name is relative to the share, without
      // the leading backslash, and empty for the root.
      return nameInformation(f.name.replace(/^\\+/, ''));
    }
    case FileInfoClass.FileIdInformation: {
      // FileIdInformation: VolumeSerialNumber (8), FileId (16, our 64-bit id in the low half).
      const buf = Buffer.alloc(24);
      buf.writeBigUInt64LE(BigInt.asUintN(64, f.volumeSerial ?? 0n), 0);
      buf.writeBigUInt64LE(s.fileId, 8);
      return buf;
    }
    default:
      fail(Status.INVALID_INFO_CLASS, `file info class ${infoClass}`);
  }
}

/**
 * FileAllInformation: Basic (40), Standard (24), Internal (8), Ea (4), Access (4),
 * Position (8), Mode (4), Alignment (4), Name (4 + n): 100 bytes plus the name.
 */
function encodeAllInformation(f: FileInfoInput): Buffer {
  const name = Buffer.from(f.name, 'utf16le');
  const buf = Buffer.alloc(100 + name.length);
  writeBasic(buf, 0, f.stat);
  writeStandard(buf, 40, f);
  buf.writeBigUInt64LE(f.stat.fileId, 64);
  buf.writeUInt32LE((f.eaSize ?? 0) >>> 0, 72);
  buf.writeUInt32LE(f.accessMask >>> 0, 76);
  buf.writeBigUInt64LE(f.position, 80);
  buf.writeUInt32LE(f.mode >>> 0, 88);
  buf.writeUInt32LE(0, 92);
  buf.writeUInt32LE(name.length, 96);
  name.copy(buf, 100);
  return buf;
}

/** FileStreamInformation of the given streams, each entry 8-byte aligned; empty for none. */
export function encodeStreamList(streams: StreamListEntry[]): Buffer {
  const names = streams.map((e) => Buffer.from(e.name, 'utf16le'));
  const sizes = names.map((n, i) => (i < names.length - 1 ? (24 + n.length + 7) & ~7 : 24 + n.length));
  const buf = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  streams.forEach((e, i) => {
    buf.writeUInt32LE(i < streams.length - 1 ? sizes[i]! : 0, at);
    buf.writeUInt32LE(names[i]!.length, at + 4);
    buf.writeBigUInt64LE(e.size, at + 8);
    buf.writeBigUInt64LE(e.allocationSize, at + 16);
    names[i]!.copy(buf, at + 24);
    at += sizes[i]!;
  });
  return buf;
}

/**
 * FileStreamInformation: NextEntryOffset, StreamNameLength, StreamSize,
 * StreamAllocationSize, StreamName. Files have just the unnamed data stream; directories none.
 */
function encodeStreamInformation(s: FileStat): Buffer {
  if (s.isDirectory || (s.attributes & FileAttribute.DIRECTORY) !== 0) return Buffer.alloc(0);
  const name = Buffer.from('::$DATA', 'utf16le');
  const buf = Buffer.alloc(24 + name.length);
  buf.writeUInt32LE(0, 0);
  buf.writeUInt32LE(name.length, 4);
  buf.writeBigUInt64LE(s.size, 8);
  buf.writeBigUInt64LE(s.allocationSize, 16);
  name.copy(buf, 24);
  return buf;
}
