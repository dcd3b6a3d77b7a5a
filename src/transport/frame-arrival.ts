/**
 * The progress of a frame handed out before its last byte arrived (TransportEvents.earlyFrame).
 * The transport goes on reading into the frame's memory; whoever holds the frame must read a
 * range only after `waitFor` said it is there. Settles exactly once: `done` resolves when the
 * frame is whole, and rejects when the connection ends first.
 */
export class FrameArrival {
  private filledBytes: number;
  private readonly waiters: Array<{ end: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private failure?: Error;
  private settled = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;

  constructor(
    readonly length: number,
    filled: number,
  ) {
    this.filledBytes = filled;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Nobody may be listening when the connection dies; the rejection still reaches waitFor callers.
    this.done.catch(() => undefined);
  }

  /** Bytes of the frame in memory so far, from its start. */
  get filled(): number {
    return this.filledBytes;
  }

  get complete(): boolean {
    return this.filledBytes >= this.length;
  }

  /** Resolves once the frame's first `end` bytes are in memory; rejects if it never gets there. */
  waitFor(end: number): Promise<void> {
    if (this.filledBytes >= Math.min(end, this.length)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ end, resolve, reject }));
  }

  /** The transport read more of the frame: `filled` bytes from its start are now in memory. */
  progress(filled: number): void {
    if (this.settled) return;
    this.filledBytes = Math.min(filled, this.length);
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (this.filledBytes >= Math.min(w.end, this.length)) {
        this.waiters.splice(i, 1);
        w.resolve();
      } else i++;
    }
    if (this.complete) {
      this.settled = true;
      this.resolveDone();
    }
  }

  /** The connection ended before the frame was whole. */
  fail(reason: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
    this.rejectDone(reason);
  }
}
