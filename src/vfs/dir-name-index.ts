/**
 * Case-insensitive name lookup without rereading the directory each time.
 *
 * A CREATE of a new name must first make sure no other case of it exists, and on a case-sensitive
 * file system the only way to know is to read the whole directory. Done per request, creating N
 * files in one directory reads it N times: O(N^2), which made creating 2000 small files spend
 * two thirds of the server's CPU in readdir and case folding. Samba pays the same scan in C.
 *
 * The index keeps, for directories big enough to be worth it, a map from folded name to the
 * names on disk. It stays true in two ways:
 * - the server's own changes go through `indexedOps`, which updates the index in the same tick,
 *   so a client that creates "Foo" and at once opens "FOO" finds it;
 * - changes made by anyone else arrive as inotify events (fs.watch); each names an entry, which is
 *   looked at again (lstat). Between such a change and its event, a lookup can miss it: the
 *   outcome is then the one the change would have had if it had come a moment later.
 * Anything the watcher cannot say precisely (an error, no file name, the directory itself moved
 * or gone) drops that directory's index, and the next lookup reads the directory again.
 */
import { constants as fsc, watch as fsWatch, lstatSync, type FSWatcher } from 'node:fs';
import * as nodePath from 'node:path';
import { foldName } from './paths.js';
import type { MetaOps } from './posix-ops.js';

interface DirIndex {
  names: Map<string, string[]>;
  watcher: FSWatcher;
}

export interface DirNameIndexOptions {
  /** Directories indexed at most (least recently used ones go first); each holds one inotify watch. */
  maxDirs?: number;
  /** Directories with fewer entries are read each time: cheap, and spares a watch. */
  minEntries?: number;
}

export class DirNameIndex {
  private readonly dirs = new Map<string, DirIndex>();
  private readonly maxDirs: number;
  private readonly minEntries: number;

  constructor(o: DirNameIndexOptions = {}) {
    this.maxDirs = o.maxDirs ?? 128;
    this.minEntries = o.minEntries ?? 32;
  }

  /** Names on disk in `dir` that fold to `folded` (maybe none); undefined when `dir` is not indexed. */
  lookup(dir: string, folded: string): readonly string[] | undefined {
    const d = this.dirs.get(dir);
    if (!d) return undefined;
    // Most recently used last, so eviction takes the coldest.
    this.dirs.delete(dir);
    this.dirs.set(dir, d);
    return d.names.get(folded) ?? [];
  }

  /** Indexes `dir` from a listing just read, if it is big enough and can be watched. */
  build(dir: string, listing: readonly string[]): void {
    if (listing.length < this.minEntries || this.dirs.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = fsWatch(dir, { persistent: false }, (event, file) => this.onEvent(dir, event, file));
    } catch {
      return; // out of inotify watches, or the directory went away: stay with reading it
    }
    watcher.on('error', () => this.drop(dir));
    const names = new Map<string, string[]>();
    for (const n of listing) add(names, n);
    this.dirs.set(dir, { names, watcher });
    if (this.dirs.size > this.maxDirs) this.drop(this.dirs.keys().next().value!);
  }

  /** The entry `dir`/`name` was created or moved in (by us). */
  added(dir: string, name: string): void {
    const d = this.dirs.get(dir);
    if (d) add(d.names, name);
  }

  /** The entry `dir`/`name` was removed or moved away (by us). */
  removed(dir: string, name: string): void {
    const d = this.dirs.get(dir);
    if (d) remove(d.names, name);
  }

  /**
   * `dir` and everything under it moved or went away (by us): forget their indexes now, before
   * their watches say so, in case a new directory takes the old path at once.
   */
  forget(dir: string): void {
    for (const k of [...this.dirs.keys()]) if (k === dir || k.startsWith(dir + '/')) this.drop(k);
  }

  /** Forgets every directory and closes their watches. */
  clear(): void {
    for (const dir of [...this.dirs.keys()]) this.drop(dir);
  }

  get size(): number {
    return this.dirs.size;
  }

  private onEvent(dir: string, event: string, file: string | Buffer | null): void {
    if (event !== 'rename') return; // 'change': content or attributes; names stay as they were
    const d = this.dirs.get(dir);
    if (!d) return;
    const name = typeof file === 'string' ? file : file?.toString();
    // No name, or the watched directory's own name (libuv reports its move or removal so).
    if (!name || name === nodePath.basename(dir)) {
      this.drop(dir);
      return;
    }
    let exists: boolean;
    try {
      exists = lstatSync(nodePath.join(dir, name), { throwIfNoEntry: false }) !== undefined;
    } catch {
      this.drop(dir);
      return;
    }
    if (exists) add(d.names, name);
    else remove(d.names, name);
  }

  private drop(dir: string): void {
    const d = this.dirs.get(dir);
    if (!d) return;
    this.dirs.delete(dir);
    d.watcher.close();
  }
}

function add(names: Map<string, string[]>, name: string): void {
  const key = foldName(name);
  const list = names.get(key);
  if (!list) names.set(key, [name]);
  else if (!list.includes(name)) list.push(name);
}

function remove(names: Map<string, string[]>, name: string): void {
  const key = foldName(name);
  const list = names.get(key);
  if (!list) return;
  const i = list.indexOf(name);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) names.delete(key);
}

/**
 * `ops` with every change to a directory's names also made to `index`. Updated after the call
 * succeeds; a create that fails leaves the index as it was.
 */
export function indexedOps(ops: MetaOps, index: DirNameIndex): MetaOps {
  const split = (p: string): [string, string] => [nodePath.dirname(p), nodePath.basename(p)];
  return {
    ...ops,
    async open(p, flags, mode) {
      const fd = await ops.open(p, flags, mode);
      if (flags & fsc.O_CREAT) index.added(...split(p));
      return fd;
    },
    async mkdir(p, mode) {
      await ops.mkdir(p, mode);
      index.added(...split(p));
    },
    async rmdir(p) {
      await ops.rmdir(p);
      index.removed(...split(p));
      index.forget(p);
    },
    async unlink(p) {
      await ops.unlink(p);
      index.removed(...split(p));
    },
    async rename(from, to) {
      await ops.rename(from, to);
      index.removed(...split(from));
      index.added(...split(to));
      index.forget(from);
    },
  };
}
