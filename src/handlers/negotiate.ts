import { randomBytes } from 'node:crypto';
import {
  Capabilities,
  Cipher,
  HashAlgorithm,
  NegotiateContextType,
  SecurityMode,
  SigningAlgorithm,
  SMB2_HEADER_SIZE,
} from '../protocol/constants.js';
import { Reader } from '../protocol/reader.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { nowFiletime } from '../protocol/time.js';
import { PreauthHash } from '../crypto/index.js';
import { buildNegotiateSecurityBlob } from '../auth/index.js';
import { ALL_DIALECTS, Dialect } from '../server/options.js';
import type { Connection } from '../server/connection.js';
import type { Reply, Request } from '../server/request.js';

const SUPPORTED_CIPHERS = [Cipher.AES_128_CCM, Cipher.AES_128_GCM, Cipher.AES_256_CCM, Cipher.AES_256_GCM] as number[];
const SUPPORTED_SIGNING = [SigningAlgorithm.HMAC_SHA256, SigningAlgorithm.AES_CMAC, SigningAlgorithm.AES_GMAC] as number[];

interface NegotiateContexts {
  preauth?: { hashes: number[] };
  ciphers?: number[];
  signing?: number[];
}

/** NEGOTIATE ([MS-SMB2] 2.2.3, 3.3.5.4). */
export async function negotiate(req: Request): Promise<Reply> {
  const { conn, server } = req;
  if (conn.dialect !== 0) {
    // A second NEGOTIATE on a connection is a protocol violation: disconnect ([MS-SMB2] 3.3.5.3.1).
    conn.close('second NEGOTIATE');
    fail(Status.INVALID_PARAMETER);
  }
  const r = req.r;
  const b = SMB2_HEADER_SIZE;
  const dialectCount = r.u16(b + 2);
  if (dialectCount === 0) fail(Status.INVALID_PARAMETER, 'no dialects offered');
  const securityMode = r.u16(b + 4);
  const capabilities = r.u32(b + 8);
  const clientGuid = r.guid(b + 12);
  const dialects: number[] = [];
  for (let i = 0; i < dialectCount; i++) dialects.push(r.u16(b + 36 + 2 * i));

  const min = server.options.minProtocol ?? Dialect.SMB2_02;
  const max = server.options.maxProtocol ?? Dialect.SMB3_11;
  const usable = ALL_DIALECTS.filter((d) => d >= min && d <= max && dialects.includes(d));
  if (usable.length === 0) fail(Status.NOT_SUPPORTED, 'no common dialect');
  const dialect = Math.max(...usable);

  let contexts: NegotiateContexts = {};
  if (dialect === Dialect.SMB3_11) {
    contexts = parseContexts(r, r.u32(b + 28), r.u16(b + 32));
    if (!contexts.preauth) fail(Status.INVALID_PARAMETER, '3.1.1 NEGOTIATE without pre-auth integrity context');
    if (!contexts.preauth.hashes.includes(HashAlgorithm.SHA512)) fail(Status.SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP);
  }

  conn.dialect = dialect;
  conn.negotiate = { clientGuid, securityMode, capabilities, dialects };
  const signingMandatory = server.options.signing === 'mandatory';
  conn.serverSecurityMode = SecurityMode.SIGNING_ENABLED | (signingMandatory ? SecurityMode.SIGNING_REQUIRED : 0);
  let caps = 0;
  if (dialect >= Dialect.SMB2_10) caps |= Capabilities.LEASING | Capabilities.LARGE_MTU;
  if (dialect >= Dialect.SMB3_00) {
    if (server.options.multiChannel !== false) caps |= Capabilities.MULTI_CHANNEL;
    if (dialect < Dialect.SMB3_11 && capabilities & Capabilities.ENCRYPTION) {
      caps |= Capabilities.ENCRYPTION;
      conn.cipherId = Cipher.AES_128_CCM;
    }
  }
  conn.serverCapabilities = caps;
  if (dialect >= Dialect.SMB3_00) conn.signingAlgorithmId = SigningAlgorithm.AES_CMAC;
  if (dialect === Dialect.SMB3_11) {
    conn.cipherId = contexts.ciphers?.find((c) => SUPPORTED_CIPHERS.includes(c)) ?? 0;
    conn.signingAlgorithmId = contexts.signing?.find((s) => SUPPORTED_SIGNING.includes(s)) ?? SigningAlgorithm.AES_CMAC;
  }
  {
    // 2.0.2 ignores the ClientGuid on the wire, but a client that sends one is still the same machine.
    const client = clientGuid.equals(Buffer.alloc(16)) ? server.clientFor(Buffer.from(`conn-${conn.id}`)) : server.clientFor(clientGuid);
    conn.client = client;
    client.connections.add(conn);
    client.dialect ||= dialect;
  }

  const ioSize = dialect >= Dialect.SMB2_10 ? server.maxIoSize : 65536;
  const secBlob = buildNegotiateSecurityBlob();
  const w = new Writer();
  w.u16(65).u16(conn.serverSecurityMode).u16(dialect);
  const ctxBuf = dialect === Dialect.SMB3_11 ? encodeContexts(conn, contexts) : undefined;
  w.u16(ctxBuf ? ctxBuf.count : 0);
  w.put(Buffer.from(server.serverGuid));
  w.u32(caps).u32(ioSize).u32(ioSize).u32(ioSize);
  w.u64(nowFiletime()).u64(0n);
  w.u16(SMB2_HEADER_SIZE + 64).u16(secBlob.length);
  const secEnd = 64 + secBlob.length;
  const ctxOffset = ctxBuf ? SMB2_HEADER_SIZE + secEnd + ((8 - ((SMB2_HEADER_SIZE + secEnd) % 8)) % 8) : 0;
  w.u32(ctxOffset);
  w.put(secBlob);
  if (ctxBuf) {
    w.align(8, SMB2_HEADER_SIZE);
    w.put(ctxBuf.data);
  }
  const body = w.toBuffer();
  conn.log.debug({ dialect: dialect.toString(16), cipher: conn.cipherId, signing: conn.signingAlgorithmId }, 'negotiated');

  if (dialect === Dialect.SMB3_11) {
    conn.preauth = new PreauthHash();
    conn.preauth.update(req.pdu);
    return { body, afterEncode: (parts) => conn.preauth!.update(parts) };
  }
  return { body };
}

