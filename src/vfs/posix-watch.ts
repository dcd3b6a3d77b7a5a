import { watch as fsWatch, lstatSync, readdirSync, type Dirent, type FSWatcher } from 'node:fs';
import * as nodePath from 'node:path';
import type { ChangeEvent, Watch } from './types.js';
import type { OwnRenames } from './own-renames.js';

/**
 * What a look at a name finds. `id` (inode and birth time) tells a directory from one made again in
 * its place: file systems hand a freed inode number out again at once.
 */
export interface Look {
  isDirectory: boolean;
  id?: string;
}

/**
 * Which names of a watched tree exist, as far as the events seen so far tell. inotify (through
 * fs.watch) reports an entry appearing or going away as the same 'rename' event, and by the time it is
 * handled the entry may have changed again: a file deleted and created at once is there for both
 * events. Each 'rename' of a known name therefore flips it; only a name seen for the first time is
 * looked at. Given the entries of the watched directories at the start, a name not among them is new,
 * so its first event is its creation even when it is gone again by then.
 *
 * libuv also reports an attribute change of a subdirectory as 'rename' (inotify flags the event
 * IN_ISDIR, which libuv counts as a rename): a known directory still there as the same one has
 * only changed, and does not flip.
 */
export class EntryPresence {
  private readonly known = new Map<string, { present: boolean; isDirectory?: boolean; id?: string }>();
  // The known names in each directory, so that forgetting a subtree costs its size, not the tree's.
  private readonly byDir = new Map<string, Set<string>>();
  private complete: boolean;

  /** `initial`: all the entries there are; without it names are learned from events. */
  constructor(initial?: Iterable<{ name: string } & Look>) {
    this.complete = initial !== undefined;
    for (const e of initial ?? []) this.set(e.name, e);
  }

  /** A 'rename' event for `name`; `now` is what a look at it finds (undefined: nothing there). */
  renamed(name: string, now: Look | undefined): Pick<ChangeEvent, 'kind' | 'isDirectory'> {
    const before = this.known.get(name);
    if (before?.present && before.isDirectory && now?.isDirectory && before.id !== undefined && before.id === now.id) {
      return { kind: 'modified', isDirectory: true };
    }
    const present = before ? !before.present : this.complete || now !== undefined;
    const isDirectory = present ? (now?.isDirectory ?? before?.isDirectory) : (before?.isDirectory ?? now?.isDirectory);
    this.put(name, { present, isDirectory, id: present ? now?.id : undefined });
    return { kind: present ? 'added' : 'removed', isDirectory };
  }

  set(name: string, now: Look): void {
    this.put(name, { present: true, isDirectory: now.isDirectory, id: now.id });
  }

  /** A present name went away (renamed); returns whether it was a directory, if known. */
  gone(name: string): boolean | undefined {
    const before = this.known.get(name);
    this.put(name, { present: false, isDirectory: before?.isDirectory });
    return before?.isDirectory;
  }

  private put(name: string, entry: { present: boolean; isDirectory?: boolean; id?: string }): void {
    if (!this.known.has(name)) {
      const slash = name.lastIndexOf('/');
      const dir = slash < 0 ? '' : name.slice(0, slash);
      let names = this.byDir.get(dir);
      if (!names) this.byDir.set(dir, (names = new Set()));
      names.add(name);
    }
    this.known.set(name, entry);
  }

  /** Whether every name is known: no events were lost, no directory was unreadable. */
  get isComplete(): boolean {
    return this.complete;
  }

  isPresent(name: string): boolean {
    return this.known.get(name)?.present === true;
  }

  /** `dir` went away: what was under it is no longer known. Returns the directories under it. */
  forgetUnder(dir: string): string[] {
    const dirs: string[] = [];
    const names = this.byDir.get(dir);
    this.byDir.delete(dir);
    for (const name of names ?? []) {
      if (this.known.get(name)?.isDirectory) dirs.push(name, ...this.forgetUnder(name));
      this.known.delete(name);
    }
    return dirs;
  }

  /** A directory could not be read: names not known may have been there all along. */
  partial(): void {
    this.complete = false;
  }

  /** Events were lost: what is known may be wrong. */
  forget(): void {
    this.known.clear();
    this.byDir.clear();
    this.complete = false;
  }
}

