/**
 * SMB path names -> share-relative backend paths, and Windows wildcard matching.
 */
import { Status, fail } from '../protocol/status.js';

/** Longest path component Windows file systems accept, in UTF-16 code units. */
export const MAX_COMPONENT_LENGTH = 255;

const WILDCARD_CHARS = new Set(['*', '?', '<', '>', '"']);

export interface NormalizeOptions {
  /** Let the last component carry wildcards (* ? < > "), for callers that search. */
  allowWildcardsInLast?: boolean;
}

/**
 * Converts an SMB path ('\dir\file', 'dir\file\', '') into the backend form ('dir/file', '' for the root).
 *
 * Error choices follow Samba's check_path_syntax + unix_convert, the reference smbtorture is written against:
 * - '..' is resolved against the components before it; climbing above the share root is
 *   OBJECT_PATH_SYNTAX_BAD;
 * - a '.' component is OBJECT_NAME_INVALID when last and OBJECT_PATH_NOT_FOUND inside the path;
 * - repeated separators collapse, leading and trailing separators are dropped;
 * - control characters, '|' and '/' inside a name, reserved characters and over-long names are
 *   OBJECT_NAME_INVALID; ':' (alternate data streams) likewise, since streams are not supported.
 */
export function normalizeSmbPath(raw: string, opts: NormalizeOptions = {}): string {
  const parts = raw.split('\\');
  const out: string[] = [];
  const lastIndex = lastNonEmptyIndex(parts);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '') continue;
    const isLast = i === lastIndex;
    if (part === '..') {
      if (out.length === 0) fail(Status.OBJECT_PATH_SYNTAX_BAD, 'path climbs above the share root');
      out.pop();
      continue;
    }
    if (part === '.') {
      fail(isLast ? Status.OBJECT_NAME_INVALID : Status.OBJECT_PATH_NOT_FOUND, "'.' component");
    }
    checkComponent(part, isLast && opts.allowWildcardsInLast === true);
    out.push(part);
  }
  return out.join('/');
}

function lastNonEmptyIndex(parts: string[]): number {
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i] !== '') return i;
  return -1;
}

function checkComponent(name: string, allowWildcards: boolean): void {
  if (name.length > MAX_COMPONENT_LENGTH) fail(Status.OBJECT_NAME_INVALID, 'component too long');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20) fail(Status.OBJECT_NAME_INVALID, 'control character in name');
    const ch = name[i]!;
    // '/' would split the name into two backend components.
    if (ch === '|' || ch === '/') fail(Status.OBJECT_NAME_INVALID, `'${ch}' in name`);
    if (ch === ':') fail(Status.OBJECT_NAME_INVALID, 'alternate data streams are not supported');
    if (WILDCARD_CHARS.has(ch) && !allowWildcards) fail(Status.OBJECT_NAME_INVALID, 'wildcard in name');
  }
}

/** Whether a search pattern contains any wildcard character. */
export function hasWildcard(pattern: string): boolean {
  for (const ch of pattern) if (WILDCARD_CHARS.has(ch)) return true;
  return false;
}

/** Case folding for name comparison: per UTF-16 unit, upper case when that stays one unit (as Windows' upcase table). */
export function foldName(name: string): string {
  // ASCII upper-cases one unit to one unit: the whole string at once, natively.
  if (ASCII.test(name)) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) out += foldChar(name[i]!);
  return out;
}

const ASCII = /^[\x00-\x7f]*$/;

function foldChar(ch: string): string {
  const up = ch.toUpperCase();
  return up.length === 1 ? up : ch;
}

/**
 * Windows wildcard matching as FsRtlIsNameInExpression ([MS-FSA] 2.1.4.4), case-insensitive:
 *   *  any run of characters;            ?  exactly one character;
 *   <  (DOS_STAR) any run that does not take the name's last '.';
 *   >  (DOS_QM) one character, or nothing at a '.' or at the end of the name;
 *   "  (DOS_DOT) a '.', or nothing at the end of the name.
 * '*' and '*.*' match every name: clients send '*.*' meaning "all files", extension or not.
 */
export function matchWildcard(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === '*.*' || pattern === '') return true;
  const p = foldName(pattern);
  const n = foldName(name);
  const lastDot = n.lastIndexOf('.');
  const P = p.length;
  const N = n.length;
  // memo[pi * (N+1) + ni]: 0 unknown, 1 true, 2 false. Keeps '*'-heavy patterns polynomial.
  const memo = new Uint8Array((P + 1) * (N + 1));

  const match = (pi: number, ni: number): boolean => {
    const key = pi * (N + 1) + ni;
    const seen = memo[key]!;
    if (seen !== 0) return seen === 1;
    const result = step(pi, ni);
    memo[key] = result ? 1 : 2;
    return result;
  };

  const step = (pi: number, ni: number): boolean => {
    if (pi === P) return ni === N;
    const c = p[pi]!;
    switch (c) {
      case '*':
        return match(pi + 1, ni) || (ni < N && match(pi, ni + 1));
      case '?':
        return ni < N && match(pi + 1, ni + 1);
      case '<':
        return match(pi + 1, ni) || (ni < N && ni !== lastDot && match(pi, ni + 1));
      case '>': {
        if (ni === N) return match(pi + 1, ni);
        if (n[ni] === '.') {
          let end = pi;
          while (end < P && p[end] === '>') end++;
          return match(end, ni);
        }
        return match(pi + 1, ni + 1);
      }
      case '"':
        if (ni === N) return match(pi + 1, ni);
        return n[ni] === '.' && match(pi + 1, ni + 1);
      default:
        return ni < N && n[ni] === c && match(pi + 1, ni + 1);
    }
  };

  return match(0, 0);
}
