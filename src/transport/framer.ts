/**
 * Direct TCP framing ([MS-SMB2] 2.1): a zero byte and a 24-bit big-endian length before each message.
 * Pure: bytes in, whole frames out. Each frame is copied once into its own Buffer so handlers can keep
 * views into it (WRITE data is written straight from there) without holding the socket's chunks.
 */
export class FrameError extends Error {}

export class Framer {
  private header = Buffer.alloc(4);
  private headerFill = 0;
  private frame: Buffer | null = null;
  private frameFill = 0;

  /** `alloc` may hand out a reused buffer at least `len` long (a pool); only the first `len` bytes are used. */
  constructor(
    private readonly maxFrameSize: number,
    private readonly alloc?: (len: number) => Buffer,
    /** The caller reuses each chunk's memory after push(): every frame must then be copied out. */
    private readonly chunksAreReused = false,
  ) {}

  /** Feeds received bytes; returns the frames they complete. Throws FrameError on a bad length prefix. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.frame === null) {
        const take = Math.min(4 - this.headerFill, chunk.length - off);
        chunk.copy(this.header, this.headerFill, off, off + take);
        this.headerFill += take;
        off += take;
        if (this.headerFill < 4) break;
        if (this.header[0] !== 0) throw new FrameError(`unsupported session message type 0x${this.header[0]!.toString(16)}`);
        const len = this.header.readUIntBE(1, 3);
        if (len === 0) throw new FrameError('empty frame');
        if (len > this.maxFrameSize) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameSize}`);
        this.headerFill = 0;
        this.frameFill = 0;
        // A frame that arrives whole in this chunk needs no copy of its own: a view is enough.
        if (!this.chunksAreReused && chunk.length - off >= len) {
          frames.push(chunk.subarray(off, off + len));
          off += len;
          continue;
        }
        this.frame = this.alloc ? this.alloc(len).subarray(0, len) : Buffer.allocUnsafe(len);
      }
      const take = Math.min(this.frame.length - this.frameFill, chunk.length - off);
      chunk.copy(this.frame, this.frameFill, off, off + take);
      this.frameFill += take;
      off += take;
      if (this.frameFill === this.frame.length) {
        frames.push(this.frame);
        this.frame = null;
      }
    }
    return frames;
  }

  /**
   * Where the next socket read may land directly: the unfilled rest of the frame being assembled,
   * when at least `min` bytes of it are missing (no copy for the bulk of a large WRITE). A read into
   * it cannot run into the next frame. Hand the count read to `filled`.
   */
  directTarget(min: number): Buffer | undefined {
    if (this.frame === null || this.frame.length - this.frameFill < min) return undefined;
    return this.frame.subarray(this.frameFill);
  }

  /** `n` bytes were read into the buffer `directTarget` gave; returns the frame if that completed it. */
  filled(n: number): Buffer[] {
    if (this.frame === null || n > this.frame.length - this.frameFill) throw new FrameError('direct read beyond the frame');
    this.frameFill += n;
    if (this.frameFill < this.frame.length) return [];
    const done = this.frame;
    this.frame = null;
    return [done];
  }

  /** The frame being assembled and how many of its bytes are in, if one is. */
  partial(): { frame: Buffer; filled: number } | undefined {
    return this.frame === null ? undefined : { frame: this.frame, filled: this.frameFill };
  }

  /** Bytes of a partial frame held (for diagnostics). */
  get buffered(): number {
    return this.headerFill + this.frameFill;
  }
}

/** The 4-byte Direct TCP prefix for a message of `length` bytes. */
export function framePrefix(length: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = 0;
  b.writeUIntBE(length, 1, 3);
  return b;
}
