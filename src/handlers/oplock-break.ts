import { OplockLevel, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { finishBreak } from '../locking/oplocks.js';
import type { Reply, Request } from '../server/request.js';

const b = SMB2_HEADER_SIZE;

/** OPLOCK_BREAK acknowledgement ([MS-SMB2] 2.2.24.1, 3.3.5.22.1). Lease acks (StructureSize 36) come later. */
export function oplockBreakAck(req: Request): Reply {
  const r = req.r;
  const level = r.u8(b + 2);
  const open = req.open(b + 8);
  const breaking = open.breaking;
  if (!breaking) fail(Status.INVALID_OPLOCK_PROTOCOL, 'no break in progress');
  if (level !== OplockLevel.NONE && level !== OplockLevel.II) fail(Status.INVALID_PARAMETER);
  if (level > breaking.to) {
    finishBreak(open, OplockLevel.NONE);
    fail(Status.INVALID_OPLOCK_PROTOCOL, 'acknowledged a level above the break');
  }
  finishBreak(open, level);
  const body = Buffer.alloc(24);
  body.writeUInt16LE(24, 0);
  body[2] = level;
  open.fileIdBytes().copy(body, 8);
  return { body };
}
