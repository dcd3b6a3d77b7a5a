import { InfoType, SMB2_HEADER_SIZE, Access } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { encodeFileInfo, encodeFsInfo, shortNameFor } from '../protocol/fscc/index.js';
import { pipeStat, type FileStat } from '../vfs/types.js';
import type { Open } from '../server/state/open.js';
import type { Reply, Request } from '../server/request.js';
import { querySecurity } from './security-descriptor.js';
import { eaSizeOfOpen, queryEas, streamsOf } from './stream-info.js';
import { reportedStat } from '../server/write-time.js';

const b = SMB2_HEADER_SIZE;

/**
 * The least output buffer each class accepts: below it INFO_LENGTH_MISMATCH, between it and the full
 * size BUFFER_OVERFLOW with truncated data (as Windows answers smbtorture's smb2.getinfo buffercheck).
 */
const FILE_FIXED_SIZE: Record<number, number> = { 4: 40, 5: 24, 6: 8, 7: 4, 8: 4, 9: 4, 14: 8, 16: 4, 17: 4, 18: 104, 21: 8, 22: 32, 28: 16, 34: 56, 35: 8, 48: 4, 59: 24 };
const FS_FIXED_SIZE: Record<number, number> = { 1: 24, 3: 24, 4: 8, 5: 16, 6: 48, 7: 32, 8: 64, 11: 28 };
/** Classes that need FILE_READ_ATTRIBUTES; the rest answer any open (as smbtorture's getinfo_access shows). */
const NEEDS_READ_ATTRIBUTES = new Set([4, 18, 34, 35]);
const FileFullEaInformation = 15;
const FileEaInformation = 7;
const FileAllInformation = 18;
const FileStreamInformation = 22;
const FileNormalizedNameInformation = 48;

function fitOutput(data: Buffer, outputLength: number, fixed: number | undefined): Reply {
  if (data.length <= outputLength) return reply(data);
  if (outputLength < (fixed ?? data.length)) fail(Status.INFO_LENGTH_MISMATCH);
  return reply(data.subarray(0, outputLength), Status.BUFFER_OVERFLOW);
}

/** QUERY_INFO ([MS-SMB2] 2.2.37, 3.3.5.20). */
export async function queryInfo(req: Request): Promise<Reply> {
  const r = req.r;
  const infoType = r.u8(b + 2);
  const infoClass = r.u8(b + 3);
  const outputLength = r.u32(b + 4);
  const additionalInfo = r.u32(b + 16);
  const open = req.open(b + 24);
  let data: Buffer;
  switch (infoType) {
    case InfoType.FILE: {
      if (NEEDS_READ_ATTRIBUTES.has(infoClass) && !(open.grantedAccess & Access.FILE_READ_ATTRIBUTES)) fail(Status.ACCESS_DENIED);
      if (infoClass === FileFullEaInformation && !(open.grantedAccess & Access.FILE_READ_EA)) fail(Status.ACCESS_DENIED);
      // FileNormalizedNameInformation came with SMB 3.1.1; older dialects do not have it (as Windows answers).
      if (infoClass === FileNormalizedNameInformation && req.conn.dialect < 0x0311) fail(Status.NOT_SUPPORTED);
      if (infoClass === FileFullEaInformation) {
        const q = queryEas(req, open, outputLength);
        return reply(q.data, q.status);
      }
      data = encodeFileInfo(infoClass, {
        stat: await statOf(open),
        name: '\\' + open.path.replace(/\//g, '\\') + (open.stream !== undefined ? ':' + open.stream : ''),
        eaSize: infoClass === FileEaInformation || infoClass === FileAllInformation ? eaSizeOfOpen(open) : undefined,
        streams: infoClass === FileStreamInformation ? await streamsOf(open) : undefined,
        deletePending: open.file?.deletePending ?? false,
        position: open.position,
        mode: open.mode,
        accessMask: open.grantedAccess,
        shortName: shortNameFor(open.path.split('/').pop() ?? ''),
      });
      return fitOutput(data, outputLength, FILE_FIXED_SIZE[infoClass]);
    }
    case InfoType.FILESYSTEM: {
      const backend = open.tree.share.backend;
      if (!backend) fail(Status.INVALID_PARAMETER);
      const fs = await backend.fsInfo();
      // Like Samba, the volume label defaults to the share name.
      data = encodeFsInfo(infoClass, { ...fs, volumeLabel: fs.volumeLabel || open.tree.share.name });
      return fitOutput(data, outputLength, FS_FIXED_SIZE[infoClass]);
    }
    case InfoType.SECURITY: {
      data = querySecurity(open, additionalInfo);
      if (data.length > outputLength) {
        // An ERROR response whose ErrorData is the size needed ([MS-SMB2] 2.2.2, 3.3.5.20.3).
        const err = Buffer.alloc(12);
        err.writeUInt16LE(9, 0);
        err.writeUInt32LE(4, 4);
        err.writeUInt32LE(data.length, 8);
        return { status: Status.BUFFER_TOO_SMALL, body: err };
      }
      return reply(data);
    }
    case InfoType.QUOTA:
      fail(Status.NOT_SUPPORTED);
    default:
      fail(Status.INVALID_PARAMETER, `bad info type ${infoType}`);
  }
}

async function statOf(open: Open): Promise<FileStat> {
  if (open.handle) return reportedStat(open.file, await open.handle.stat());
  return pipeStat(open.volatileId);
}

function reply(data: Buffer, status: number = Status.SUCCESS): Reply {
  const w = new Writer();
  w.u16(9).u16(b + 8).u32(data.length);
  w.put(data.length ? data : Buffer.alloc(1));
  return { status, body: w.toBuffer() };
}
