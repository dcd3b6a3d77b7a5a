import { Status, NtStatusError } from './status.js';

/**
 * Bounds-checked little-endian reads over a Buffer view.
 * Every out-of-range access becomes STATUS_INVALID_PARAMETER instead of a RangeError,
 * so a malformed packet can never escape as an exception that kills the connection loop.
 */
export class Reader {
  constructor(
    readonly buf: Buffer,
    private readonly status: number = Status.INVALID_PARAMETER,
  ) {}

  get length(): number {
    return this.buf.length;
  }

  private check(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > this.buf.length) {
      throw new NtStatusError(this.status, `read of ${len} bytes at ${off} beyond ${this.buf.length}`);
    }
  }

  u8(off: number): number {
    this.check(off, 1);
    return this.buf[off]!;
  }
  u16(off: number): number {
    this.check(off, 2);
    return this.buf.readUInt16LE(off);
  }
  u32(off: number): number {
    this.check(off, 4);
    return this.buf.readUInt32LE(off);
  }
  u64(off: number): bigint {
    this.check(off, 8);
    return this.buf.readBigUInt64LE(off);
  }
  bytes(off: number, len: number): Buffer {
    this.check(off, len);
    return this.buf.subarray(off, off + len);
  }
  utf16(off: number, len: number): string {
    if (len % 2 !== 0) throw new NtStatusError(this.status, 'odd UTF-16 length');
    return this.bytes(off, len).toString('utf16le');
  }
  guid(off: number): Buffer {
    return Buffer.from(this.bytes(off, 16));
  }
}
