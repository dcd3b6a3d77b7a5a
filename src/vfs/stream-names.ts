/**
 * Alternate data stream names as CREATE and rename carry them: `file:stream`, `file:stream:$DATA`,
 * `file::$DATA`. Rules as NTFS applies them (smbtorture's smb2.streams.names and names2):
 * - the stream part follows the first ':' of the last path component; at most one more ':' may
 *   follow, and what comes after it is the stream type, which must be $DATA (any case);
 * - an empty name with the type ("file::$DATA") is the file's own data; an empty name without it
 *   ("file:") and an empty type ("file:s:") are invalid;
 * - a stream name may hold any character but NUL, '\', '/' and ':' (control characters and
 *   wildcards included, unlike a file name), up to 255 UTF-16 units.
 * Every failure is OBJECT_NAME_INVALID.
 */
import { Status, fail } from '../protocol/status.js';
import { MAX_COMPONENT_LENGTH, foldName } from './paths.js';

export const DATA_TYPE = '$DATA';

export interface StreamPath {
  /** The path without its stream part, as the client wrote it ('\'-separated). */
  base: string;
  /** A named stream, case as given; undefined for the file itself. */
  stream?: string;
  /** The default data stream was named explicitly ('file::$DATA'): must be a file, not a directory. */
  defaultData: boolean;
}

/** Splits a CREATE name into the file and the stream it names. */
export function splitStreamPath(raw: string): StreamPath {
  const slash = raw.lastIndexOf('\\');
  const last = raw.slice(slash + 1);
  const colon = last.indexOf(':');
  if (colon < 0) return { base: raw, defaultData: false };
  const base = raw.slice(0, slash + 1) + last.slice(0, colon);
  const spec = parseStreamSpec(last.slice(colon + 1));
  return spec === undefined ? { base, defaultData: true } : { base, stream: spec, defaultData: false };
}

/**
 * The stream named by what follows the first ':' ("name", "name:$DATA", ":$DATA"); undefined for
 * the default data stream.
 */
export function parseStreamSpec(spec: string): string | undefined {
  const parts = spec.split(':');
  if (parts.length > 2) fail(Status.OBJECT_NAME_INVALID, "more than two ':' in a stream name");
  const [name, type] = parts as [string, string | undefined];
  if (type !== undefined && type.toUpperCase() !== DATA_TYPE) fail(Status.OBJECT_NAME_INVALID, `stream type ${type}`);
  if (name === '') {
    if (type === undefined) fail(Status.OBJECT_NAME_INVALID, 'empty stream name');
    return undefined;
  }
  checkStreamName(name);
  return name;
}

export function checkStreamName(name: string): void {
  if (name.length > MAX_COMPONENT_LENGTH) fail(Status.OBJECT_NAME_INVALID, 'stream name too long');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c === 0x2f || c === 0x5c || c === 0x3a) fail(Status.OBJECT_NAME_INVALID, 'bad character in stream name');
  }
}

/** The name FileStreamInformation lists for a stream: ':name:$DATA', '::$DATA' for the file's data. */
export function listedStreamName(stream: string | undefined): string {
  return `:${stream ?? ''}:${DATA_TYPE}`;
}

/** Stream names compare as file names do: case-insensitively. */
export function sameStreamName(a: string, b: string): boolean {
  return a === b || foldName(a) === foldName(b);
}

/**
 * CREATE names written with '/' ("dir/file", as smbtorture's smb2.timestamps sends them): Samba
 * takes '/' as a separator there, and clients rely on it; a trailing '/' stays invalid, as in Samba.
 * Only the path part is converted: in a stream name '/' is refused later.
 */
export function slashesAsSeparators(name: string): string {
  const colon = name.indexOf(':');
  const path = colon < 0 ? name : name.slice(0, colon);
  if (!path.includes('/')) return name;
  if (path.length > 1 && path.endsWith('/')) fail(Status.OBJECT_NAME_INVALID, "trailing '/'");
  return path.replace(/\//g, '\\') + (colon < 0 ? '' : name.slice(colon));
}
