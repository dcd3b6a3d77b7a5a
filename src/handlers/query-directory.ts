import { Access, QueryDirectoryFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { eaSizeAt } from '../vfs/ea-size.js';
import { Writer } from '../protocol/writer.js';
import { directoryRecordsFitting, encodeDirectoryEntries, shortNameFor } from '../protocol/fscc/index.js';
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
  const batch = (await nextEntries(open, cursor, infoClass, single ? 1 : Infinity, outputLength)).map((e) =>
    withShortName(infoClass) ? { ...e, shortName: shortNameFor(e.name) } : e,
  );
  if (batch.length === 0) fail(fresh ? Status.NO_SUCH_FILE : Status.NO_MORE_FILES);
  const { buffer, count } = encodeDirectoryEntries(infoClass, batch, outputLength);
  if (count === 0) fail(Status.INFO_LENGTH_MISMATCH, 'output buffer too small for one entry');
  cursor.next += count;
  const w = new Writer();
  w.u16(9).u16(b + 8).u32(buffer.length).put(buffer);
  return { body: w.toBuffer() };
}

const withShortName = (infoClass: number): boolean => infoClass === 3 || infoClass === 37;

/**
 * The next entries of the listing that fit in `maxBytes` (at least one, if any are left, so that
 * one too large is refused as such), each statted now: entries removed since the scan started are
 * dropped from the cursor and not reported, as a live NTFS enumeration would not; the space they
 * leave is filled from the rest.
 */
async function nextEntries(open: Open, cursor: DirectoryCursor, infoClass: number, most: number, maxBytes: number): Promise<DirEntry[]> {
  const backend = open.tree.share.backend!;
  for (;;) {
    const rest = cursor.entries.slice(cursor.next, cursor.next + Math.min(most, Math.ceil(maxBytes / 64) + 1));
    const slice = rest.slice(0, Math.max(1, directoryRecordsFitting(infoClass, rest.map((e) => e.name), maxBytes)));
    const unstatted = slice.filter((e) => !e.stat);
    const stats = unstatted.length ? await backend.statListed(open.path, unstatted.map((e) => e.name)) : [];
    const fresh = new Map(unstatted.map((e, i) => [e, stats[i] ?? null]));
    const kept = slice.filter((e) => fresh.get(e) !== null);
    if (kept.length === slice.length) return slice.map((e) => ({ name: e.name, stat: e.stat ?? fresh.get(e)! }));
    cursor.entries.splice(cursor.next, slice.length, ...kept);
  }
}

async function listMatching(open: Open, pattern: string): Promise<DirectoryCursor['entries']> {
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
  const all: DirectoryCursor['entries'] = [
    { name: '.', stat: dirStat },
    { name: '..', stat: parentStat },
    ...(await backend.readdirNames(open.path)).map((name) => ({ name })),
  ];
  return all.filter((e) => matchWildcard(pattern, e.name));
}
