/**
 * Sorted, disjoint, non-adjacent [start, end) extents: which blocks of a MemoryBackend sparse file
 * are allocated. Offsets are numbers (the memory backend keeps files below 2^40 bytes).
 */
export type Extent = [start: number, end: number];

/** Adds [start, end), merging with what it touches. */
export function addExtent(list: Extent[], start: number, end: number): Extent[] {
  if (end <= start) return list;
  const out: Extent[] = [];
  let s = start;
  let e = end;
  for (const [a, b] of list) {
    if (b < s || a > e) out.push([a, b]);
    else {
      s = Math.min(s, a);
      e = Math.max(e, b);
    }
  }
  out.push([s, e]);
  return out.sort((x, y) => x[0] - y[0]);
}

/** Removes [start, end), splitting an extent that straddles it. */
export function removeExtent(list: Extent[], start: number, end: number): Extent[] {
  if (end <= start) return list;
  const out: Extent[] = [];
  for (const [a, b] of list) {
    if (b <= start || a >= end) out.push([a, b]);
    else {
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end, b]);
    }
  }
  return out;
}

/** The parts of the extents inside [start, end). */
export function clipExtents(list: Extent[], start: number, end: number): Extent[] {
  const out: Extent[] = [];
  for (const [a, b] of list) {
    const s = Math.max(a, start);
    const e = Math.min(b, end);
    if (s < e) out.push([s, e]);
  }
  return out;
}
