/**
 * EaSize ([MS-FSCC] 2.4.13) from a file's stored EAs without reading their values: the length of
 * the FILE_FULL_EA_INFORMATION list, entries sorted by name, each 4-byte aligned but the last.
 * Stored values carry one flags byte before the value (src/handlers/ea.ts).
 */
import type { Backend, ExtraEntry } from './types.js';

export function eaSizeFromEntries(entries: ExtraEntry[]): number {
  const eas = entries.filter((e) => e.size >= 1).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let total = 0;
  eas.forEach((e, i) => {
    const size = 8 + Buffer.byteLength(e.name, 'latin1') + 1 + (e.size - 1);
    total += i < eas.length - 1 ? (size + 3) & ~3 : size;
  });
  return total;
}

/** EaSize of a file by path; 0 where the backend keeps no EAs or the file cannot be read. */
export async function eaSizeAt(backend: Backend, path: string): Promise<number> {
  if (!backend.extras) return 0;
  try {
    return eaSizeFromEntries((await backend.extras(path)).list('ea'));
  } catch {
    return 0;
  }
}
