import { randomBytes } from 'node:crypto';
import { Reader } from '../protocol/reader.js';
import { Capabilities, Cipher, Command, HashAlgorithm, NegotiateContextType, SecurityMode, SigningAlgorithm, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { PreauthHash } from '../crypto/index.js';
import type { Connection } from './connection.js';

export const ALL_DIALECTS = [0x0210, 0x0300, 0x0302, 0x0311];
export const ALL_CIPHERS = [Cipher.AES_128_GCM, Cipher.AES_128_CCM, Cipher.AES_256_GCM, Cipher.AES_256_CCM];
export const ALL_SIGNING = [SigningAlgorithm.AES_GMAC, SigningAlgorithm.AES_CMAC, SigningAlgorithm.HMAC_SHA256];

export interface NegotiateOptions {
  dialects?: number[];
  ciphers?: number[];
  signingAlgorithms?: number[];
  requireSigning?: boolean;
}

export interface NegotiateResult {
  dialect: number;
  securityMode: number;
  capabilities: number;
  serverGuid: Buffer;
  maxTransactSize: number;
  maxReadSize: number;
  maxWriteSize: number;
  securityBlob: Buffer;
  /** Cipher the server chose (3.1.1), AES-128-CCM for 3.0/3.0.2, 0 before. */
  cipherId: number;
  signingAlgorithm: number;
  /** The ClientGUID this connection negotiated with: every channel of a session shares it. */
  clientGuid: Buffer;
  /** The connection's preauth hash after NEGOTIATE (3.1.1 only). */
  preauth?: PreauthHash;
}

function context(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(data.length, 2);
  const pad = (8 - (data.length % 8)) % 8;
  return Buffer.concat([h, data, Buffer.alloc(pad)]);
}

function idList(ids: number[], prefix = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(2 + 2 * ids.length);
  b.writeUInt16LE(ids.length, 0);
  ids.forEach((id, i) => b.writeUInt16LE(id, 2 + 2 * i));
  return Buffer.concat([prefix, b]);
}

/** NEGOTIATE ([MS-SMB2] 2.2.3/2.2.4, 3.2.4.2.2.2) with 3.1.1 contexts: preauth SHA-512, ciphers, signing algorithms. */
export async function negotiate(conn: Connection, clientGuid: Buffer, o: NegotiateOptions): Promise<NegotiateResult> {
  const dialects = o.dialects ?? ALL_DIALECTS;
  const ciphers = o.ciphers ?? ALL_CIPHERS;
  const signing = o.signingAlgorithms ?? ALL_SIGNING;
  const fixed = Buffer.alloc(36 + 2 * dialects.length);
  fixed.writeUInt16LE(36, 0);
  fixed.writeUInt16LE(dialects.length, 2);
  fixed.writeUInt16LE(SecurityMode.SIGNING_ENABLED | (o.requireSigning ? SecurityMode.SIGNING_REQUIRED : 0), 4);
  fixed.writeUInt32LE(Capabilities.LARGE_MTU | Capabilities.ENCRYPTION | Capabilities.MULTI_CHANNEL, 8);
  clientGuid.copy(fixed, 12);
  dialects.forEach((d, i) => fixed.writeUInt16LE(d, 36 + 2 * i));
  let body = fixed;
  if (dialects.includes(0x0311)) {
    const pad = Buffer.alloc((8 - ((SMB2_HEADER_SIZE + fixed.length) % 8)) % 8);
    const preauthData = Buffer.alloc(6 + 32);
    preauthData.writeUInt16LE(1, 0);
    preauthData.writeUInt16LE(32, 2);
    preauthData.writeUInt16LE(HashAlgorithm.SHA512, 4);
    randomBytes(32).copy(preauthData, 6);
    const ctxs = [
      context(NegotiateContextType.PREAUTH_INTEGRITY_CAPABILITIES, preauthData),
      context(NegotiateContextType.ENCRYPTION_CAPABILITIES, idList(ciphers)),
      context(NegotiateContextType.SIGNING_CAPABILITIES, idList(signing)),
    ];
    fixed.writeUInt32LE(SMB2_HEADER_SIZE + fixed.length + pad.length, 28);
    fixed.writeUInt16LE(ctxs.length, 32);
    body = Buffer.concat([fixed, pad, ...ctxs]);
  }
  const preauth = new PreauthHash();
  conn.onPreauthMessage = (msg, _dir, command) => {
    if (command === Command.NEGOTIATE) preauth.update(msg);
  };
  const resp = await conn.request({ command: Command.NEGOTIATE, body });
  conn.onPreauthMessage = undefined;
  const r = new Reader(resp.msg);
  const b = SMB2_HEADER_SIZE;
  const dialect = r.u16(b + 4);
  const secOff = r.u16(b + 56);
  const secLen = r.u16(b + 58);
  const out: NegotiateResult = {
    dialect,
    securityMode: r.u16(b + 2),
    serverGuid: r.guid(b + 8),
    clientGuid,
    capabilities: r.u32(b + 24),
    maxTransactSize: r.u32(b + 28),
    maxReadSize: r.u32(b + 32),
    maxWriteSize: r.u32(b + 36),
    securityBlob: secLen ? Buffer.from(r.bytes(secOff, secLen)) : Buffer.alloc(0),
    cipherId: dialect >= 0x0300 ? Cipher.AES_128_CCM : 0,
    signingAlgorithm: dialect >= 0x0300 ? SigningAlgorithm.AES_CMAC : SigningAlgorithm.HMAC_SHA256,
  };
  if (dialect === 0x0311) {
    out.preauth = preauth;
    out.cipherId = 0;
    let off = r.u32(b + 60);
    for (let i = 0, n = r.u16(b + 6); i < n; i++) {
      off = (off + 7) & ~7;
      const type = r.u16(off);
      const len = r.u16(off + 2);
      const data = new Reader(r.bytes(off + 8, len));
      if (type === NegotiateContextType.ENCRYPTION_CAPABILITIES && data.u16(0) > 0) out.cipherId = data.u16(2);
      if (type === NegotiateContextType.SIGNING_CAPABILITIES && data.u16(0) > 0) out.signingAlgorithm = data.u16(2);
      off += 8 + len;
    }
  }
  conn.dialect = dialect;
  conn.largeMtu = dialect >= 0x0210 && (out.capabilities & Capabilities.LARGE_MTU) !== 0;
  return out;
}
