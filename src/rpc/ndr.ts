/**
 * NDR 2.0 transfer syntax ([C706] chapter 14) — just the parts srvsvc/wkssvc need:
 * primitives with natural alignment, unique pointers, conformant(-varying) arrays and
 * wide strings. Alignment is relative to the start of the stub data.
 */
import { Status, fail } from '../protocol/status.js';

/** First referent id, as Windows and Samba emit it; any non-zero value is legal. */
const FIRST_REFERENT = 0x00020000;

/** Pull side. `littleEndian` comes from the PDU's data representation label (drep). */
export class NdrReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly littleEndian = true,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.buf.length) fail(Status.INVALID_PARAMETER, 'NDR data truncated');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  align(n: number): this {
    const pad = (n - (this.pos % n)) % n;
    this.need(pad);
    return this;
  }

  u8(): number {
    return this.buf[this.need(1)]!;
  }

  u16(): number {
    this.align(2);
    const at = this.need(2);
    return this.littleEndian ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  u32(): number {
    this.align(4);
    const at = this.need(4);
    return this.littleEndian ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** A pointer's referent id; 0 means NULL. */
  pointer(): number {
    return this.u32();
  }

  /** `[string] wchar_t*` body: conformant varying UTF-16 array, terminating NUL dropped. */
  wstring(): string {
    const max = this.u32();
    const offset = this.u32();
    const actual = this.u32();
    if (offset > max || actual > max - offset) fail(Status.INVALID_PARAMETER, 'NDR string bounds');
    const raw = Buffer.from(this.bytes(actual * 2));
    if (!this.littleEndian) raw.swap16();
    const text = raw.toString('utf16le');
    return text.endsWith('\0') ? text.slice(0, -1) : text;
  }

  /** A unique pointer to a string, marshalled at top level (pointee follows inline). */
  uniqueWstring(): string | undefined {
    return this.pointer() === 0 ? undefined : this.wstring();
  }
}

/**
 * Push side, always little-endian (receiver makes it right). Embedded pointers are
 * written as referent ids now and their pointees queued; `flush()` emits them in the
 * order pidl/MIDL do: each pointee's own scalars, then its own deferred pointees,
 * before the next sibling's pointee.
 */
export class NdrWriter {
  private buf = Buffer.alloc(256);
  private len = 0;
  private nextReferent = FIRST_REFERENT;
  private deferred: (() => void)[] = [];

  /** Grows the buffer if needed and returns where `n` new bytes start. Read `this.buf` only after calling it. */
  private reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  get length(): number {
    return this.len;
  }

  align(n: number): this {
    const pad = (n - (this.len % n)) % n;
    const at = this.reserve(pad);
    this.buf.fill(0, at, at + pad);
    return this;
  }

  u8(v: number): this {
    const at = this.reserve(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.align(2);
    const at = this.reserve(2);
    this.buf.writeUInt16LE(v & 0xffff, at);
    return this;
  }

  u32(v: number): this {
    this.align(4);
    const at = this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }

  bytes(b: Buffer): this {
    const at = this.reserve(b.length);
    b.copy(this.buf, at);
    return this;
  }

  /** A unique/full pointer: NULL when `pointee` is undefined, otherwise a referent id now, the pointee later. */
  pointer(pointee: (() => void) | undefined): this {
    if (!pointee) return this.u32(0);
    this.u32(this.nextReferent);
    this.nextReferent += 4;
    this.deferred.push(pointee);
    return this;
  }

  /** Emit every queued pointee; call at the end of each top-level parameter. */
  flush(): this {
    const queue = this.deferred;
    this.deferred = [];
    for (const emit of queue) {
      emit();
      this.flush();
    }
    return this;
  }

  /** `[string] wchar_t*` body, NUL included in the counts as MIDL sends it. */
  wstring(s: string): this {
    const count = s.length + 1;
    this.u32(count).u32(0).u32(count);
    const at = this.reserve(count * 2);
    for (let i = 0; i < s.length; i++) this.buf.writeUInt16LE(s.charCodeAt(i), at + i * 2);
    this.buf.writeUInt16LE(0, at + s.length * 2);
    return this;
  }

  /** Embedded unique pointer to a wide string; `undefined` is NULL. */
  wstringPtr(s: string | undefined): this {
    return this.pointer(s === undefined ? undefined : () => this.wstring(s));
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}
