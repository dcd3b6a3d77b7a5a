import * as nodePath from 'node:path';

/**
 * Renames the server made itself, so that change notify can report them as Windows does: a rename
 * inside one directory as a RENAMED_OLD_NAME / RENAMED_NEW_NAME pair. inotify pairs the two halves
 * of a move by a cookie, but fs.watch passes both on as plain 'rename' events, the same as a
 * removal and a creation. What this backend renamed is known here, and an event for a name matching
 * a rename noted a moment ago is that rename. Renames by other processes stay a removal and an
 * addition; so does a move to another directory, which Windows reports that way too.
 */
export class OwnRenames {
  private readonly byFrom = new Map<string, Array<{ to: string; at: number }>>();

  /** Long enough for a busy event loop to get to the inotify events; a stale entry must not pair a later removal. */
  static readonly TTL_MS = 5_000;
  /** Bound on what is kept when no watch ever takes the entries. */
  private static readonly MAX = 256;

  constructor(private readonly now: () => number = Date.now) {}

  /** `from` (a real path) was renamed to `to`; only renames within one directory are kept. */
  note(from: string, to: string): void {
    if (nodePath.dirname(from) !== nodePath.dirname(to) || from === to) return;
    this.expire();
    if (this.size() >= OwnRenames.MAX) this.byFrom.clear();
    const list = this.byFrom.get(from) ?? [];
    list.push({ to, at: this.now() });
    this.byFrom.set(from, list);
  }

  /** The rename noted did not happen. */
  drop(from: string, to: string): void {
    const list = this.byFrom.get(from);
    const i = list?.findIndex((e) => e.to === to) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) this.byFrom.delete(from);
  }

  /**
   * Where `from` was renamed to, if this backend renamed it a moment ago. Every watch over the
   * directory sees the event, so the entry stays until it expires; `seen` is the watch's own record
   * of which renames it has paired already.
   */
  targetOf(from: string, seen: WeakSet<object>): string | undefined {
    this.expire();
    for (const e of this.byFrom.get(from) ?? []) {
      if (seen.has(e)) continue;
      seen.add(e);
      return e.to;
    }
    return undefined;
  }

  private size(): number {
    let n = 0;
    for (const list of this.byFrom.values()) n += list.length;
    return n;
  }

  private expire(): void {
    const limit = this.now() - OwnRenames.TTL_MS;
    for (const [from, list] of this.byFrom) {
      const keep = list.filter((e) => e.at >= limit);
      if (keep.length) this.byFrom.set(from, keep);
      else this.byFrom.delete(from);
    }
  }
}
