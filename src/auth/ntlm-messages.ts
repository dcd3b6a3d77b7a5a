import { NtStatusError, Status } from '../protocol/status.js';
import { AvId, NtlmFlag } from './ntlm-flags.js';

/** Codecs for the three NTLMSSP messages ([MS-NLMP] 2.2.1) and AV_PAIR lists (2.2.2.1). */

export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
export const MessageType = { NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const;
/** Offset of the MIC in an AUTHENTICATE message that carries one (after the 8-byte Version). */
export const MIC_OFFSET = 72;
const CHALLENGE_HEADER_SIZE = 56;
const AUTHENTICATE_HEADER_SIZE = 64;

function bad(msg: string): never {
  throw new NtStatusError(Status.INVALID_PARAMETER, `NTLMSSP: ${msg}`);
}

export function isNtlmssp(token: Buffer): boolean {
  return token.length >= 12 && token.subarray(0, 8).equals(NTLMSSP_SIGNATURE);
}

export function messageType(token: Buffer): number {
  if (!isNtlmssp(token)) bad('bad signature');
  return token.readUInt32LE(8);
}

/** A (Len, MaxLen, Offset) field triple pointing into the payload. */
function readField(buf: Buffer, at: number): Buffer {
  if (at + 8 > buf.length) bad('truncated field header');
  const len = buf.readUInt16LE(at);
  const off = buf.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off + len > buf.length) bad('field overruns message');
  return buf.subarray(off, off + len);
}

function fieldOffset(buf: Buffer, at: number): number {
  return buf.readUInt16LE(at) === 0 ? Number.MAX_SAFE_INTEGER : buf.readUInt32LE(at + 4);
}

export function decodeString(b: Buffer, unicode: boolean): string {
  if (unicode) {
    if (b.length % 2) bad('odd-length UTF-16 string');
    return b.toString('utf16le');
  }
  return b.toString('latin1');
}

export function encodeString(s: string, unicode: boolean): Buffer {
  return Buffer.from(s, unicode ? 'utf16le' : 'latin1');
}

// ------------------------------------------------------------------ AV pairs

export interface AvPair {
  id: number;
  value: Buffer;
}

