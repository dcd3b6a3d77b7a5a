/** Little-endian builder for response bodies: fixed part written by offset, variable parts appended. */
export class Writer {
  private parts: Buffer[] = [];
  private len = 0;

  get length(): number {
    return this.len;
  }

  put(buf: Buffer): this {
    this.parts.push(buf);
    this.len += buf.length;
    return this;
  }

  u8(v: number): this {
    const b = Buffer.allocUnsafe(1);
    b[0] = v;
    return this.put(b);
  }
  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16LE(v, 0);
    return this.put(b);
  }
  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0, 0);
    return this.put(b);
  }
  u64(v: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v), 0);
    return this.put(b);
  }
  zeros(n: number): this {
    return this.put(Buffer.alloc(n));
  }
  /** Pads with zeros up to a multiple of `n` counting from `base` (e.g. the header start). */
  align(n: number, base = 0): this {
    const pad = (n - ((base + this.len) % n)) % n;
    return pad ? this.zeros(pad) : this;
  }

  toBuffer(): Buffer {
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.len);
  }
}
