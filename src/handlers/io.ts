import { Access, CloseFlags, HeaderFlags, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import type { VfsHandle } from '../vfs/types.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { closeOpen } from '../server/lifecycle.js';
import type { Reply, Request } from '../server/request.js';
import type { Open } from '../server/state/open.js';
import { hasAny } from './access.js';
import { breakLevelIIOthers } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import { reportedStat, writeTimeOf } from '../server/write-time.js';
import { sendFileToSocket, sendfileSlotFree } from '../native/sendfile.js';
import { fstatSync, type Stats } from 'node:fs';
import { protectionFor, readProtected } from './protected-read.js';

const b = SMB2_HEADER_SIZE;
const INT64_MAX = 0x7fffffffffffffffn;
/** NTFS's largest file size (16 TiB - 64 KiB), which smbtorture's smb2.rw.invalid expects. */
const MAX_FILE_SIZE = 0xfffffff0000n;
const MAX_BACKEND_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);
/** Smaller READs are read into memory: the thread-pool hops of sendfile cost as much as the copy. */
const SENDFILE_MIN = 64 * 1024;
/** A WRITE taken early goes to the file in pieces of at least this much (or what is left). */
const WRITE_PIECE_MIN = 1024 * 1024;

/** CLOSE ([MS-SMB2] 2.2.15, 3.3.5.10). */
export async function close(req: Request): Promise<Reply> {
  const r = req.r;
  const flags = r.u16(b + 2);
  const open = req.open(b + 8);
  const w = new Writer();
  // A pending write-time update happens before the attributes are taken (smb2.timestamps.delayed-2write).
  await open.writeTime?.close();
  if (flags & CloseFlags.POSTQUERY_ATTRIB && open.handle) {
    const st = reportedStat(open.file, await open.handle.stat());
    w.u16(60).u16(CloseFlags.POSTQUERY_ATTRIB).u32(0);
    w.u64(st.creationTime).u64(st.lastAccessTime).u64(st.lastWriteTime).u64(st.changeTime);
    w.u64(st.isDirectory ? 0n : st.allocationSize).u64(st.isDirectory ? 0n : st.size).u32(st.attributes);
  } else {
    w.u16(60).u16(0).zeros(56);
  }
  await closeOpen(open);
  return { body: w.toBuffer() };
}

/** FLUSH ([MS-SMB2] 2.2.17, 3.3.5.11). */
export async function flush(req: Request): Promise<Reply> {
  const open = req.open(b + 8);
  if (open.handle && !open.isDirectory) {
    if (!hasAny(open.grantedAccess, Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA)) fail(Status.ACCESS_DENIED);
    await open.handle.sync();
    await writeTimeOf(open)?.settle();
  }
  const out = Buffer.alloc(4);
  out.writeUInt16LE(4, 0);
  return { body: out };
}

export function readPayloadSize(req: Request): number {
  const r = req.r;
  return Math.max(r.u32(b + 4), r.u16(b + 46));
}

/** READ ([MS-SMB2] 2.2.19, 3.3.5.12): data goes from the file straight into the response buffer. */
export async function read(req: Request): Promise<Reply> {
  const r = req.r;
  const length = r.u32(b + 4);
  const offset = r.u64(b + 8);
  const minimum = r.u32(b + 32);
  const open = req.open(b + 16);
  if (length > req.server.maxIoSize) fail(Status.INVALID_PARAMETER, 'read larger than MaxReadSize');
  if (open.pipe) {
    // Pipe replies are messages: a short read gets part of one and BUFFER_OVERFLOW, as on Windows.
    const { data, more } = open.pipe.readMessage(length);
    if (data.length === 0) fail(Status.PIPE_EMPTY);
    return { status: more ? Status.BUFFER_OVERFLOW : Status.SUCCESS, body: readResponse(data) };
  }
  if (open.isDirectory || !open.handle) fail(Status.INVALID_DEVICE_REQUEST);
  if (!hasAny(open.grantedAccess, Access.FILE_READ_DATA | Access.FILE_EXECUTE)) fail(Status.ACCESS_DENIED);
  if (offset + BigInt(length) > INT64_MAX) fail(Status.INVALID_PARAMETER, 'read beyond the largest offset');
  if (length === 0) {
    if (minimum > 0) fail(Status.END_OF_FILE);
    return { body: readResponse(Buffer.alloc(0)) };
  }
  if (open.file && !open.file.locks.canRead(open, offset, BigInt(length))) fail(Status.FILE_LOCK_CONFLICT);
  // Offsets past what the backend can address are past any real end of file.
  if (offset > MAX_BACKEND_OFFSET) fail(Status.END_OF_FILE);
  if (length >= SENDFILE_MIN && req.plainResponse && sendfileSlotFree()) {
    const fromFile = fileRead(req, open.handle, offset, length, minimum);
    if (fromFile) {
      open.position = offset + BigInt(fromFile.file!.length);
      return fromFile;
    }
  }
  // Pooled: a fresh 8 MiB buffer per read costs page faults that dominate the read itself.
  const pool = req.server.bufferPool;
  const buf = pool.acquire(length);
  const protection = protectionFor(req, buf, length);
  let n: number;
  try {
    n = protection ? await readProtected(open, open.handle, buf, length, offset, protection) : await open.handle.read(buf, 0, length, offset);
  } catch (err) {
    protection?.release();
    pool.release(buf);
    throw err;
  }
  if (n === 0 || n < minimum) {
    protection?.release();
    pool.release(buf);
    fail(Status.END_OF_FILE);
  }
  // Samba and Windows move FilePositionInformation with each read.
  open.position = offset + BigInt(n);
  return { body: readResponse(buf.subarray(0, n)), onSent: () => pool.release(buf), bodyOverwritable: true, ...protection?.finish() };
}

