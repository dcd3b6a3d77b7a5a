import { createHash } from 'node:crypto';
import { isDos83Name } from './file-info.js';

const INVALID_83 = /[^A-Z0-9!#$%&'()\-@^_`{}~]/g;

/**
 * The 8.3 alternate name of a long name. A name that is already 8.3 is its own; others get a
 * deterministic hash-mangled name (base prefix, '~', two hash characters, extension), so the same
 * long name always maps to the same short name without a table, as Samba's "hash2" mangling does.
 */
export function shortNameFor(name: string): string {
  if (name === '.' || name === '..') return '';
  const upper = name.toUpperCase();
  if (isDos83Name(upper)) return upper;
  const dot = upper.lastIndexOf('.');
  const base = (dot > 0 ? upper.slice(0, dot) : upper).replace(INVALID_83, '');
  const ext = (dot > 0 ? upper.slice(dot + 1) : '').replace(INVALID_83, '').slice(0, 3);
  const h = createHash('sha1').update(name).digest().readUInt16LE(0) % 1296;
  const tag = h.toString(36).toUpperCase().padStart(2, '0');
  const prefix = (base || '_').slice(0, 5);
  return ext ? `${prefix}~${tag}.${ext}` : `${prefix}~${tag}`;
}
