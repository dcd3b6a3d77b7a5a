import { randomBytes } from 'node:crypto';
import { Access } from '../protocol/constants.js';
import { Reader } from '../protocol/reader.js';
import { Status, fail, NtStatusError } from '../protocol/status.js';
import type { Request } from '../server/request.js';
import type { Open } from '../server/state/open.js';

/** Windows' limits for server-side copy ([MS-SMB2] 3.3.3: ServerSideCopyMax*). */
export const COPYCHUNK_LIMITS = { maxChunks: 256, maxChunkSize: 1024 * 1024, maxTotal: 16 * 1024 * 1024 } as const;

/**
 * Resume keys handed out by FSCTL_SRV_REQUEST_RESUME_KEY. Weakly keyed by the open, so a closed open
 * takes its key along and no state outlives the server that created it.
 */
const resumeKeys = new WeakMap<Open, Buffer>();

/** FSCTL_SRV_REQUEST_RESUME_KEY ([MS-SMB2] 2.2.32.3): names the open as a copy source. */
export function requestResumeKey(open: Open): Buffer {
  if (!open.handle || open.isDirectory) fail(Status.INVALID_PARAMETER);
  let key = resumeKeys.get(open);
  if (!key) {
    // The volatile id (to find the open) and random bytes (so keys cannot be guessed).
    key = Buffer.alloc(24);
    key.writeBigUInt64LE(open.volatileId, 0);
    randomBytes(16).copy(key, 8);
    resumeKeys.set(open, key);
  }
  const out = Buffer.alloc(32);
  key.copy(out, 0);
  return out;
}

function findSource(req: Request, key: Buffer): Open {
  const id = key.readBigUInt64LE(0);
  for (const session of req.server.sessions.values()) {
    const open = session.opens.get(id);
    if (open && !open.closed && resumeKeys.get(open)?.equals(key)) return open;
  }
  fail(Status.OBJECT_NAME_NOT_FOUND, 'unknown resume key');
}

function copyResponse(chunks: number, chunkBytes: number, total: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(chunks, 0);
  b.writeUInt32LE(chunkBytes, 4);
  b.writeUInt32LE(total, 8);
  return b;
}

/**
 * FSCTL_SRV_COPYCHUNK / _WRITE ([MS-SMB2] 2.2.31.1, 3.3.5.15.6): copies ranges between two opens of
 * the server without the data crossing the network. Over the limits, the answer states the limits.
 */
export async function copyChunk(req: Request, target: Open, input: Buffer, maxOutput: number, needReadOnTarget: boolean): Promise<{ status?: number; output: Buffer }> {
  if (maxOutput < 12) fail(Status.INVALID_PARAMETER, 'output too small for SRV_COPYCHUNK_RESPONSE');
  const r = new Reader(input);
  const key = r.bytes(0, 24);
  const count = r.u32(24);
  const chunks = Array.from({ length: count }, (_, i) => ({
    source: r.u64(32 + 24 * i),
    target: r.u64(40 + 24 * i),
    length: r.u32(48 + 24 * i),
  }));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  if (count > COPYCHUNK_LIMITS.maxChunks || chunks.some((c) => c.length > COPYCHUNK_LIMITS.maxChunkSize || c.length === 0) || total > COPYCHUNK_LIMITS.maxTotal) {
    return { status: Status.INVALID_PARAMETER, output: copyResponse(COPYCHUNK_LIMITS.maxChunks, COPYCHUNK_LIMITS.maxChunkSize, COPYCHUNK_LIMITS.maxTotal) };
  }
  const source = findSource(req, key);
  if (!target.handle || target.isDirectory) fail(Status.INVALID_PARAMETER);
  if (!(target.grantedAccess & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA))) fail(Status.ACCESS_DENIED);
  if (needReadOnTarget && !(target.grantedAccess & Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED);
  // Execute access reads the data as well as read access does ([MS-SMB2] 3.3.5.15.6).
  if (!(source.grantedAccess & (Access.FILE_READ_DATA | Access.FILE_EXECUTE))) fail(Status.ACCESS_DENIED);
  const pool = req.server.bufferPool;
  let written = 0;
  let done = 0;
  try {
    for (const c of chunks) {
      if (source.file && !source.file.locks.canRead(source, c.source, BigInt(c.length))) fail(Status.FILE_LOCK_CONFLICT);
      if (target.file && !target.file.locks.canWrite(target, c.target, BigInt(c.length))) fail(Status.FILE_LOCK_CONFLICT);
      const buf = pool.acquire(c.length);
      try {
        const n = await source.handle!.read(buf, 0, c.length, c.source);
        // Copying past the source's end is an error, as on Windows.
        if (n < c.length) fail(Status.INVALID_VIEW_SIZE, 'chunk beyond the end of the source');
        await target.handle.write(buf.subarray(0, n), c.target);
        written += n;
        done++;
      } finally {
        pool.release(buf);
      }
    }
  } catch (err) {
    // A failed chunk still answers with what was copied before it.
    if (err instanceof NtStatusError) return { status: err.status, output: copyResponse(done, 0, written) };
    throw err;
  }
  return { output: copyResponse(done, 0, written) };
}
