import { watch as fsWatch, lstatSync, readdirSync } from 'node:fs';
import * as nodePath from 'node:path';
import type { ChangeEvent, Watch } from './types.js';

/**
 * Which names of a watched tree exist, as far as the events seen so far tell. inotify (through
 * fs.watch) reports an entry appearing or going away as the same 'rename' event, and by the time it is
 * handled the entry may have changed again: a file deleted and created at once is there for both
 * events. Each 'rename' of a known name therefore flips it; only a name seen for the first time is
 * looked at. The watched directory's own entries are known from the start.
 */
export class EntryPresence {
  private readonly known = new Map<string, { present: boolean; isDirectory: boolean }>();

  constructor(initial: Iterable<{ name: string; isDirectory: boolean }> = []) {
    for (const e of initial) this.known.set(e.name, { present: true, isDirectory: e.isDirectory });
  }

  /** A 'rename' event for `name`; `now` is what a look at it finds (undefined: nothing there). */
  renamed(name: string, now: { isDirectory: boolean } | undefined): Pick<ChangeEvent, 'kind' | 'isDirectory'> {
    const before = this.known.get(name);
    const present = before ? !before.present : now !== undefined;
    const isDirectory = present ? (now?.isDirectory ?? before?.isDirectory ?? false) : (before?.isDirectory ?? now?.isDirectory ?? false);
    this.known.set(name, { present, isDirectory });
    return { kind: present ? 'added' : 'removed', isDirectory };
  }

  /** Events were lost: what is known may be wrong. */
  forget(): void {
    this.known.clear();
  }
}

/**
 * inotify through fs.watch. Errors (e.g. the inotify queue overflowing) are reported as an overflow,
 * which CHANGE_NOTIFY answers with STATUS_NOTIFY_ENUM_DIR so the client re-reads the directory.
 */
export function watchDirectory(real: string, recursive: boolean, onChange: (e: ChangeEvent) => void, onOverflow: () => void): Watch {
  let initial: { name: string; isDirectory: boolean }[] = [];
  try {
    initial = readdirSync(real, { withFileTypes: true }).map((d) => ({ name: d.name, isDirectory: d.isDirectory() }));
  } catch {
    // an unreadable directory: names are learned from events
  }
  const presence = new EntryPresence(initial);
  const overflow = (): void => {
    presence.forget();
    onOverflow();
  };
  const w = fsWatch(real, { recursive, persistent: false }, (event, filename) => {
    if (!filename) {
      overflow();
      return;
    }
    const name = filename.toString().split(nodePath.sep).join('/');
    let now: { isDirectory: boolean } | undefined;
    try {
      now = { isDirectory: lstatSync(nodePath.join(real, name)).isDirectory() };
    } catch {
      now = undefined;
    }
    if (event === 'rename') onChange({ name, ...presence.renamed(name, now) });
    else onChange({ kind: 'modified', name, isDirectory: now?.isDirectory ?? false });
  });
  w.on('error', overflow);
  return { close: () => w.close() };
}
