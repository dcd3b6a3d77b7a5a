/**
 * The sparse-file FSCTLs ([MS-FSA] 2.1.5.10): FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA and
 * FSCTL_QUERY_ALLOCATED_RANGES. The backend does the storage part (VfsHandle.setSparse, zeroRange,
 * allocatedRanges); the rules a client sees (access, locks, clipping to the end of file, what a
 * non-sparse file reports) are here.
 */
import { Access } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { decodeAllocatedRangeQuery, decodeSetSparse, decodeZeroData, encodeAllocatedRanges } from '../protocol/fscc/sparse.js';
import { FileAttribute, type ByteRange, type VfsHandle } from '../vfs/types.js';
import type { Open } from '../server/state/open.js';
import { breakLevelIIOthers } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import { hasAny } from './access.js';

type SparseHandle = VfsHandle & Required<Pick<VfsHandle, 'setSparse' | 'zeroRange' | 'allocatedRanges'>>;

interface FsctlResult {
  status?: number;
  output: Buffer;
}

const NO_OUTPUT: FsctlResult = { output: Buffer.alloc(0) };

/** The open's handle when it is a data stream whose backend has sparse files. */
function sparseHandle(open: Open): SparseHandle {
  if (open.isDirectory) fail(Status.INVALID_PARAMETER, 'not a data stream');
  const h = open.handle;
  if (!h || !h.setSparse || !h.zeroRange || !h.allocatedRanges) fail(Status.INVALID_DEVICE_REQUEST, 'no sparse files here');
  return h as SparseHandle;
}

/** FSCTL_SET_SPARSE: any of write data, append or write attributes will do ([MS-FSA] 2.1.5.10.36). */
export async function setSparse(open: Open, input: Buffer): Promise<FsctlResult> {
  const h = sparseHandle(open);
  if (!hasAny(open.grantedAccess, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA | Access.FILE_WRITE_ATTRIBUTES)) {
    fail(Status.ACCESS_DENIED, 'FSCTL_SET_SPARSE needs write data, append or write attributes access');
  }
  await h.setSparse(decodeSetSparse(input));
  return NO_OUTPUT;
}

/**
 * FSCTL_SET_ZERO_DATA: zeroes [FileOffset, BeyondFinalZero) up to the end of file, which it never
 * moves; a range past the end of file, or empty, is a success that does nothing.
 */
export async function setZeroData(open: Open, input: Buffer): Promise<FsctlResult> {
  const range = decodeZeroData(input);
  if (!range.ok) fail(range.status, 'malformed FILE_ZERO_DATA_INFORMATION');
  const h = sparseHandle(open);
  if (!hasAny(open.grantedAccess, Access.FILE_WRITE_DATA)) fail(Status.ACCESS_DENIED, 'FSCTL_SET_ZERO_DATA needs write data access');
  const size = (await h.stat()).size;
  const start = range.value.start;
  const end = range.value.end < size ? range.value.end : size;
  if (start >= end) return NO_OUTPUT;
  if (open.file && !open.file.locks.canWrite(open, start, end - start)) fail(Status.FILE_LOCK_CONFLICT);
  // It changes data as a WRITE does, so level II oplocks elsewhere go.
  breakLevelIIOthers(open.file, open, sendOplockBreak);
  await h.zeroRange(start, end);
  return NO_OUTPUT;
}

/**
 * FSCTL_QUERY_ALLOCATED_RANGES: the allocated parts of the asked range, clipped to the end of file.
 * A file that is not sparse is allocated throughout ([MS-FSA] 2.1.5.10.22), whatever its blocks
 * look like underneath.
 */
export async function queryAllocatedRanges(open: Open, input: Buffer, maxOutput: number): Promise<FsctlResult> {
  const query = decodeAllocatedRangeQuery(input);
  if (!query.ok) fail(query.status, 'malformed FILE_ALLOCATED_RANGE_BUFFER');
  const h = sparseHandle(open);
  if (!hasAny(open.grantedAccess, Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED, 'FSCTL_QUERY_ALLOCATED_RANGES needs read data access');
  const st = await h.stat();
  const { offset, length } = query.value;
  const end = offset + length < st.size ? offset + length : st.size;
  let ranges: ByteRange[] = [];
  if (offset < end) {
    ranges = st.attributes & FileAttribute.SPARSE_FILE ? await h.allocatedRanges(offset, end) : [{ offset, length: end - offset }];
  }
  const answer = encodeAllocatedRanges(ranges, maxOutput);
  if (answer.status === Status.BUFFER_TOO_SMALL) fail(answer.status, 'no room for one FILE_ALLOCATED_RANGE_BUFFER');
  return answer;
}
