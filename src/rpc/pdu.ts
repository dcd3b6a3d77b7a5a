/** Connection-oriented PDU codecs ([C706] 12.6.3-12.6.4, [MS-RPCE] 2.2.2). */
import { Status, fail } from '../protocol/status.js';
import { COMMON_HEADER_SIZE, PacketType, PfcFlags } from './constants.js';
import { NdrReader, NdrWriter } from './ndr.js';
import { readSyntax, readUuid, writeSyntax, type SyntaxId } from './syntax.js';

export interface PduHeader {
  versionMinor: number;
  type: number;
  flags: number;
  /** drep integer representation; the rest of the PDU follows it. */
  littleEndian: boolean;
  /** drep character (0 = ASCII) and floating-point (0 = IEEE) representations. */
  charFormat: number;
  floatFormat: number;
  fragLength: number;
  authLength: number;
  callId: number;
}

/** Parses the 16-byte common header; undefined while fewer bytes are available. */
export function peekHeader(buf: Buffer): PduHeader | undefined {
  if (buf.length < COMMON_HEADER_SIZE) return undefined;
  if (buf[0] !== 5) fail(Status.INVALID_PARAMETER, `rpc_vers ${buf[0]}`);
  const littleEndian = (buf[4]! & 0xf0) === 0x10;
  const u16 = (at: number) => (littleEndian ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const header: PduHeader = {
    versionMinor: buf[1]!,
    type: buf[2]!,
    flags: buf[3]!,
    littleEndian,
    charFormat: buf[4]! & 0x0f,
    floatFormat: buf[5]!,
    fragLength: u16(8),
    authLength: u16(10),
    callId: littleEndian ? buf.readUInt32LE(12) : buf.readUInt32BE(12),
  };
  if (header.fragLength < COMMON_HEADER_SIZE) fail(Status.INVALID_PARAMETER, `frag_length ${header.fragLength}`);
  return header;
}

/** The body after the common header, as an NDR stream in the sender's byte order. */
function bodyReader(pdu: Buffer, h: PduHeader): NdrReader {
  return new NdrReader(pdu.subarray(COMMON_HEADER_SIZE, h.fragLength), h.littleEndian);
}

/** Frames `body` with a little-endian, ASCII, IEEE common header. */
export function encodePdu(type: number, flags: number, callId: number, body: Buffer): Buffer {
  const frag = Buffer.alloc(COMMON_HEADER_SIZE + body.length);
  frag[0] = 5;
  frag[1] = 0;
  frag[2] = type;
  frag[3] = flags;
  frag[4] = 0x10;
  frag.writeUInt16LE(frag.length, 8);
  frag.writeUInt16LE(0, 10);
  frag.writeUInt32LE(callId >>> 0, 12);
  body.copy(frag, COMMON_HEADER_SIZE);
  return frag;
}

export interface PresentationContext {
  contextId: number;
  abstract: SyntaxId;
  transfers: SyntaxId[];
}

/** rpcconn_bind_hdr_t / rpcconn_alter_context_hdr_t (same layout). */
export interface BindBody {
  maxXmitFrag: number;
  maxRecvFrag: number;
  assocGroupId: number;
  contexts: PresentationContext[];
}

export function decodeBind(pdu: Buffer, h: PduHeader): BindBody {
  const r = bodyReader(pdu, h);
  const maxXmitFrag = r.u16();
  const maxRecvFrag = r.u16();
  const assocGroupId = r.u32();
  const count = r.u8();
  r.u8();
  r.u16();
  const contexts: PresentationContext[] = [];
  for (let i = 0; i < count; i++) {
    const contextId = r.u16();
    const transferCount = r.u8();
    r.u8();
    const abstract = readSyntax(r);
    const transfers: SyntaxId[] = [];
    for (let t = 0; t < transferCount; t++) transfers.push(readSyntax(r));
    contexts.push({ contextId, abstract, transfers });
  }
  return { maxXmitFrag, maxRecvFrag, assocGroupId, contexts };
}

export interface ContextResultItem {
  result: number;
  /** Provider reason, or the acknowledged feature bits for negotiate_ack. */
  reason: number;
  transfer: SyntaxId;
}

export interface BindAckBody {
  maxXmitFrag: number;
  maxRecvFrag: number;
  assocGroupId: number;
  /** port_any_t; empty means a zero-length address (as in ALTER_CONTEXT_RESP). */
  secondaryAddress: string;
  results: ContextResultItem[];
}

/** BIND_ACK and ALTER_CONTEXT_RESP share this body. */
export function encodeBindAck(type: number, callId: number, b: BindAckBody): Buffer {
  const w = new NdrWriter();
  w.u16(b.maxXmitFrag).u16(b.maxRecvFrag).u32(b.assocGroupId);
  const addr = b.secondaryAddress === '' ? Buffer.alloc(0) : Buffer.from(`${b.secondaryAddress}\0`, 'latin1');
  w.u16(addr.length).bytes(addr);
  // The result list is 4-aligned; the body starts at offset 16, so body alignment is PDU alignment.
  w.align(4);
  w.u8(b.results.length).u8(0).u16(0);
  for (const item of b.results) {
    w.u16(item.result).u16(item.reason);
    writeSyntax(w, item.transfer);
  }
  return encodePdu(type, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, callId, w.toBuffer());
}

export function encodeBindNak(callId: number, reason: number): Buffer {
  const w = new NdrWriter();
  // One supported protocol version: 5.0.
  w.u16(reason).u8(1).u8(5).u8(0).align(4);
  return encodePdu(PacketType.BIND_NAK, PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG, callId, w.toBuffer());
}

/** rpcconn_request_hdr_t after the common header. */
export interface RequestBody {
  allocHint: number;
  contextId: number;
  opnum: number;
  objectUuid?: string;
  stub: Buffer;
}

export function decodeRequest(pdu: Buffer, h: PduHeader): RequestBody {
  const r = bodyReader(pdu, h);
  const allocHint = r.u32();
  const contextId = r.u16();
  const opnum = r.u16();
  const objectUuid = h.flags & PfcFlags.OBJECT_UUID ? readUuid(r) : undefined;
  const stubEnd = r.remaining - h.authLength;
  if (stubEnd < 0) fail(Status.INVALID_PARAMETER, 'auth_length exceeds fragment');
  const stub = r.bytes(stubEnd);
  return { allocHint, contextId, opnum, objectUuid, stub };
}

export function encodeResponse(callId: number, flags: number, contextId: number, allocHint: number, stub: Buffer): Buffer {
  const body = Buffer.alloc(8 + stub.length);
  body.writeUInt32LE(allocHint >>> 0, 0);
  body.writeUInt16LE(contextId, 4);
  stub.copy(body, 8);
  return encodePdu(PacketType.RESPONSE, flags, callId, body);
}

export function encodeFault(callId: number, contextId: number, status: number, didNotExecute: boolean): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(contextId, 4);
  body.writeUInt32LE(status >>> 0, 8);
  const flags = PfcFlags.FIRST_FRAG | PfcFlags.LAST_FRAG | (didNotExecute ? PfcFlags.DID_NOT_EXECUTE : 0);
  return encodePdu(PacketType.FAULT, flags, callId, body);
}
