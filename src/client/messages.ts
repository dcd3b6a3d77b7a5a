import { Reader } from '../protocol/reader.js';
import { SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { msFromFiletime } from '../protocol/time.js';

/** Request bodies and response decoders of [MS-SMB2] 2.2, the client's half of the codecs in src/handlers. */

export interface FileTimes {
  creationTime: Date;
  lastAccessTime: Date;
  lastWriteTime: Date;
  changeTime: Date;
}

export interface FileStatInfo extends FileTimes {
  size: number;
  allocationSize: number;
  attributes: number;
  isDirectory: boolean;
}

const FILE_ATTRIBUTE_DIRECTORY = 0x10;
const date = (r: Reader, off: number): Date => new Date(msFromFiletime(r.u64(off)));

/** Times, sizes and attributes in the layout CREATE responses and FileNetworkOpenInformation share. */
export function decodeStatAt(r: Reader, off: number, sizeOff: number, attrOff: number): FileStatInfo {
  const attributes = r.u32(attrOff);
  return {
    creationTime: date(r, off),
    lastAccessTime: date(r, off + 8),
    lastWriteTime: date(r, off + 16),
    changeTime: date(r, off + 24),
    allocationSize: Number(r.u64(sizeOff)),
    size: Number(r.u64(sizeOff + 8)),
    attributes,
    isDirectory: (attributes & FILE_ATTRIBUTE_DIRECTORY) !== 0,
  };
}

/** A body of `size` fixed bytes followed by `tail`, whose offset (from the header) is returned too. */
export function body(size: number, tail?: Buffer): { b: Buffer; tailOffset: number } {
  const b = Buffer.alloc(size + (tail ? tail.length : 0));
  if (tail) tail.copy(b, size);
  return { b, tailOffset: SMB2_HEADER_SIZE + size };
}

export interface DirEntryInfo extends FileStatInfo {
  name: string;
}

/** FileIdBothDirectoryInformation entries ([MS-FSCC] 2.4.17). */
export function decodeIdBothDirectory(buf: Buffer): DirEntryInfo[] {
  const r = new Reader(buf);
  const out: DirEntryInfo[] = [];
  let off = 0;
  for (;;) {
    const next = r.u32(off);
    const nameLen = r.u32(off + 60);
    out.push({ ...decodeStatAt(r, off + 8, off + 48, off + 56), size: Number(r.u64(off + 40)), allocationSize: Number(r.u64(off + 48)), name: r.utf16(off + 104, nameLen) });
    if (next === 0) return out;
    off += next;
  }
}

/** The (offset from header, length) pair a response body points its buffer with. */
export function responseBuffer(msg: Buffer, offsetAt: number, lengthAt: number, length32 = true): Buffer {
  const r = new Reader(msg);
  const off = r.u16(SMB2_HEADER_SIZE + offsetAt);
  const len = length32 ? r.u32(SMB2_HEADER_SIZE + lengthAt) : r.u16(SMB2_HEADER_SIZE + lengthAt);
  return len === 0 ? Buffer.alloc(0) : r.bytes(off, len);
}
