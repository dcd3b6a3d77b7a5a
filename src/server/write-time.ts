import { filetimeFromMs } from '../protocol/time.js';
import type { FileStat } from '../vfs/types.js';
import type { Open } from './state/open.js';

/** Time and timers, replaceable in tests. */
export interface WriteTimeClock {
  /** Now as a FILETIME. */
  now(): bigint;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

export const systemClock: WriteTimeClock = {
  // Sub-millisecond: a client compares the close's write time with the time it sent the close.
  now: () => filetimeFromMs(performance.timeOrigin + performance.now()),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/** What the open files of one file share: the write time reported while an update is delayed. */
export interface WriteTimeFile {
  pinnedWriteTime?: bigint;
}

/** The write time clients are told: the pinned one while an update is delayed, else the file's. */
export function reportedStat<S extends Pick<FileStat, 'lastWriteTime'>>(file: WriteTimeFile | undefined, st: S): S {
  return file?.pinnedWriteTime === undefined ? st : { ...st, lastWriteTime: file.pinnedWriteTime };
}

/** Windows updates the write time this long after the first write through a handle. */
export const WRITE_TIME_DELAY_MS = 2000;

/**
 * Windows' delayed write-time update, per open, as smbtorture's smb2.timestamps.delayed-* test it
 * and smbd implements it: a write does not change the write time clients see. The first write through
 * a handle schedules an update 2 s later (once per handle); later writes only mark the handle, and
 * its close sets the write time. A flush or a FileBasicInformation set (even one of all-zero times)
 * through the handle does the pending update at once; changing the end of file sets the write time
 * now. A write time set explicitly through the handle sticks: its writes change nothing, and the
 * close puts the set time back (the writes moved the file system's mtime).
 *
 * While an update is pending the file system's mtime moves with every write; the time clients are
 * told is kept in the file's `pinnedWriteTime`. `apply` sets the file system's write time.
 */
export class DelayedWriteTime {
  private triggered = false;
  private updateOnClose = false;
  private cancelTimer?: () => void;
  private forced?: bigint;

  constructor(
    private readonly file: WriteTimeFile,
    private readonly apply: (writeTime: bigint) => Promise<void>,
    private readonly clock: WriteTimeClock = systemClock,
    private readonly delayMs = WRITE_TIME_DELAY_MS,
  ) {}

  /** Before a write through the handle; `current` is the write time clients see now. */
  beforeWrite(current: bigint): void {
    this.file.pinnedWriteTime ??= current;
    if (this.forced !== undefined) return;
    this.updateOnClose = true;
    if (this.triggered) return;
    this.triggered = true;
    this.cancelTimer = this.clock.schedule(this.delayMs, () => {
      this.cancelTimer = undefined;
      void this.update().catch(() => undefined);
    });
  }

  /** Whether beforeWrite needs the current write time (nothing pinned it yet). */
  get needsCurrent(): boolean {
    return this.file.pinnedWriteTime === undefined;
  }

  /** FLUSH or a FileBasicInformation set: a pending update happens now. */
  async settle(): Promise<void> {
    if (this.cancelTimer || this.updateOnClose) await this.update();
  }

  /** The end of file or allocation changed: the write time is now, unless one was set explicitly. */
  async touch(): Promise<void> {
    if (this.forced === undefined) await this.update();
  }

  /** A write time was set explicitly through the handle: it stays until the handle closes. */
  force(writeTime: bigint): void {
    this.stopTimer();
    this.updateOnClose = false;
    this.forced = writeTime;
    this.file.pinnedWriteTime = undefined;
  }

  /** The handle closes: a pending update happens, or an explicit write time is put back. */
  async close(): Promise<void> {
    this.stopTimer();
    if (this.forced !== undefined) {
      if (this.file.pinnedWriteTime !== undefined) {
        this.file.pinnedWriteTime = undefined;
        await this.apply(this.forced);
      }
      return;
    }
    if (this.updateOnClose) await this.update();
  }

  private async update(): Promise<void> {
    this.stopTimer();
    this.updateOnClose = false;
    this.file.pinnedWriteTime = undefined;
    await this.apply(this.clock.now());
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}

/** The delayed write-time state of an open of a file's data (none for directories, streams, pipes). */
export function writeTimeOf(open: Open): DelayedWriteTime | undefined {
  if (open.isDirectory || open.stream !== undefined || !open.file || !open.handle) return undefined;
  const backend = open.tree.share.backend;
  if (!backend) return undefined;
  const file = open.file;
  open.writeTime ??= new DelayedWriteTime(file, async (lastWriteTime) => {
    // The file's path follows renames through any of its opens; a file deleted meanwhile has nothing to update.
    await backend.setTimes(file.path, { lastWriteTime }).catch(() => undefined);
  });
  return open.writeTime;
}