/**
 * How long before its creation event is handled an entry in a new directory may have been made and
 * still be reported by the scan: generous, as a missed entry is worse than one of a directory moved
 * in with it being reported as added.
 */
const NEW_DIRECTORY_SLACK_MS = 10_000;

/**
 * inotify through fs.watch, one non-recursive watch per directory. Node's recursive fs.watch on Linux
 * watches every entry on its own and learns of a new subdirectory's entries by re-reading it, so
 * events under subdirectories made after the watch started were lost or misnamed. Here the watch of a
 * new subdirectory is added in the callback that reports it, and all watches share libuv's one
 * inotify queue, so the events of the whole tree arrive in the order they happened. Errors (e.g. the
 * inotify queue overflowing) are reported as an overflow, which CHANGE_NOTIFY answers with
 * STATUS_NOTIFY_ENUM_DIR so the client re-reads the directory.
 */
export function watchDirectory(
  real: string,
  recursive: boolean,
  onChange: (e: ChangeEvent) => void,
  onOverflow: () => void,
  ownRenames?: OwnRenames,
): Watch {
  const presence = new EntryPresence([]);
  // The renames of ownRenames this watch has paired.
  const pairedRenames = new WeakSet<object>();
  const watchers = new Map<string, FSWatcher>();
  // Names the scan of a new directory reported that inotify may report once more.
  const scanned = new Set<string>();
  // Names reported added in this batch of events. The server writes a new entry's mode and its
  // user.smb3d xattr right after making it, which inotify reports as attribute changes in the same
  // batch; Windows reports the creation alone.
  const added = new Set<string>();
  let clearing = false;
  const report = (e: ChangeEvent): void => {
    if (e.kind === 'modified' && added.has(e.name)) return;
    if (e.kind === 'added') {
      added.add(e.name);
      if (!clearing) {
        clearing = true;
        setImmediate(() => {
          clearing = false;
          added.clear();
        });
      }
    }
    onChange(e);
  };
  let closed = false;
  const overflow = (): void => {
    presence.forget();
    onOverflow();
  };
  const join = (dir: string, name: string): string => (dir ? `${dir}/${name}` : name);
  const look = (rel: string): (Look & { ctimeMs: number }) | undefined => {
    try {
      const st = lstatSync(nodePath.join(real, rel), { bigint: true });
      return { isDirectory: st.isDirectory(), id: `${st.ino}:${st.birthtimeNs}`, ctimeMs: Number(st.ctimeMs) };
    } catch {
      return undefined;
    }
  };

  /**
   * Watches `dir` ('' for the watched directory) and, when recursive, the directories in it. With
   * `newSince`, `dir` has just appeared: entries made in it before its watch was in place are
   * reported as added, but only those changed since about then, so that a directory moved in
   * reports just itself, as on Windows.
   */
  const watchTree = (dir: string, newSince?: number): void => {
    if (closed || watchers.has(dir)) return;
    const path = nodePath.join(real, dir);
    let w: FSWatcher;
    try {
      w = fsWatch(path, { persistent: false }, (event, filename) => handle(dir, event, filename));
    } catch (e) {
      if (dir === '') throw e;
      const code = (e as NodeJS.ErrnoException).code;
      // Gone already: its parent's watch reports that.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') overflow();
      return;
    }
    w.on('error', overflow);
    watchers.set(dir, w);
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      // an unreadable directory: names are learned from events
      presence.partial();
    }
    for (const d of entries) {
      const rel = join(dir, d.name);
      if (newSince !== undefined && presence.isPresent(rel)) continue;
      const now = d.isDirectory() || newSince !== undefined ? look(rel) : { isDirectory: false };
      if (!now) continue;
      presence.set(rel, now);
      if (newSince !== undefined && 'ctimeMs' in now && now.ctimeMs >= newSince) {
        scanned.add(rel);
        report({ kind: 'added', name: rel, isDirectory: now.isDirectory });
      }
      if (recursive && now.isDirectory) watchTree(rel, newSince);
    }
    // What inotify saw during the scan is queued already and is handled before this runs.
    if (newSince !== undefined) setImmediate(() => scanned.clear());
  };

  const unwatch = (dir: string): void => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };
  // A directory moved away keeps its contents: their watches would go on reporting under old names.
  const unwatchTree = (dir: string): void => {
    const complete = presence.isComplete;
    unwatch(dir);
    for (const d of presence.forgetUnder(dir)) unwatch(d);
    if (!complete) for (const d of [...watchers.keys()]) if (d.startsWith(`${dir}/`)) unwatch(d);
  };

  const handle = (dir: string, event: string, filename: string | Buffer | null): void => {
    if (closed) return;
    if (!filename) {
      settleHeld();
      overflow();
      return;
    }
    const rel = join(dir, filename.toString());
    const now = look(rel);
    if (held && resolveHeld(rel, event, now)) return;
    // An event of the watched directory itself (its attributes, its removal) comes under its own
    // name; its parent reports it, or, for the top, it is no entry of the watched directory.
    if (filename.toString() === nodePath.basename(nodePath.join(real, dir)) && !now && !presence.isPresent(rel)) return;
    if (event !== 'rename') {
      report({ kind: 'modified', name: rel, isDirectory: now?.isDirectory ?? false });
      return;
    }
    // The creation of an entry the scan of its new directory has reported already.
    if (scanned.delete(rel) && now) return;
    if (holdRename(rel, now)) return;
    entryRenamed(rel, now);
  };

  /** A 'rename' event as fs.watch means it: the entry appeared or went away. */
  const entryRenamed = (rel: string, now: Look | undefined): void => {
    const r = presence.renamed(rel, now);
    report({ name: rel, ...r });
    if (!recursive || !r.isDirectory || r.kind === 'modified') return;
    if (r.kind === 'removed') unwatchTree(rel);
    else if (now?.isDirectory) watchTree(rel, Date.now() - NEW_DIRECTORY_SLACK_MS);
  };

  /**
   * A rename this server made within one directory (see OwnRenames) is reported as a pair. Its old
   * name's event is held until the next event: inotify queues a rename's two halves one right after
   * the other, so the new name's event next means the held one was the move. Another event for the
   * old name next means the held one was not (an attribute change, which libuv reports as 'rename'
   * for a directory, or a creation handled after the entry was renamed already).
   */
  let held: { rel: string; toRel: string; timer: NodeJS.Immediate } | undefined;

  const holdRename = (rel: string, now: Look | undefined, toRel?: string): boolean => {
    if (!ownRenames || now || !presence.isPresent(rel)) return false;
    if (toRel === undefined) {
      const to = ownRenames.targetOf(nodePath.join(real, rel), pairedRenames);
      if (to === undefined) return false;
      toRel = nodePath.relative(real, to);
    }
    const h = { rel, toRel, timer: setImmediate(() => !closed && held === h && settleHeld()) };
    held = h;
    return true;
  };

  /** Nothing paired the held event: it counts as an ordinary one. */
  const settleHeld = (): void => {
    const h = held;
    if (!h) return;
    held = undefined;
    clearImmediate(h.timer);
    entryRenamed(h.rel, undefined);
  };

  /** The event after a held one; returns true when it was consumed. */
  const resolveHeld = (rel: string, event: string, now: Look | undefined): boolean => {
    const h = held!;
    held = undefined;
    clearImmediate(h.timer);
    if (event === 'rename' && rel === h.toRel) {
      // What the old name was is best told by what the new one is now.
      const was = presence.gone(h.rel);
      const isDirectory = now?.isDirectory ?? was;
      report({ kind: 'renamed-old', name: h.rel, isDirectory });
      presence.set(rel, now ?? { isDirectory: isDirectory ?? false });
      report({ kind: 'renamed-new', name: rel, isDirectory });
      if (recursive && isDirectory) {
        // The directory's watches still report under its old name; its entries are not new.
        unwatchTree(h.rel);
        if (now?.isDirectory) watchTree(rel);
      }
      return true;
    }
    // The held event was not the move; this one, for the same name, may be.
    if (rel === h.rel) return event === 'rename' && holdRename(rel, now, h.toRel);
    entryRenamed(h.rel, undefined);
    return false;
  };

  watchTree('');
  return {
    close: () => {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
