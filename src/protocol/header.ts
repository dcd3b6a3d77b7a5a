import { HeaderFlags, PROTOCOL_SMB2, SMB2_HEADER_SIZE } from './constants.js';
import { Reader } from './reader.js';

/** The 64-byte SMB2 packet header ([MS-SMB2] 2.2.1.1 sync, 2.2.1.2 async). */
export interface Smb2Header {
  creditCharge: number;
  /** In requests of 3.x dialects: ChannelSequence (low 16 bits) + Reserved. In responses: NTSTATUS. */
  status: number;
  command: number;
  credits: number;
  flags: number;
  nextCommand: number;
  messageId: bigint;
  asyncId: bigint;
  treeId: number;
  sessionId: bigint;
  signature: Buffer;
}

export function decodeHeader(buf: Buffer): Smb2Header {
  const r = new Reader(buf);
  if (r.u32(0) !== PROTOCOL_SMB2 || r.u16(4) !== SMB2_HEADER_SIZE) {
    r.bytes(0, SMB2_HEADER_SIZE);
    throw new Error('not an SMB2 header');
  }
  const flags = r.u32(16);
  const isAsync = (flags & HeaderFlags.ASYNC_COMMAND) !== 0;
  return {
    creditCharge: r.u16(6),
    status: r.u32(8),
    command: r.u16(12),
    credits: r.u16(14),
    flags,
    nextCommand: r.u32(20),
    messageId: r.u64(24),
    asyncId: isAsync ? r.u64(32) : 0n,
    treeId: isAsync ? 0 : r.u32(36),
    sessionId: r.u64(40),
    signature: r.bytes(48, 16),
  };
}

export function encodeHeader(h: Smb2Header, out: Buffer = Buffer.alloc(SMB2_HEADER_SIZE)): Buffer {
  out.writeUInt32LE(PROTOCOL_SMB2, 0);
  out.writeUInt16LE(SMB2_HEADER_SIZE, 4);
  out.writeUInt16LE(h.creditCharge, 6);
  out.writeUInt32LE(h.status >>> 0, 8);
  out.writeUInt16LE(h.command, 12);
  out.writeUInt16LE(h.credits, 14);
  out.writeUInt32LE(h.flags >>> 0, 16);
  out.writeUInt32LE(h.nextCommand, 20);
  out.writeBigUInt64LE(h.messageId, 24);
  if (h.flags & HeaderFlags.ASYNC_COMMAND) {
    out.writeBigUInt64LE(h.asyncId, 32);
  } else {
    out.writeUInt32LE(0, 32);
    out.writeUInt32LE(h.treeId >>> 0, 36);
  }
  out.writeBigUInt64LE(h.sessionId, 40);
  h.signature.copy(out, 48, 0, 16);
  return out;
}
