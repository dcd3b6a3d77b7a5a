/**
 * Sparse files on the POSIX backend: the attribute lives in the `user.smb3d` record (posix-meta.ts),
 * holes are the file system's own (fallocate punches them, lseek SEEK_DATA/SEEK_HOLE finds them).
 *
 * Where the file system cannot punch (or zero) a range, the caller writes zeros instead; where it
 * does not track holes, lseek reports the whole file as data, which is what a non-sparse file
 * reports anyway.
 */
import type { BigIntStats } from 'node:fs';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  fallocate,
  isUnsupported,
  seekData,
  seekHole,
  type XattrTarget,
} from '../native/libc.js';
import { implicitMeta, readMeta, writeMeta } from './posix-meta.js';
import { FileAttribute, type ByteRange } from './types.js';

/** Whether the record of the file says sparse. */
export function isSparse(target: XattrTarget): boolean {
  const rec = readMeta(target);
  return rec !== null && (rec.attributes & FileAttribute.SPARSE_FILE) !== 0;
}

/** Sets or clears SPARSE_FILE in the file's record (creating the record when it has none). Throws the libc error. */
export function storeSparse(target: XattrTarget, st: BigIntStats, sparse: boolean): void {
  const stored = readMeta(target);
  const rec = stored ?? implicitMeta(st);
  const attributes = sparse ? rec.attributes | FileAttribute.SPARSE_FILE : rec.attributes & ~FileAttribute.SPARSE_FILE;
  if (stored !== null && attributes === stored.attributes) return;
  writeMeta(target, { ...rec, attributes });
}

/**
 * Zeroes [start, end) of the descriptor's file in place, keeping its size: a sparse file gets a hole
 * (whole blocks deallocated, partial ones zeroed by the kernel), any other file keeps its blocks.
 * Returns false when the file system can do neither, so the caller writes zeros itself.
 */
export function zeroInPlace(fd: number, start: bigint, end: bigint, sparse: boolean): boolean {
  if (end <= start) return true;
  const mode = FALLOC_FL_KEEP_SIZE | (sparse ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
  try {
    fallocate(fd, mode, start, end - start);
    return true;
  } catch (err) {
    if (isUnsupported(err)) return false;
    throw err;
  }
}

/** Allocates the holes of [0, size) (clearing the sparse attribute); a hint where the file system cannot. */
export function fillHoles(fd: number, size: bigint): void {
  if (size <= 0n) return;
  try {
    fallocate(fd, FALLOC_FL_KEEP_SIZE, 0n, size);
  } catch {
    // Not supported, no space, or a descriptor not open for writing: the file stays as it is,
    // which reads the same.
  }
}

/** The data extents of [start, end) by SEEK_DATA/SEEK_HOLE, clipped to the range. */
export function dataRanges(fd: number, start: bigint, end: bigint): ByteRange[] {
  const out: ByteRange[] = [];
  let pos = start;
  while (pos < end) {
    const data = seekData(fd, pos);
    if (data < 0n || data >= end) break;
    let hole = seekHole(fd, data);
    if (hole < 0n || hole > end) hole = end;
    out.push({ offset: data, length: hole - data });
    pos = hole;
  }
  return out;
}