/**
 * A READ answered with sendfile: the response carries the data length, and the data goes from
 * the page cache to the socket (src/native/sendfile.ts). Undefined when the handle has no
 * descriptor to give or is not a regular file; then the caller reads as usual.
 */
function fileRead(req: Request, handle: VfsHandle, offset: bigint, length: number, minimum: number): Reply | undefined {
  const pin = handle.pinForRead?.();
  if (!pin) return undefined;
  let st: Stats;
  try {
    st = fstatSync(pin.fd);
  } catch {
    pin.release();
    return undefined;
  }
  if (!st.isFile()) {
    pin.release();
    return undefined;
  }
  // The data length goes into the header before any byte is sent, so it comes from the size now.
  // A file shrinking between here and the send makes sendfile come up short: the transport then
  // resets the connection rather than send a frame shorter than it says.
  const left = BigInt(st.size) - offset;
  const n = left <= 0n ? 0 : Number(left < BigInt(length) ? left : BigInt(length));
  if (n === 0 || n < minimum) {
    pin.release();
    fail(Status.END_OF_FILE);
  }
  const pool = req.server.bufferPool;
  return {
    body: readResponseFixed(n),
    file: {
      length: n,
      sendTo: (sock, isClosed) => sendFileToSocket(sock, pin.fd, offset, n, isClosed).finally(pin.release),
      cancel: pin.release,
      inMemory: async () => {
        const buf = pool.acquire(n);
        try {
          if ((await pin.read(buf, n, offset)) < n) fail(Status.END_OF_FILE);
        } catch (err) {
          pool.release(buf);
          throw err;
        } finally {
          pin.release();
        }
        return { body: readResponse(buf.subarray(0, n)), onSent: () => pool.release(buf), bodyOverwritable: true };
      },
    },
  };
}

/** The READ response's fixed part (StructureSize 17 counts one byte of data). */
function readResponseFixed(dataLength: number): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt16LE(17, 0);
  fixed[2] = SMB2_HEADER_SIZE + 16;
  fixed.writeUInt32LE(dataLength, 4);
  return fixed;
}

function readResponse(data: Buffer): Buffer[] {
  const fixed = readResponseFixed(data.length);
  return data.length ? [fixed, data] : [fixed, Buffer.alloc(1)];
}

export function writePayloadSize(req: Request): number {
  return req.r.u32(b + 4);
}

/**
 * WRITE ([MS-SMB2] 2.2.21, 3.3.5.13): the request buffer is written as it is, no copy; a WRITE
 * taken before its data all arrived (server/early-write.ts) is written as the data comes in.
 */