/** Parse an AV_PAIR list up to MsvAvEOL; tolerant of a missing EOL at the very end, as clients differ. */
export function parseAvPairs(buf: Buffer): AvPair[] {
  const out: AvPair[] = [];
  let pos = 0;
  while (pos + 4 <= buf.length) {
    const id = buf.readUInt16LE(pos);
    const len = buf.readUInt16LE(pos + 2);
    if (id === AvId.EOL) return out;
    if (pos + 4 + len > buf.length) bad('AV pair overruns list');
    out.push({ id, value: buf.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
  return out;
}

export function encodeAvPairs(pairs: AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(p.id, 0);
    h.writeUInt16LE(p.value.length, 2);
    parts.push(h, p.value);
  }
  parts.push(Buffer.alloc(4)); // MsvAvEOL
  return Buffer.concat(parts);
}

// ------------------------------------------------------------------ NEGOTIATE

export interface NegotiateMessage {
  flags: number;
  domain: string;
  workstation: string;
}

export function parseNegotiate(buf: Buffer): NegotiateMessage {
  if (messageType(buf) !== MessageType.NEGOTIATE) bad('expected NEGOTIATE_MESSAGE');
  if (buf.length < 16) bad('short NEGOTIATE_MESSAGE');
  const flags = buf.readUInt32LE(12);
  // Domain and workstation are OEM strings and optional; old clients end the message right after the flags.
  const domain = buf.length >= 24 ? readField(buf, 16).toString('latin1') : '';
  const workstation = buf.length >= 32 ? readField(buf, 24).toString('latin1') : '';
  return { flags, domain, workstation };
}

export function buildNegotiate(flags: number): Buffer {
  const b = Buffer.alloc(40);
  NTLMSSP_SIGNATURE.copy(b, 0);
  b.writeUInt32LE(MessageType.NEGOTIATE, 8);
  b.writeUInt32LE(flags >>> 0, 12);
  b.writeUInt32LE(40, 20);
  b.writeUInt32LE(40, 28);
  if (flags & NtlmFlag.VERSION) DEFAULT_VERSION.copy(b, 32);
  return b;
}

// ------------------------------------------------------------------ CHALLENGE

/** Windows 10-style VERSION: major 10, minor 0, build 17763, NTLMSSP_REVISION_W2K3 (15). */
export const DEFAULT_VERSION = Buffer.from([10, 0, 0x63, 0x45, 0, 0, 0, 15]);

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
}

export function buildChallenge(m: ChallengeMessage): Buffer {
  const unicode = (m.flags & NtlmFlag.UNICODE) !== 0;
  const target = m.flags & NtlmFlag.REQUEST_TARGET ? encodeString(m.targetName, unicode) : Buffer.alloc(0);
  const info = m.flags & NtlmFlag.TARGET_INFO ? m.targetInfo : Buffer.alloc(0);
  const b = Buffer.alloc(CHALLENGE_HEADER_SIZE + target.length + info.length);
  NTLMSSP_SIGNATURE.copy(b, 0);
  b.writeUInt32LE(MessageType.CHALLENGE, 8);
  b.writeUInt16LE(target.length, 12);
  b.writeUInt16LE(target.length, 14);
  b.writeUInt32LE(CHALLENGE_HEADER_SIZE, 16);
  b.writeUInt32LE(m.flags >>> 0, 20);
  m.serverChallenge.copy(b, 24);
  b.writeUInt16LE(info.length, 40);
  b.writeUInt16LE(info.length, 42);
  b.writeUInt32LE(CHALLENGE_HEADER_SIZE + target.length, 44);
  if (m.flags & NtlmFlag.VERSION) DEFAULT_VERSION.copy(b, 48);
  target.copy(b, CHALLENGE_HEADER_SIZE);
  info.copy(b, CHALLENGE_HEADER_SIZE + target.length);
  return b;
}

export function parseChallenge(buf: Buffer): ChallengeMessage {
  if (messageType(buf) !== MessageType.CHALLENGE) bad('expected CHALLENGE_MESSAGE');
  if (buf.length < 48) bad('short CHALLENGE_MESSAGE');
  const flags = buf.readUInt32LE(20);
  return {
    flags,
    serverChallenge: buf.subarray(24, 32),
    targetName: decodeString(readField(buf, 12), (flags & NtlmFlag.UNICODE) !== 0),
    targetInfo: readField(buf, 40),
  };
}

// ------------------------------------------------------------------ AUTHENTICATE

export interface AuthenticateMessage {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  /** Lowest payload offset: a MIC fits only if this is at least MIC_OFFSET + 16. */
  payloadStart: number;
}

export function parseAuthenticate(buf: Buffer): AuthenticateMessage {
  if (messageType(buf) !== MessageType.AUTHENTICATE) bad('expected AUTHENTICATE_MESSAGE');
  if (buf.length < AUTHENTICATE_HEADER_SIZE) bad('short AUTHENTICATE_MESSAGE');
  const flags = buf.readUInt32LE(60);
  const unicode = (flags & NtlmFlag.UNICODE) !== 0;
  return {
    flags,
    lmResponse: readField(buf, 12),
    ntResponse: readField(buf, 20),
    domain: decodeString(readField(buf, 28), unicode),
    user: decodeString(readField(buf, 36), unicode),
    workstation: decodeString(readField(buf, 44), unicode),
    encryptedRandomSessionKey: readField(buf, 52),
    payloadStart: Math.min(...[12, 20, 28, 36, 44, 52].map((at) => fieldOffset(buf, at))),
  };
}

export interface AuthenticateFields {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  /** Reserve the 16-byte MIC field (zeroed; the caller fills it in). */
  withMic: boolean;
}

/** Encode an AUTHENTICATE message (client side; used by tests and src/client). */
export function buildAuthenticate(f: AuthenticateFields): Buffer {
  const unicode = (f.flags & NtlmFlag.UNICODE) !== 0;
  const header = f.withMic ? MIC_OFFSET + 16 : AUTHENTICATE_HEADER_SIZE + 8;
  const payload = [
    encodeString(f.domain, unicode),
    encodeString(f.user, unicode),
    encodeString(f.workstation, unicode),
    f.lmResponse,
    f.ntResponse,
    f.encryptedRandomSessionKey,
  ];
  const fieldAt = [28, 36, 44, 12, 20, 52];
  const b = Buffer.alloc(header + payload.reduce((a, p) => a + p.length, 0));
  NTLMSSP_SIGNATURE.copy(b, 0);
  b.writeUInt32LE(MessageType.AUTHENTICATE, 8);
  let off = header;
  payload.forEach((p, i) => {
    const at = fieldAt[i]!;
    b.writeUInt16LE(p.length, at);
    b.writeUInt16LE(p.length, at + 2);
    b.writeUInt32LE(off, at + 4);
    p.copy(b, off);
    off += p.length;
  });
  b.writeUInt32LE(f.flags >>> 0, 60);
  if (f.flags & NtlmFlag.VERSION) DEFAULT_VERSION.copy(b, 64);
  return b;
}
