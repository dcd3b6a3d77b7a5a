import { Fsctl, IoctlFlags, SMB2_HEADER_SIZE, RELATED_FILE_ID } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import type { Reply, Request } from '../server/request.js';
import { copyChunk, requestResumeKey } from './copychunk.js';
import { queryAllocatedRanges, setSparse, setZeroData } from './sparse.js';
import { advertisedInterfaces, encodeInterfaceInfo } from '../multichannel/interfaces.js';

const b = SMB2_HEADER_SIZE;
const NO_FILE_ID = Buffer.alloc(16, 0xff);

export function ioctlPayloadSize(req: Request): number {
  const r = req.r;
  return Math.max(r.u32(b + 28), r.u32(b + 44));
}

/**
 * FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT alters the connection, not a file: smbtorture sends it
 * without session or tree, as Samba accepts it.
 */
export function ioctlIsSessionless(req: Request): boolean {
  return req.r.u32(b + 4) === Fsctl.SMBTORTURE_FORCE_UNACKED_TIMEOUT;
}

/**
 * Honoured only with `smbd:FSCTL_SMBTORTURE = yes` in [global] (Samba's switch, so one config
 * serves both servers): from then on the connection's break deliveries never see an ack, as if
 * its link had died, and the break goes to the next channel after 6×RTO.
 */
function forceUnackedTimeout(req: Request, input: Buffer): IoctlResult {
  if (!req.server.globalFlag('smbd:FSCTL_SMBTORTURE')) fail(Status.INVALID_DEVICE_REQUEST, 'smbd:FSCTL_SMBTORTURE is off');
  if (input.length !== 0) fail(Status.INVALID_PARAMETER);
  req.conn.transport.ack.forceUnacked = true;
  req.conn.log.info('FSCTL_SMBTORTURE_FORCE_UNACKED_TIMEOUT: acks are ignored on this connection from now on');
  return { output: Buffer.alloc(0) };
}

interface IoctlResult {
  status?: number;
  output: Buffer;
}