export async function write(req: Request): Promise<Reply> {
  const r = req.r;
  const dataOffset = r.u16(b + 2);
  const length = r.u32(b + 4);
  let offset = r.u64(b + 8);
  const open = req.open(b + 16);
  if (length > req.server.maxIoSize) fail(Status.INVALID_PARAMETER, 'write larger than MaxWriteSize');
  const data = length ? r.bytes(dataOffset, length) : Buffer.alloc(0);
  const dataEnd = dataOffset + length;
  let count = length;
  if (open.pipe) {
    await req.arrived(dataEnd);
    open.pipe.write(data);
  } else {
    if (open.isDirectory || !open.handle) fail(Status.INVALID_DEVICE_REQUEST);
    const canWrite = hasAny(open.grantedAccess, Access.FILE_WRITE_DATA);
    const canAppend = hasAny(open.grantedAccess, Access.FILE_APPEND_DATA);
    if (!canWrite && !canAppend) fail(Status.ACCESS_DENIED);
    if (offset + BigInt(length) > INT64_MAX) fail(Status.INVALID_PARAMETER, 'write beyond the largest offset');
    if (length > 0 && offset + BigInt(length) > MAX_FILE_SIZE) fail(Status.INVALID_PARAMETER, 'write beyond the largest file size');
    if (!canWrite && canAppend) offset = (await open.handle.stat()).size;
    if (open.file && length && !open.file.locks.canWrite(open, offset, BigInt(length))) fail(Status.FILE_LOCK_CONFLICT);
    breakLevelIIOthers(open.file, open, sendOplockBreak);
    if (req.header.flags & HeaderFlags.REPLAY_OPERATION) {
      open.writeReplays++;
      await req.arrived(dataEnd);
      if (length && (await alreadyWritten(req, open.handle, data, offset))) {
        open.writeReplaysSkipped++;
        return writeResponse(length);
      }
    }
    const writeTime = length ? writeTimeOf(open) : undefined;
    if (writeTime) writeTime.beforeWrite(writeTime.needsCurrent ? (await open.handle.stat()).lastWriteTime : 0n);
    count = length ? await writeAsItArrives(req, open, open.handle, data, dataOffset, offset) : 0;
    open.writes++;
    open.bytesWritten += count;
  }
  return writeResponse(count);
}

/**
 * Writes a WRITE's data, which starts at `dataOffset` in the PDU. A request taken early
 * (Request.arrival) has its data written in pieces while the rest is still on its way: each
 * piece is what has arrived once the one before it is written, and at least WRITE_PIECE_MIN.
 *
 * If the open's channel sequence moves on before the last piece is in, the client has given up
 * this channel and replays the WRITE elsewhere; the same WRITE arriving whole after that would
 * be refused (channel-sequence.ts), and so is this one, at once: its remaining bytes, if they
 * ever come, could land on what the client wrote after the replay. Stopping also frees the
 * sequence barrier, which a WRITE waiting on a dead link would otherwise hold.
 */
async function writeAsItArrives(req: Request, open: Open, handle: VfsHandle, data: Buffer, dataOffset: number, position: bigint): Promise<number> {
  const arrival = req.arrival;
  if (!arrival) return handle.write(data, position);
  let wake: (() => void) | undefined;
  const stopWatching = open.sequence.onMove(() => wake?.());
  try {
    let done = 0;
    while (done < data.length) {
      const moved = new Promise<void>((resolve) => (wake = resolve));
      await Promise.race([arrival.waitFor(dataOffset + Math.min(done + WRITE_PIECE_MIN, data.length)), moved]);
      wake = undefined;
      if (req.sequenceStale) fail(Status.FILE_NOT_AVAILABLE, 'the channel sequence moved on while the WRITE was arriving');
      // Woken by a move that left this request current (it holds no sequence ticket): wait on.
      const upTo = Math.min(arrival.filled - dataOffset, data.length);
      if (upTo > done) done += await handle.write(data.subarray(done, upTo), position + BigInt(done));
    }
    return done;
  } finally {
    stopWatching();
  }
}

function writeResponse(count: number): Reply {
  const w = new Writer();
  w.u16(17).u16(0).u32(count).u32(0).u16(0).u16(0);
  return { body: w.toBuffer() };
}

/**
 * Whether the file already holds a replayed WRITE's bytes at its offset. [MS-SMB2] lets a server
 * simply run a replayed WRITE again; smb3d answers it without writing when its bytes are there
 * already, which is the case when the original ran before its channel was lost. The channel
 * sequence barrier admits a replay only once every request of the older sequence has finished
 * (Open.sequence), so the original cannot still be running. Only replays pay for the read.
 */
async function alreadyWritten(req: Request, handle: VfsHandle, data: Buffer, offset: bigint): Promise<boolean> {
  const pool = req.server.bufferPool;
  const buf = pool.acquire(data.length);
  try {
    const n = await handle.read(buf, 0, data.length, offset);
    return n === data.length && buf.subarray(0, n).equals(data);
  } catch {
    return false; // a handle the backend opened write-only: write, as for any replay
  } finally {
    pool.release(buf);
  }
}
