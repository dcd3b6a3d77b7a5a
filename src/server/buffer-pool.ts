/**
 * Reusable I/O buffers in power-of-two sizes from 64 KiB up. Large fresh allocations cost a page
 * fault per 4 KiB on first touch, which for 8 MiB reads costs more than the read from page cache.
 * Bounded: beyond `maxPooledBytes` released buffers are left to the garbage collector.
 */
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private pooledBytes = 0;

  constructor(
    private readonly maxPooledBytes = 128 * 1024 * 1024,
    private readonly minSize = 64 * 1024,
  ) {}

  private sizeClass(n: number): number {
    let c = this.minSize;
    while (c < n) c *= 2;
    return c;
  }

  /** A buffer of at least `length` bytes (contents undefined). */
  acquire(length: number): Buffer {
    if (length < this.minSize) return Buffer.allocUnsafe(length);
    const size = this.sizeClass(length);
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) {
      this.pooledBytes -= size;
      return buf;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  release(buf: Buffer): void {
    const size = buf.length;
    if (size < this.minSize || (size & (size - 1)) !== 0 || this.pooledBytes + size > this.maxPooledBytes) return;
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(buf);
    this.pooledBytes += size;
  }
}
