import { Access, QueryDirectoryFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { eaSizeAt } from '../vfs/ea-size.js';
import { Writer } from '../protocol/writer.js';
import { encodeDirectoryEntries, shortNameFor } from '../protocol/fscc/index.js';
import { matchWildcard } from '../vfs/paths.js';
import type { DirEntry } from '../vfs/types.js';
import type { Open, DirectoryCursor } from '../server/state/open.js';
import type { Reply, Request } from '../server/request.js';

const b = SMB2_HEADER_SIZE;

export function queryDirectoryPayloadSize(req: Request): number {
  return req.r.u32(b + 28);
}

/** QUERY_DIRECTORY ([MS-SMB2] 2.2.33, 3.3.5.18). */
export async function queryDirectory(req: Request): Promise<Reply> {
  const r = req.r;
  const infoClass = r.u8(b + 2);
  const flags = r.u8(b + 3);
  const nameOffset = r.u16(b + 24);
  const nameLength = r.u16(b + 26);
  const outputLength = r.u32(b + 28);
  const open = req.open(b + 8);
  if (!open.isDirectory || !open.handle) fail(Status.INVALID_PARAMETER, 'not a directory');
  if (!(open.grantedAccess & Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED);
  const pattern = nameLength ? r.utf16(nameOffset, nameLength) : '';
  if (nameLength && (pattern.includes('\\') || pattern.includes('/'))) fail(Status.OBJECT_NAME_INVALID);
  if (outputLength > req.server.maxIoSize) fail(Status.INVALID_PARAMETER);

  const restart = (flags & (QueryDirectoryFlags.RESTART_SCANS | QueryDirectoryFlags.REOPEN)) !== 0;
  let fresh = false;
  if (!open.cursor || restart) {
    open.cursor = { pattern: pattern || '*', entries: await listMatching(open, pattern || '*'), next: 0 };
    fresh = true;
  }
  const cursor = open.cursor;
  if (cursor.next >= cursor.entries.length) {
    fail(fresh && cursor.entries.length === 0 ? Status.NO_SUCH_FILE : Status.NO_MORE_FILES);
  }
  const single = (flags & QueryDirectoryFlags.RETURN_SINGLE_ENTRY) !== 0;
  // Entries removed since the scan started are not reported, as a live NTFS enumeration would not.
  const window = single ? 1 : Math.ceil(outputLength / 64) + 1;
  if (cursor.next > 0) await dropVanished(open, cursor, window);
  if (cursor.next >= cursor.entries.length) fail(Status.NO_MORE_FILES);
  const batch = cursor.entries
    .slice(cursor.next, cursor.next + window)
    .map((e) => (withShortName(infoClass) ? { ...e, shortName: shortNameFor(e.name) } : e));
  const { buffer, count } = encodeDirectoryEntries(infoClass, batch, outputLength);
  if (count === 0) fail(Status.INFO_LENGTH_MISMATCH, 'output buffer too small for one entry');
  cursor.next += count;
  const w = new Writer();
  w.u16(9).u16(b + 8).u32(buffer.length).put(buffer);
  return { body: w.toBuffer() };
}

const withShortName = (infoClass: number): boolean => infoClass === 3 || infoClass === 37;

/**
 * Drops entries removed since the scan started, checking only as many as the next response can hold
 * (64 bytes is less than any record) rather than the whole rest; entries that slide into the window
 * after a removal are checked too.
 */
async function dropVanished(open: Open, cursor: DirectoryCursor, window: number): Promise<void> {
  const backend = open.tree.share.backend!;
  const exists = async (path: string) => (backend.exists ? backend.exists(path) : (await backend.stat(path).catch(() => null)) !== null);
  let checked = 0;
  while (checked < window && cursor.next + checked < cursor.entries.length) {
    const from = cursor.next + checked;
    const slice = cursor.entries.slice(from, cursor.next + window);
    const alive = await Promise.all(slice.map((e) => e.name === '.' || e.name === '..' || exists(open.path ? `${open.path}/${e.name}` : e.name)));
    const kept = slice.filter((_, i) => alive[i]);
    cursor.entries.splice(from, slice.length, ...kept);
    checked += kept.length;
  }
}

async function listMatching(open: Open, pattern: string): Promise<DirEntry[]> {
  const backend = open.tree.share.backend!;
  const dirStat = await open.handle!.stat();
  const wild = /[*?<>"]/.test(pattern);
  if (!wild) {
    // An exact name: one lookup instead of reading the whole directory.
    const path = open.path ? `${open.path}/${pattern}` : pattern;
    const found = await backend.resolveCase(path);
    if (found === null) return [];
    const st = await backend.stat(found);
    // The backend may know the EA size already (the POSIX metadata record); list EAs only when not.
    if (st && st.eaSize === undefined) st.eaSize = await eaSizeAt(backend, found);
    return st ? [{ name: found.split('/').pop()!, stat: st }] : [];
  }
  const parentPath = open.path.includes('/') ? open.path.slice(0, open.path.lastIndexOf('/')) : '';
  const parentStat = open.path === '' ? dirStat : ((await backend.stat(parentPath)) ?? dirStat);
  const all: DirEntry[] = [
    { name: '.', stat: dirStat },
    { name: '..', stat: parentStat },
    ...(await backend.readdir(open.path)),
  ];
  return all.filter((e) => matchWildcard(pattern, e.name));
}
