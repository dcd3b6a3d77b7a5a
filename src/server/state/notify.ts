import type { ChangeEvent, Watch } from '../../vfs/types.js';
import { NtStatusError, Status } from '../../protocol/status.js';

/** FILE_ACTION_* ([MS-FSCC] 2.4.42). */
export const NotifyAction = { ADDED: 1, REMOVED: 2, MODIFIED: 3, RENAMED_OLD_NAME: 4, RENAMED_NEW_NAME: 5 } as const;

/** FILE_NOTIFY_CHANGE_* completion filter bits ([MS-SMB2] 2.2.35). */
export const NotifyFilter = {
  FILE_NAME: 0x1,
  DIR_NAME: 0x2,
  ATTRIBUTES: 0x4,
  SIZE: 0x8,
  LAST_WRITE: 0x10,
  LAST_ACCESS: 0x20,
  CREATION: 0x40,
  EA: 0x80,
  SECURITY: 0x100,
} as const;
const METADATA = 0x1fc;
const NAME_ACTIONS = {
  added: NotifyAction.ADDED,
  removed: NotifyAction.REMOVED,
  'renamed-old': NotifyAction.RENAMED_OLD_NAME,
  'renamed-new': NotifyAction.RENAMED_NEW_NAME,
} as const;

export interface NotifyRecord {
  action: number;
  name: string;
}

type Waiter = { resolve: (r: NotifyRecord[] | 'overflow') => void; reject: (e: Error) => void };

/**
 * The change-notify state of one directory open: the watch starts with the first CHANGE_NOTIFY and
 * changes are buffered between requests, as Windows does, until the handle is closed.
 */
export class NotifyState {
  watch?: Watch;
  private events: NotifyRecord[] = [];
  private overflowed = false;
  private readonly waiters: Waiter[] = [];
  private closed = false;
  /** Events kept between requests before we give up and report an overflow. */
  private static readonly MAX_BUFFERED = 1024;

  constructor(
    public filter: number,
    readonly recursive: boolean,
    /** Output buffer size of the first CHANGE_NOTIFY on the handle. */
    readonly bufferSize: number,
  ) {}

  onChange(e: ChangeEvent): void {
    let action: number;
    if (e.kind === 'modified') {
      if (!(this.filter & METADATA)) return;
      action = NotifyAction.MODIFIED;
    } else {
      const bit = e.isDirectory ? NotifyFilter.DIR_NAME : NotifyFilter.FILE_NAME;
      // An entry gone before the watch could look at it may have been either: report it for either name filter.
      const either = e.isDirectory === undefined && this.filter & (NotifyFilter.FILE_NAME | NotifyFilter.DIR_NAME);
      if (!(this.filter & bit) && !either) return;
      action = NAME_ACTIONS[e.kind];
    }
    const name = e.name.replace(/\//g, '\\');
    // inotify reports one write as several changes (data, attributes, close): a client needs one.
    const last = this.events[this.events.length - 1];
    if (last && last.action === action && last.name === name) return;
    this.events.push({ action, name });
    if (this.events.length > NotifyState.MAX_BUFFERED) this.onOverflow();
    this.deliver();
  }

  onOverflow(): void {
    this.overflowed = true;
    this.events = [];
    this.deliver();
  }

  /** Buffered changes now, or undefined when the caller must wait. */
  take(): NotifyRecord[] | 'overflow' | undefined {
    if (this.overflowed) {
      this.overflowed = false;
      return 'overflow';
    }
    if (this.events.length === 0) return undefined;
    const out = this.events;
    this.events = [];
    return out;
  }

  wait(signal: AbortSignal): Promise<NotifyRecord[] | 'overflow'> {
    // A CANCEL may arrive before the request got here: it must not wait for an abort already past.
    if (signal.aborted) return Promise.reject(new NtStatusError(Status.CANCELLED));
    // So may the handle's CLOSE, while the request let queued inotify events arrive.
    if (this.closed) return Promise.reject(new NtStatusError(Status.NOTIFY_CLEANUP));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal.addEventListener('abort', () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new NtStatusError(Status.CANCELLED));
      }, { once: true });
    });
  }

  private deliver(): void {
    while (this.waiters.length > 0) {
      const got = this.take();
      if (got === undefined) return;
      this.waiters.shift()!.resolve(got);
    }
  }

  /** Every waiting request ends with this status (the directory became delete-pending). */
  failAll(status: number): void {
    for (const w of this.waiters.splice(0)) w.reject(new NtStatusError(status));
  }

  /** The handle closed: pending requests complete with STATUS_NOTIFY_CLEANUP. */
  close(): void {
    this.closed = true;
    this.watch?.close();
    for (const w of this.waiters.splice(0)) w.reject(new NtStatusError(Status.NOTIFY_CLEANUP));
  }
}
