/**
 * Extended attributes ([MS-FSCC] 2.4.15 FILE_FULL_EA_INFORMATION): QUERY_INFO FileFullEaInformation
 * and FileEaInformation, SET_INFO FileFullEaInformation and the ExtA create context. They live in
 * the file's ExtraStore (POSIX: `user.smb3d.e.<NAME>` xattrs, apart from streams), each value
 * stored as its Flags byte followed by the value.
 *
 * As on NTFS: names are ASCII, compared case-insensitively and kept upper-cased; a zero-length
 * value deletes the EA; a file without EAs answers NO_EAS_ON_FILE to a full query.
 */
import { NtStatusError, Status, fail } from '../protocol/status.js';
import { decodeFileFullEaInformation, type FullEaEntry } from '../protocol/fscc/index.js';
import type { ExtraStore } from '../vfs/types.js';
import { eaSizeFromEntries } from '../vfs/ea-size.js';

/** Characters NTFS refuses in an EA name (FsRtlIsFatDbcsLegal's set plus the wildcards). */
const INVALID_NAME_CHARS = new Set([...'"*/:<>?\\|+,;=[]']);
const FILE_NEED_EA = 0x80;

/** STATUS_INVALID_EA_NAME (a warning code, as Windows answers it) for a name NTFS would refuse. */
export function checkEaName(name: string): void {
  if (name.length === 0 || name.length > 255) fail(Status.INVALID_EA_NAME, 'EA name length');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || INVALID_NAME_CHARS.has(name[i]!)) fail(Status.INVALID_EA_NAME, 'bad character in EA name');
  }
}

/** Size of one packed entry without the padding that aligns the next one. */
function entrySize(e: FullEaEntry): number {
  return 8 + e.name.length + 1 + e.value.length;
}

/** A FILE_FULL_EA_INFORMATION chain, entries 4-byte aligned, the last one unpadded (as Samba and Windows send it). */
export function encodeFullEaList(eas: FullEaEntry[]): Buffer {
  const sizes = eas.map((e, i) => (i < eas.length - 1 ? (entrySize(e) + 3) & ~3 : entrySize(e)));
  const buf = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  eas.forEach((e, i) => {
    buf.writeUInt32LE(i < eas.length - 1 ? sizes[i]! : 0, at);
    buf.writeUInt8(e.flags & 0xff, at + 4);
    buf.writeUInt8(e.name.length, at + 5);
    buf.writeUInt16LE(e.value.length, at + 6);
    buf.write(e.name, at + 8, 'latin1');
    e.value.copy(buf, at + 9 + e.name.length);
    at += sizes[i]!;
  });
  return buf;
}

/** FileEaInformation's EaSize: the length the full list would take, 0 without EAs. */
export function eaListSize(eas: FullEaEntry[]): number {
  let total = 0;
  eas.forEach((e, i) => (total += i < eas.length - 1 ? (entrySize(e) + 3) & ~3 : entrySize(e)));
  return total;
}

/** The file's EAs, sorted by name so listings are stable. */
export function readEas(store: ExtraStore): FullEaEntry[] {
  const out: FullEaEntry[] = [];
  for (const e of store.list('ea')) {
    const raw = store.get('ea', e.name);
    if (!raw || raw.length < 1) continue;
    out.push({ flags: raw[0]! & FILE_NEED_EA, name: e.name, value: raw.subarray(1) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** EaSize of a file, for FileEaInformation, FileAllInformation and directory listings. */
export function eaSizeOf(store: ExtraStore): number {
  return eaSizeFromEntries(store.list('ea'));
}

/** Applies a list as SET_INFO and ExtA do: each entry sets its EA, or deletes it when the value is empty. */
export function writeEas(store: ExtraStore, eas: FullEaEntry[]): void {
  for (const e of eas) checkEaName(e.name);
  for (const e of eas) {
    const name = e.name.toUpperCase();
    if (e.value.length === 0) {
      store.remove('ea', name);
      continue;
    }
    store.set('ea', name, Buffer.concat([Buffer.from([e.flags & FILE_NEED_EA]), e.value]));
  }
}

export function decodeEaList(data: Buffer): FullEaEntry[] {
  return decodeFileFullEaInformation(data);
}

/**
 * QUERY_INFO FileFullEaInformation: the whole list, or the named ones when the request carries a
 * FILE_GET_EA_INFORMATION list (a missing name comes back with an empty value). What does not fit
 * ends the answer with BUFFER_OVERFLOW; when not even one entry fits, BUFFER_TOO_SMALL.
 */
export function queryFullEas(store: ExtraStore, outputLength: number, wanted: string[] | undefined): { data: Buffer; status: number } {
  let eas = readEas(store);
  if (wanted) {
    eas = wanted.map((n) => eas.find((e) => e.name === n.toUpperCase()) ?? { flags: 0, name: n, value: Buffer.alloc(0) });
  }
  if (eas.length === 0) fail(Status.NO_EAS_ON_FILE);
  let fit = eas.length;
  while (fit > 0 && eaListSize(eas.slice(0, fit)) > outputLength) fit--;
  if (fit === 0) fail(Status.BUFFER_TOO_SMALL, 'no EA fits');
  return { data: encodeFullEaList(eas.slice(0, fit)), status: fit < eas.length ? Status.BUFFER_OVERFLOW : Status.SUCCESS };
}

/** FILE_GET_EA_INFORMATION list ([MS-FSCC] 2.4.15.1): NextEntryOffset (4), EaNameLength (1), EaName. */
export function decodeGetEaList(buf: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  for (;;) {
    if (at + 5 > buf.length) fail(Status.INVALID_PARAMETER, 'truncated EA name list');
    const next = buf.readUInt32LE(at);
    const len = buf.readUInt8(at + 4);
    if (at + 5 + len > buf.length) fail(Status.INVALID_PARAMETER, 'EA name leaves the buffer');
    out.push(buf.toString('latin1', at + 5, at + 5 + len));
    if (next === 0) return out;
    if (next < 5 + len) fail(Status.INVALID_PARAMETER, 'bad EA name chain');
    at += next;
  }
}

/** A store on a file system without xattrs answers NOT_SUPPORTED; for EAs Windows says EAS_NOT_SUPPORTED. */
export function eaUnsupported(err: unknown): unknown {
  if (err instanceof NtStatusError && err.status === Status.NOT_SUPPORTED) return new NtStatusError(Status.EAS_NOT_SUPPORTED, err.message);
  return err;
}
