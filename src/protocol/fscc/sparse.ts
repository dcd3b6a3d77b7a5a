/**
 * The sparse-file FSCTL buffers ([MS-FSCC] 2.3): FILE_SET_SPARSE_BUFFER, FILE_ZERO_DATA_INFORMATION
 * and FILE_ALLOCATED_RANGE_BUFFER. Decoders never throw: a malformed buffer is a status.
 */
import { Status } from '../status.js';
import type { ByteRange } from '../../vfs/types.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; status: number };

const INT64_MAX = (1n << 63n) - 1n;
const RANGE_SIZE = 16;

function invalid<T>(): Decoded<T> {
  return { ok: false, status: Status.INVALID_PARAMETER };
}

/**
 * FSCTL_SET_SPARSE ([MS-FSA] 2.1.5.10.36): without a buffer, SetSparse is TRUE; otherwise its
 * first byte, any non-zero value meaning TRUE. Bytes past it are ignored, as Windows does.
 */
export function decodeSetSparse(input: Buffer): boolean {
  return input.length === 0 || input[0] !== 0;
}

/** FILE_ZERO_DATA_INFORMATION: [start, end) to zero; both signed, 0 <= start <= end. */
export function decodeZeroData(input: Buffer): Decoded<{ start: bigint; end: bigint }> {
  if (input.length < 16) return invalid();
  const start = input.readBigInt64LE(0);
  const end = input.readBigInt64LE(8);
  if (start < 0n || end < 0n || start > end) return invalid();
  return { ok: true, value: { start, end } };
}

/**
 * FILE_ALLOCATED_RANGE_BUFFER of FSCTL_QUERY_ALLOCATED_RANGES ([MS-FSA] 2.1.5.10.22): both signed,
 * non-negative, and their sum must not pass the largest offset (smbtorture's qar_overflow wraps it).
 * A longer buffer is read for its first range.
 */
export function decodeAllocatedRangeQuery(input: Buffer): Decoded<ByteRange> {
  if (input.length < RANGE_SIZE) return invalid();
  const offset = input.readBigInt64LE(0);
  const length = input.readBigInt64LE(8);
  if (offset < 0n || length < 0n || offset + length > INT64_MAX) return invalid();
  return { ok: true, value: { offset, length } };
}

/**
 * The answer: as many ranges as fit in maxOutput; none fitting is BUFFER_TOO_SMALL (unless there
 * are none to give), some left out BUFFER_OVERFLOW.
 */
export function encodeAllocatedRanges(ranges: readonly ByteRange[], maxOutput: number): { status: number; output: Buffer } {
  const fit = Math.min(ranges.length, Math.floor(Math.max(0, maxOutput) / RANGE_SIZE));
  if (ranges.length > 0 && fit === 0) return { status: Status.BUFFER_TOO_SMALL, output: Buffer.alloc(0) };
  const out = Buffer.alloc(fit * RANGE_SIZE);
  for (let i = 0; i < fit; i++) {
    out.writeBigInt64LE(ranges[i]!.offset, i * RANGE_SIZE);
    out.writeBigInt64LE(ranges[i]!.length, i * RANGE_SIZE + 8);
  }
  return { status: fit < ranges.length ? Status.BUFFER_OVERFLOW : Status.SUCCESS, output: out };
}
