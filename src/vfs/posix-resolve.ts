/**
 * Share-relative path -> real path on disk, case-insensitively and never outside the share root.
 *
 * Every result has been through realpath and checked against the (real) root, so a symlink inside
 * the share is followed only when its target stays inside; one that leaves is refused with
 * ACCESS_DENIED (Samba's "wide links = no" answers likewise). The check and the later use are two
 * system calls apart: a local user racing symlink swaps inside the share is not defended against.
 */
import * as nodePath from 'node:path';
import { Status, fail } from '../protocol/status.js';
import { errnoCode, toNtStatusError } from './errno.js';
import { foldName } from './paths.js';
import { syncMetadataOps, type MetaOps } from './posix-ops.js';
import type { DirNameIndex } from './dir-name-index.js';

export interface ResolvedEntry {
  /** Real path of the directory holding the entry. */
  parentReal: string;
  /** The entry's name as stored on disk, or the requested name when it does not exist. */
  name: string;
  /** parentReal + '/' + name: the entry itself, not what a symlink there points to. */
  entryPath: string;
  /** Share-relative path with on-disk case for the parts that exist. */
  sharePath: string;
  exists: boolean;
}

export class PathResolver {
  constructor(
    readonly rootReal: string,
    private readonly ops: MetaOps = syncMetadataOps,
    /** Where known, the names of a directory by folded name (see dir-name-index.ts). */
    private readonly index?: DirNameIndex,
  ) {}

  isInside(real: string): boolean {
    return real === this.rootReal || real.startsWith(this.rootReal === '/' ? '/' : this.rootReal + '/');
  }

  /** Defence in depth: paths reaching the backend were normalized, but never trust that. */
  components(path: string): string[] {
    if (path === '') return [];
    const parts = path.split('/');
    for (const p of parts) {
      if (p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\')) {
        fail(Status.OBJECT_NAME_INVALID, `bad backend path ${JSON.stringify(path)}`);
      }
    }
    return parts;
  }

  /**
   * Real path of what `path` names (symlinks followed), or null when it does not exist (a dangling
   * symlink counts as missing). Missing parents are OBJECT_PATH_NOT_FOUND.
   */
  async target(path: string): Promise<string | null> {
    const parts = this.components(path);
    if (parts.length === 0) return this.rootReal;
    // Fast path: the client sent the on-disk case.
    try {
      return this.checkInside(await this.ops.realpath(nodePath.join(this.rootReal, ...parts)));
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toNtStatusError(err);
    }
    const entry = await this.entry(path);
    if (!entry.exists) return null;
    try {
      return this.checkInside(await this.ops.realpath(entry.entryPath));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw toNtStatusError(err);
    }
  }

  /** The directory entry `path` names, with its parent resolved (symlinks followed) and checked. */
  async entry(path: string): Promise<ResolvedEntry> {
    const parts = this.components(path);
    if (parts.length === 0) fail(Status.ACCESS_DENIED, 'the share root is not an entry');
    const leaf = parts[parts.length - 1]!;
    const { real: parentReal, sharePath: parentShare } = await this.directory(parts.slice(0, -1));
    const name = await this.findName(parentReal, leaf);
    const finalName = name ?? leaf;
    return {
      parentReal,
      name: finalName,
      entryPath: nodePath.join(parentReal, finalName),
      sharePath: parentShare === '' ? finalName : `${parentShare}/${finalName}`,
      exists: name !== null,
    };
  }

  /** Real path of an existing directory given by components; anything else is OBJECT_PATH_NOT_FOUND. */
  private async directory(parts: string[]): Promise<{ real: string; sharePath: string }> {
    if (parts.length === 0) return { real: this.rootReal, sharePath: '' };
    try {
      const real = this.checkInside(await this.ops.realpath(nodePath.join(this.rootReal, ...parts)));
      await this.requireDirectory(real);
      return { real, sharePath: parts.join('/') };
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toNtStatusError(err, 'parent');
    }
    let cur = this.rootReal;
    const onDisk: string[] = [];
    for (const part of parts) {
      const name = await this.findName(cur, part);
      if (name === null) fail(Status.OBJECT_PATH_NOT_FOUND);
      let real: string;
      try {
        real = await this.ops.realpath(nodePath.join(cur, name));
      } catch (err) {
        throw toNtStatusError(err, 'parent');
      }
      cur = this.checkInside(real);
      await this.requireDirectory(cur);
      onDisk.push(name);
    }
    return { real: cur, sharePath: onDisk.join('/') };
  }

  private async requireDirectory(real: string): Promise<void> {
    let st;
    try {
      st = await this.ops.stat(real);
    } catch (err) {
      throw toNtStatusError(err, 'parent');
    }
    if (!st.isDirectory()) fail(Status.OBJECT_PATH_NOT_FOUND, 'a path component is not a directory');
  }

  /** On-disk name in `dirReal` matching `name`: exact first, else case-insensitive; null when none. */
  async findName(dirReal: string, name: string): Promise<string | null> {
    try {
      if ((await this.ops.lstatIfExists(nodePath.join(dirReal, name))) !== undefined) return name;
    } catch (err) {
      throw toNtStatusError(err, errnoCode(err) === 'ENOTDIR' ? 'parent' : 'file');
    }
    const wanted = foldName(name);
    const known = this.index?.lookup(dirReal, wanted);
    if (known) return known[0] ?? null;
    let names: string[];
    try {
      names = await this.ops.readdir(dirReal);
    } catch (err) {
      throw toNtStatusError(err, 'parent');
    }
    this.index?.build(dirReal, names);
    for (const candidate of names) {
      if (candidate.length === name.length && foldName(candidate) === wanted) return candidate;
    }
    return null;
  }

  checkInside(real: string): string {
    if (!this.isInside(real)) fail(Status.ACCESS_DENIED, 'path leaves the share');
    return real;
  }
}
