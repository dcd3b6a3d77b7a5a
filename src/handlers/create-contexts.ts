import { Reader } from '../protocol/reader.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';

/** One SMB2_CREATE_CONTEXT ([MS-SMB2] 2.2.13.2), name as ASCII (e.g. "MxAc"). */
export interface CreateContext {
  name: string;
  data: Buffer;
}

export function parseCreateContexts(pdu: Buffer, offset: number, length: number): CreateContext[] {
  if (length === 0) return [];
  const r = new Reader(pdu);
  r.bytes(offset, length);
  const out: CreateContext[] = [];
  let off = offset;
  const end = offset + length;
  for (;;) {
    if (off + 16 > end) fail(Status.INVALID_PARAMETER, 'truncated create context');
    const next = r.u32(off);
    const nameOff = r.u16(off + 4);
    const nameLen = r.u16(off + 6);
    const dataOff = r.u16(off + 10);
    const dataLen = r.u32(off + 12);
    if (off + nameOff + nameLen > end || (dataLen && off + dataOff + dataLen > end)) fail(Status.INVALID_PARAMETER, 'create context out of bounds');
    out.push({ name: r.bytes(off + nameOff, nameLen).toString('latin1'), data: dataLen ? r.bytes(off + dataOff, dataLen) : Buffer.alloc(0) });
    if (next === 0) break;
    if (next % 8 !== 0 || off + next >= end) fail(Status.INVALID_PARAMETER, 'bad create context chain');
    off += next;
  }
  return out;
}

/** Encodes response create contexts as a chain, each 8-byte aligned. */
export function encodeCreateContexts(items: CreateContext[]): Buffer {
  const bufs: Buffer[] = [];
  items.forEach((c, i) => {
    const name = Buffer.from(c.name, 'latin1');
    const dataOff = 16 + ((name.length + 7) & ~7);
    const size = dataOff + c.data.length;
    const padded = i < items.length - 1 ? (size + 7) & ~7 : size;
    const w = new Writer();
    w.u32(i < items.length - 1 ? padded : 0).u16(16).u16(name.length).u16(0).u16(c.data.length ? dataOff : 0).u32(c.data.length);
    w.put(name).zeros(dataOff - 16 - name.length).put(c.data).zeros(padded - size);
    bufs.push(w.toBuffer());
  });
  return Buffer.concat(bufs);
}
