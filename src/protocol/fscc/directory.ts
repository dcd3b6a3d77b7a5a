/**
 * Directory enumeration records for QUERY_DIRECTORY: the [MS-FSCC] 2.4 sections named after each
 * *DirectoryInformation class.
 */
import { Status, fail } from '../status.js';
import type { FileStat } from '../../vfs/types.js';
import { FileInfoClass } from './constants.js';

export interface DirectoryEntryInput {
  name: string;
  stat: FileStat;
  /** 8.3 name for the Both/IdBoth classes; empty when none. */
  shortName?: string;
}

/** Byte length of the fixed part of each class's record (the section of the same name), before FileName. */
const FIXED_SIZE: Readonly<Record<number, number>> = {
  [FileInfoClass.FileDirectoryInformation]: 64,
  [FileInfoClass.FileFullDirectoryInformation]: 68,
  [FileInfoClass.FileBothDirectoryInformation]: 94,
  [FileInfoClass.FileNamesInformation]: 12,
  [FileInfoClass.FileIdBothDirectoryInformation]: 104,
  [FileInfoClass.FileIdFullDirectoryInformation]: 80,
  [FileInfoClass.FileIdExtdDirectoryInformation]: 88,
};

const SHORT_NAME_FIELD = 24;

function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Where each record goes when `names`, from the first, are packed into `maxBytes`: a record is
 * the class's fixed part and the name in UTF-16LE (two bytes per JavaScript string unit, as
 * Buffer.from(name, 'utf16le') gives), on an 8-byte boundary. Stops at the first that does not fit.
 */
function layout(fixed: number, names: readonly string[], maxBytes: number): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let end = 0;
  for (const name of names) {
    const start = align8(end);
    if (start + fixed + name.length * 2 > maxBytes) break;
    offsets.push(start);
    end = start + fixed + name.length * 2;
  }
  return { offsets, end };
}

function fixedSize(infoClass: number): number {
  const fixed = FIXED_SIZE[infoClass];
  if (fixed === undefined) fail(Status.INVALID_INFO_CLASS, `directory class ${infoClass}`);
  return fixed;
}

/** How many records of `infoClass` for `names`, from the first, fit in `maxBytes`: as many as encodeDirectoryEntries takes. */
export function directoryRecordsFitting(infoClass: number, names: readonly string[], maxBytes: number): number {
  return layout(fixedSize(infoClass), names, maxBytes).offsets.length;
}

/**
 * Packs as many entries as fit in maxBytes. Each record starts on an 8-byte boundary and
 * NextEntryOffset chains them (0 on the last); no padding follows the last record.
 * count is 0 when not even the first entry fits: the caller answers BUFFER_OVERFLOW.
 */
export function encodeDirectoryEntries(
  infoClass: number,
  entries: readonly DirectoryEntryInput[],
  maxBytes: number,
): { buffer: Buffer; count: number } {
  const fixed = fixedSize(infoClass);
  const { offsets, end } = layout(fixed, entries.map((e) => e.name), maxBytes);
  const names = offsets.map((_, i) => Buffer.from(entries[i]!.name, 'utf16le'));
  const count = names.length;
  const buf = Buffer.alloc(end);
  // DataView's setBigUint64 is several times faster than Buffer's writeBigUInt64LE, and a listing
  // writes six or seven of them per entry.
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < count; i++) {
    const at = offsets[i]!;
    const next = i + 1 < count ? offsets[i + 1]! - at : 0;
    writeRecord(buf, view, at, infoClass, entries[i]!, names[i]!, fixed, next);
  }
  return { buffer: buf, count };
}

function writeRecord(
  buf: Buffer,
  view: DataView,
  at: number,
  infoClass: number,
  e: DirectoryEntryInput,
  name: Buffer,
  fixed: number,
  next: number,
): void {
  buf.writeUInt32LE(next, at);
  buf.writeUInt32LE(0, at + 4); // FileIndex: meaningless where order is not fixed, as NTFS.
  if (infoClass === FileInfoClass.FileNamesInformation) {
    buf.writeUInt32LE(name.length, at + 8);
    name.copy(buf, at + fixed);
    return;
  }
  const s = e.stat;
  view.setBigUint64(at + 8, s.creationTime, true);
  view.setBigUint64(at + 16, s.lastAccessTime, true);
  view.setBigUint64(at + 24, s.lastWriteTime, true);
  view.setBigUint64(at + 32, s.changeTime, true);
  view.setBigUint64(at + 40, s.size, true);
  view.setBigUint64(at + 48, s.allocationSize, true);
  buf.writeUInt32LE(s.attributes >>> 0, at + 56);
  buf.writeUInt32LE(name.length, at + 60);
  // EaSize at 64 in every class that has one (FileDirectoryInformation ends with the name there).
  if (infoClass !== FileInfoClass.FileDirectoryInformation) buf.writeUInt32LE((s.eaSize ?? 0) >>> 0, at + 64);
  switch (infoClass) {
    case FileInfoClass.FileBothDirectoryInformation:
    case FileInfoClass.FileIdBothDirectoryInformation: {
      writeShortName(buf, at + 68, e.shortName);
      if (infoClass === FileInfoClass.FileIdBothDirectoryInformation) {
        // Reserved2 (2 bytes) at 94, FileId at 96.
        view.setBigUint64(at + 96, s.fileId, true);
      }
      break;
    }
    case FileInfoClass.FileIdFullDirectoryInformation:
      // Reserved (4 bytes) at 68, FileId at 72.
      view.setBigUint64(at + 72, s.fileId, true);
      break;
    case FileInfoClass.FileIdExtdDirectoryInformation:
      // ReparsePointTag at 68 = 0; 128-bit FileId at 72, our 64-bit id in its low half.
      view.setBigUint64(at + 72, s.fileId, true);
      break;
  }
  name.copy(buf, at + fixed);
}

/** ShortNameLength (1), Reserved (1), ShortName (24 bytes of UTF-16). */
function writeShortName(buf: Buffer, at: number, shortName: string | undefined): void {
  if (!shortName) return;
  const bytes = Buffer.from(shortName, 'utf16le').subarray(0, SHORT_NAME_FIELD);
  buf.writeUInt8(bytes.length, at);
  bytes.copy(buf, at + 2);
}