/** IOCTL ([MS-SMB2] 2.2.31, 3.3.5.15). */
export async function ioctl(req: Request): Promise<Reply> {
  const r = req.r;
  const ctlCode = r.u32(b + 4);
  const inputOffset = r.u32(b + 24);
  const inputCount = r.u32(b + 28);
  const maxOutput = r.u32(b + 44);
  const flags = r.u32(b + 48);
  if (!(flags & IoctlFlags.IS_FSCTL)) fail(Status.NOT_SUPPORTED, 'only FSCTLs are supported');
  if (inputCount > req.server.maxIoSize || maxOutput > req.server.maxIoSize) fail(Status.INVALID_PARAMETER);
  const input = inputCount ? r.bytes(inputOffset, inputCount) : Buffer.alloc(0);
  const fileId = r.bytes(b + 8, 16);
  let result: IoctlResult;
  switch (ctlCode) {
    case Fsctl.SMBTORTURE_FORCE_UNACKED_TIMEOUT:
      result = forceUnackedTimeout(req, input);
      break;
    case Fsctl.VALIDATE_NEGOTIATE_INFO:
      result = validateNegotiate(req, input, maxOutput);
      break;
    case Fsctl.PIPE_TRANSCEIVE: {
      const open = req.open(b + 8);
      if (!open.pipe) fail(Status.INVALID_DEVICE_REQUEST);
      const { data, more } = open.pipe.transact(input, maxOutput);
      result = { output: data, status: more ? Status.BUFFER_OVERFLOW : Status.SUCCESS };
      break;
    }
    case Fsctl.DFS_GET_REFERRALS:
    case Fsctl.DFS_GET_REFERRALS_EX:
      fail(Status.FS_DRIVER_REQUIRED, 'DFS is not supported');
    case Fsctl.SRV_ENUMERATE_SNAPSHOTS: {
      req.open(b + 8);
      if (maxOutput < 16) fail(Status.INVALID_PARAMETER);
      // No snapshots: NumberOfSnapShots 0, NumberOfSnapShotsReturned 0, SnapShotArraySize 2 (empty MULTI_SZ).
      const out = Buffer.alloc(16);
      out.writeUInt32LE(2, 8);
      result = { output: out };
      break;
    }
    case Fsctl.SRV_REQUEST_RESUME_KEY: {
      const open = req.open(b + 8);
      if (maxOutput < 32) fail(Status.INVALID_PARAMETER);
      result = { output: requestResumeKey(open) };
      break;
    }
    case Fsctl.SRV_COPYCHUNK:
    case Fsctl.SRV_COPYCHUNK_WRITE: {
      const target = req.open(b + 8);
      result = await copyChunk(req, target, input, maxOutput, ctlCode === Fsctl.SRV_COPYCHUNK);
      break;
    }
    case Fsctl.QUERY_NETWORK_INTERFACE_INFO: {
      if (req.server.options.multiChannel === false) fail(Status.INVALID_DEVICE_REQUEST, 'multichannel is off');
      // It is about the server, not a file: anything but the all-ones FileId is a malformed request.
      if (!fileId.equals(NO_FILE_ID)) fail(Status.INVALID_PARAMETER, 'FSCTL_QUERY_NETWORK_INTERFACE_INFO on a file');
      if (input.length !== 0) fail(Status.INVALID_PARAMETER, 'FSCTL_QUERY_NETWORK_INTERFACE_INFO takes no input');
      const data = encodeInterfaceInfo(advertisedInterfaces(req.server.options.listen, req.server.options.interfaces));
      if (data.length > maxOutput) fail(Status.BUFFER_TOO_SMALL);
      result = { output: data };
      break;
    }
    case Fsctl.GET_COMPRESSION: {
      req.open(b + 8);
      if (maxOutput < 2) fail(Status.INVALID_PARAMETER);
      // COMPRESSION_FORMAT_NONE: files are never compressed here.
      result = { output: Buffer.alloc(2) };
      break;
    }
    case Fsctl.SET_COMPRESSION: {
      req.open(b + 8);
      if (input.length < 2) fail(Status.INVALID_PARAMETER);
      if (input.readUInt16LE(0) !== 0) fail(Status.NOT_SUPPORTED, 'compression is not supported');
      result = { output: Buffer.alloc(0) };
      break;
    }
    case Fsctl.SET_SPARSE:
      result = await setSparse(req.open(b + 8), input);
      break;
    case Fsctl.SET_ZERO_DATA:
      result = await setZeroData(req.open(b + 8), input);
      break;
    case Fsctl.QUERY_ALLOCATED_RANGES:
      result = await queryAllocatedRanges(req.open(b + 8), input, maxOutput);
      break;
    case Fsctl.CREATE_OR_GET_OBJECT_ID: {
      const open = req.open(b + 8);
      if (!open.handle) fail(Status.INVALID_DEVICE_REQUEST);
      if (maxOutput < 64) fail(Status.BUFFER_TOO_SMALL);
      // FILE_OBJECTID_BUFFER: an object id derived from the stable file id, no domain id.
      const st = await open.handle.stat();
      const out = Buffer.alloc(64);
      out.writeBigUInt64LE(st.fileId, 0);
      out.writeBigUInt64LE(st.fileId, 32);
      result = { output: out };
      break;
    }
    default:
      if (!fileId.equals(Buffer.alloc(16, 0xff))) req.open(b + 8);
      fail(Status.INVALID_DEVICE_REQUEST, `unsupported FSCTL 0x${ctlCode.toString(16)}`);
  }
  const out = result.output;
  const w = new Writer();
  w.u16(49).u16(0).u32(ctlCode).put(Buffer.from(fileId));
  w.u32(b + 48).u32(0).u32(b + 48).u32(out.length).u32(0).u32(0);
  w.put(out.length ? out : Buffer.alloc(0));
  return { status: result.status, body: w.toBuffer() };
}

/**
 * FSCTL_VALIDATE_NEGOTIATE_INFO ([MS-SMB2] 3.3.5.15.12): proves to a 3.0/3.0.2 client that nobody
 * downgraded the NEGOTIATE. Any mismatch ends the connection.
 */
function validateNegotiate(req: Request, input: Buffer, maxOutput: number): IoctlResult {
  const { conn } = req;
  const fid = req.r.u64(b + 8);
  if (fid !== RELATED_FILE_ID) fail(Status.INVALID_PARAMETER);
  const r = new Reader(input);
  const capabilities = r.u32(0);
  const guid = r.bytes(4, 16);
  const securityMode = r.u16(20);
  const count = r.u16(22);
  const dialects = Array.from({ length: count }, (_, i) => r.u16(24 + 2 * i));
  const n = conn.negotiate!;
  const same =
    capabilities === n.capabilities &&
    guid.equals(n.clientGuid) &&
    securityMode === n.securityMode &&
    dialects.length === n.dialects.length &&
    dialects.every((d, i) => d === n.dialects[i]);
  if (!same) {
    conn.close('VALIDATE_NEGOTIATE_INFO mismatch');
    fail(Status.ACCESS_DENIED);
  }
  if (maxOutput < 24) fail(Status.INVALID_PARAMETER);
  const out = new Writer();
  out.u32(conn.serverCapabilities).put(Buffer.from(req.server.serverGuid)).u16(conn.serverSecurityMode).u16(conn.dialect);
  return { output: out.toBuffer() };
}
