/** Helpers for messages handed around as lists of buffers (scatter/gather), so nothing is concatenated needlessly. */

export type BufferList = Buffer | Buffer[];

export function asList(data: BufferList): Buffer[] {
  return Buffer.isBuffer(data) ? [data] : data;
}

export function totalLength(list: readonly Buffer[]): number {
  let n = 0;
  for (const b of list) n += b.length;
  return n;
}

/**
 * Split a buffer list at byte `at` into views (no copies): the head as a list, the tail as a list.
 */
export function splitAt(list: readonly Buffer[], at: number): [Buffer[], Buffer[]] {
  const head: Buffer[] = [];
  const tail: Buffer[] = [];
  let pos = 0;
  for (const b of list) {
    const end = pos + b.length;
    if (end <= at) head.push(b);
    else if (pos >= at) tail.push(b);
    else {
      head.push(b.subarray(0, at - pos));
      tail.push(b.subarray(at - pos));
    }
    pos = end;
  }
  return [head, tail];
}
