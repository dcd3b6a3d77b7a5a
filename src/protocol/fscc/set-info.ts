/**
 * Decoders for SET_INFO (InfoType FILE) input buffers, [MS-FSCC] 2.4.
 * A buffer shorter than its class's fixed part is INFO_LENGTH_MISMATCH; inconsistent contents
 * (lengths pointing outside the buffer, odd UTF-16 lengths) are INVALID_PARAMETER.
 */
import { Reader } from '../reader.js';
import { Status, fail } from '../status.js';

function requireLength(buf: Buffer, min: number, what: string): void {
  if (buf.length < min) fail(Status.INFO_LENGTH_MISMATCH, `${what}: ${buf.length} < ${min} bytes`);
}

export interface BasicInformation {
  /** undefined: leave unchanged (wire value 0, or -1/-2 which toggle automatic updates we do not model). */
  creationTime?: bigint;
  lastAccessTime?: bigint;
  lastWriteTime?: bigint;
  changeTime?: bigint;
  /** 0: leave unchanged. */
  attributes: number;
}

function settableTime(raw: bigint): bigint | undefined {
  return raw > 0n ? raw : undefined;
}

/**
 * FileBasicInformation: four signed 64-bit times, FileAttributes, Reserved (40 bytes). The trailing
 * Reserved field is not required: 36 bytes carry all the data, and Samba accepts that much.
 */
export function decodeFileBasicInformation(buf: Buffer): BasicInformation {
  requireLength(buf, 36, 'FileBasicInformation');
  return {
    creationTime: settableTime(buf.readBigInt64LE(0)),
    lastAccessTime: settableTime(buf.readBigInt64LE(8)),
    lastWriteTime: settableTime(buf.readBigInt64LE(16)),
    changeTime: settableTime(buf.readBigInt64LE(24)),
    attributes: buf.readUInt32LE(32),
  };
}

export interface RenameInformation {
  replaceIfExists: boolean;
  rootDirectory: bigint;
  /** As sent: share-relative with backslashes; the caller normalizes it. */
  fileName: string;
}

/**
 * FileRenameInformation, SMB2 variant (FILE_RENAME_INFORMATION_TYPE_2): ReplaceIfExists (1),
 * Reserved (7), RootDirectory (8), FileNameLength (4), FileName. Also the layout of FileLinkInformation.
 */
export function decodeFileRenameInformation(buf: Buffer): RenameInformation {
  requireLength(buf, 20, 'FileRenameInformation');
  const r = new Reader(buf);
  const nameLength = r.u32(16);
  if (nameLength === 0) fail(Status.INVALID_PARAMETER, 'empty rename target');
  return {
    replaceIfExists: r.u8(0) !== 0,
    rootDirectory: r.u64(8),
    fileName: r.utf16(20, nameLength),
  };
}

export const decodeFileLinkInformation = decodeFileRenameInformation;

/** FileDispositionInformation: DeletePending (1). */
export function decodeFileDispositionInformation(buf: Buffer): { deletePending: boolean } {
  requireLength(buf, 1, 'FileDispositionInformation');
  return { deletePending: buf[0] !== 0 };
}

/** FileDispositionInformationEx flags. */
export const DispositionFlags = {
  DELETE: 0x1,
  POSIX_SEMANTICS: 0x2,
  FORCE_IMAGE_SECTION_CHECK: 0x4,
  ON_CLOSE: 0x8,
  IGNORE_READONLY_ATTRIBUTE: 0x10,
} as const;

/** FileDispositionInformationEx: Flags (4). */
export function decodeFileDispositionInformationEx(buf: Buffer): { flags: number } {
  requireLength(buf, 4, 'FileDispositionInformationEx');
  return { flags: buf.readUInt32LE(0) };
}

function nonNegative64(buf: Buffer, what: string): bigint {
  requireLength(buf, 8, what);
  const v = buf.readBigInt64LE(0);
  if (v < 0n) fail(Status.INVALID_PARAMETER, `${what}: negative`);
  return v;
}

/** FileEndOfFileInformation: EndOfFile (signed 8). */
export function decodeFileEndOfFileInformation(buf: Buffer): bigint {
  return nonNegative64(buf, 'FileEndOfFileInformation');
}

/** FileAllocationInformation: AllocationSize (signed 8). */
export function decodeFileAllocationInformation(buf: Buffer): bigint {
  return nonNegative64(buf, 'FileAllocationInformation');
}

/** FilePositionInformation: CurrentByteOffset (signed 8). */
export function decodeFilePositionInformation(buf: Buffer): bigint {
  return nonNegative64(buf, 'FilePositionInformation');
}

/** FileModeInformation: Mode (4). */
export function decodeFileModeInformation(buf: Buffer): number {
  requireLength(buf, 4, 'FileModeInformation');
  return buf.readUInt32LE(0);
}

export interface FullEaEntry {
  flags: number;
  name: string;
  value: Buffer;
}

/**
 * FileFullEaInformation: a chain of NextEntryOffset (4), Flags (1), EaNameLength (1),
 * EaValueLength (2), EaName (ASCII + NUL), EaValue. Values are views into buf.
 */
export function decodeFileFullEaInformation(buf: Buffer): FullEaEntry[] {
  requireLength(buf, 8, 'FileFullEaInformation');
  const r = new Reader(buf);
  const out: FullEaEntry[] = [];
  let at = 0;
  for (;;) {
    const next = r.u32(at);
    const nameLength = r.u8(at + 5);
    const valueLength = r.u16(at + 6);
    const name = r.bytes(at + 8, nameLength).toString('latin1');
    if (r.u8(at + 8 + nameLength) !== 0) fail(Status.INVALID_PARAMETER, 'EA name not NUL-terminated');
    const value = r.bytes(at + 9 + nameLength, valueLength);
    out.push({ flags: r.u8(at + 4), name, value });
    if (next === 0) return out;
    // Entries are 4-byte aligned and must move forward past the current one.
    if (next % 4 !== 0 || next < 9 + nameLength + valueLength) fail(Status.INVALID_PARAMETER, 'bad EA chain');
    at += next;
    if (at >= buf.length) fail(Status.INVALID_PARAMETER, 'EA chain leaves the buffer');
  }
}
