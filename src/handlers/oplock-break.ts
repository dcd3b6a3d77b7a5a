import { OplockLevel, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { finishBreak, armLeaseTimer } from '../locking/oplocks.js';
import { sendOplockBreak } from '../server/breaks.js';
import type { Reply, Request } from '../server/request.js';

const b = SMB2_HEADER_SIZE;

/** OPLOCK_BREAK acknowledgement: oplocks (StructureSize 24) and leases (36) share the command. */
export function oplockBreakAck(req: Request): Reply {
  return req.r.u16(b) === 36 ? leaseBreakAck(req) : oplockAck(req);
}

/** Oplock Break Acknowledgment ([MS-SMB2] 2.2.24.1, 3.3.5.22.1). */
function oplockAck(req: Request): Reply {
  const r = req.r;
  const level = r.u8(b + 2);
  const open = req.open(b + 8);
  const breaking = open.breaking;
  if (!breaking) {
    // Level II to none needs no acknowledgement; one anyway is a protocol error.
    fail(Status.INVALID_OPLOCK_PROTOCOL, 'no break in progress');
  }
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

/** Lease Break Acknowledgment ([MS-SMB2] 2.2.24.2, 3.3.5.22.2). */
function leaseBreakAck(req: Request): Reply {
  const r = req.r;
  const key = Buffer.from(r.bytes(b + 8, 16));
  const state = r.u32(b + 24);
  const clientGuid = req.conn.client?.guid ?? '';
  const lease = req.server.leases.get(clientGuid, key);
  if (!lease) fail(Status.OBJECT_NAME_NOT_FOUND, 'no such lease');
  const followUp = lease.acknowledge(state);
  if (followUp) {
    if (followUp.ackRequired) armLeaseTimer(lease);
    // The next step of a break that got deeper while the client was answering.
    setImmediate(() => sendOplockBreak.lease?.(lease, followUp));
  }
  const body = Buffer.alloc(36);
  body.writeUInt16LE(36, 0);
  key.copy(body, 8);
  body.writeUInt32LE(state, 24);
  return { body };
}