function parseContexts(r: Reader, offset: number, count: number): NegotiateContexts {
  const out: NegotiateContexts = {};
  let off = offset;
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    off = (off + 7) & ~7;
    const type = r.u16(off);
    const len = r.u16(off + 2);
    const data = new Reader(r.bytes(off + 8, len));
    if (seen.has(type) && type !== NegotiateContextType.NETNAME_NEGOTIATE_CONTEXT_ID) fail(Status.INVALID_PARAMETER, 'duplicate negotiate context');
    seen.add(type);
    switch (type) {
      case NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES: {
        const n = data.u16(0);
        if (n === 0) fail(Status.INVALID_PARAMETER);
        out.preauth = { hashes: Array.from({ length: n }, (_, k) => data.u16(4 + 2 * k)) };
        break;
      }
      case NegotiateContextType.ENCRYPTION_CAPABILITIES: {
        const n = data.u16(0);
        if (n === 0) fail(Status.INVALID_PARAMETER);
        out.ciphers = Array.from({ length: n }, (_, k) => data.u16(2 + 2 * k));
        break;
      }
      case NegotiateContextType.SIGNING_CAPABILITIES: {
        const n = data.u16(0);
        if (n === 0) fail(Status.INVALID_PARAMETER);
        out.signing = Array.from({ length: n }, (_, k) => data.u16(2 + 2 * k));
        break;
      }
      default:
        // Compression, netname, transport and RDMA contexts are accepted and not answered.
        break;
    }
    off += 8 + len;
  }
  return out;
}

function encodeContexts(conn: Connection, c: NegotiateContexts): { data: Buffer; count: number } {
  const items: [number, Buffer][] = [];
  const salt = randomBytes(32);
  const pre = Buffer.alloc(6 + salt.length);
  pre.writeUInt16LE(1, 0);
  pre.writeUInt16LE(salt.length, 2);
  pre.writeUInt16LE(HashAlgorithm.SHA512, 4);
  salt.copy(pre, 6);
  items.push([NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES, pre]);
  if (c.ciphers) {
    const e = Buffer.alloc(4);
    e.writeUInt16LE(1, 0);
    e.writeUInt16LE(conn.cipherId, 2);
    items.push([NegotiateContextType.ENCRYPTION_CAPABILITIES, e]);
  }
  if (c.signing) {
    const s = Buffer.alloc(4);
    s.writeUInt16LE(1, 0);
    s.writeUInt16LE(conn.signingAlgorithmId, 2);
    items.push([NegotiateContextType.SIGNING_CAPABILITIES, s]);
  }
  const w = new Writer();
  items.forEach(([type, data], i) => {
    if (i > 0) w.align(8);
    w.u16(type).u16(data.length).u32(0).put(data);
  });
  return { data: w.toBuffer(), count: items.length };
}

/** Builds the NEGOTIATE response body for the SMB1 "SMB 2.???" path (shared with smb1-negotiate). */
export function wildcardNegotiateBody(conn: Connection, dialect: number): Buffer {
  const server = conn.server;
  const secBlob = buildNegotiateSecurityBlob();
  const w = new Writer();
  const ioSize = dialect === Dialect.SMB2_02 ? 65536 : server.maxIoSize;
  const caps = dialect === Dialect.WILDCARD ? Capabilities.LEASING | Capabilities.LARGE_MTU : 0;
  w.u16(65).u16(conn.serverSecurityMode || SecurityMode.SIGNING_ENABLED).u16(dialect).u16(0);
  w.put(Buffer.from(server.serverGuid));
  w.u32(caps).u32(ioSize).u32(ioSize).u32(ioSize);
  w.u64(nowFiletime()).u64(0n);
  w.u16(SMB2_HEADER_SIZE + 64).u16(secBlob.length).u32(0);
  w.put(secBlob);
  return w.toBuffer();
}
