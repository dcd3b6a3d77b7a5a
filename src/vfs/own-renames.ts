import * as nodePath from 'node:path';

interface Noted {
  from: string;
  to: string;
  at: number;
}

/**
 * Renames the server made itself, so that change notify can report them as Windows does: a rename
 * inside one directory as a RENAMED_OLD_NAME / RENAMED_NEW_NAME pair. inotify pairs the two halves
 * of a move by a cookie, but fs.watch passes both on as plain 'rename' events, the same as a
 * removal and a creation. What this backend renamed is known here, and an event for a name matching
 * a rename noted a moment ago is that rename. Renames by other processes stay a removal and an
 * addition; so does a move to another directory, which Windows reports that way too.
 */
export class OwnRenames {
  /** Oldest first, so expiry drops from the front. */
  private noted: Noted[] = [];

  /** Long enough for a busy event loop to get to the inotify events; a stale entry must not pair a later removal. */
  static readonly TTL_MS = 5_000;
  /** Bound on what is kept when no watch ever takes the entries. */
  private static readonly MAX = 256;

  constructor(private readonly now: () => number = Date.now) {}

  /** `from` (a real path) was renamed to `to`; only renames within one directory are kept. */
  note(from: string, to: string): void {
    if (nodePath.dirname(from) !== nodePath.dirname(to) || from === to) return;
    this.expire();
    if (this.noted.length >= OwnRenames.MAX) this.noted.shift();
    this.noted.push({ from, to, at: this.now() });
  }

  /** The rename noted did not happen. */
  drop(from: string, to: string): void {
    const i = this.noted.findIndex((e) => e.from === from && e.to === to);
    if (i >= 0) this.noted.splice(i, 1);
  }

  /**
   * Where `from` was renamed to, if this backend renamed it a moment ago. Every watch over the
   * directory sees the event, so the entry stays until it expires; `seen` is the watch's own record
   * of which renames it has paired already.
   */
  targetOf(from: string, seen: WeakSet<object>): string | undefined {
    this.expire();
    const e = this.noted.find((n) => n.from === from && !seen.has(n));
    if (!e) return undefined;
    seen.add(e);
    return e.to;
  }

  private expire(): void {
    const limit = this.now() - OwnRenames.TTL_MS;
    let i = 0;
    while (i < this.noted.length && this.noted[i]!.at < limit) i++;
    if (i > 0) this.noted = this.noted.slice(i);
  }
}
