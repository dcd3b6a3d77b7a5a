import { createHash, createHmac } from 'node:crypto';
import { md4 } from 'hash-wasm';
import { AvId, AV_FLAG_MIC_PRESENT } from './ntlm-flags.js';
import { parseAvPairs, type AvPair } from './ntlm-messages.js';

/** NTLMv2 computations of [MS-NLMP] 3.3.2 and the session-security keys of 3.4.5. */

export function hmacMd5(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** NT hash = MD4(UTF-16LE(password)). MD4 comes from hash-wasm: OpenSSL 3 has it only in the legacy provider. */
export async function ntHashFromPassword(password: string): Promise<Buffer> {
  return Buffer.from(await md4(Buffer.from(password, 'utf16le')), 'hex');
}

/**
 * Upper-case a user name the way NTOWFv2 wants it: one UTF-16 unit for one, so that characters
 * whose JavaScript upper case expands (ß → SS) stay as they are, like Windows' RtlUpcaseUnicodeString.
 */
export function upcaseName(s: string): string {
  let out = '';
  for (const ch of s) {
    const u = ch.toUpperCase();
    out += u.length === ch.length ? u : ch;
  }
  return out;
}

/** NTOWFv2 = HMAC_MD5(NT hash, UTF-16LE(Upper(user) || domain)). */
export function ntowfv2(ntHash: Buffer, user: string, domain: string): Buffer {
  return hmacMd5(ntHash, Buffer.from(upcaseName(user) + domain, 'utf16le'));
}

/** NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp), temp being the client blob. */
export function ntProofStr(responseKeyNt: Buffer, serverChallenge: Buffer, blob: Buffer): Buffer {
  return hmacMd5(responseKeyNt, serverChallenge, blob);
}

/** SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is also the KeyExchangeKey. */
export function sessionBaseKey(responseKeyNt: Buffer, proof: Buffer): Buffer {
  return hmacMd5(responseKeyNt, proof);
}

/** The NTLMv2_CLIENT_CHALLENGE ("temp", 2.2.2.7): header, timestamp, client challenge, AV pairs. */
export function buildClientBlob(timestamp: Buffer, clientChallenge: Buffer, avPairs: Buffer): Buffer {
  const head = Buffer.alloc(28);
  head[0] = 1; // RespType
  head[1] = 1; // HiRespType
  timestamp.copy(head, 8);
  clientChallenge.copy(head, 16);
  return Buffer.concat([head, avPairs, Buffer.alloc(4)]);
}

/** The AV pairs a client put in its NTLMv2 blob (after the 28-byte fixed part). */
export function clientBlobAvPairs(ntResponse: Buffer): AvPair[] {
  if (ntResponse.length < 16 + 28) return [];
  return parseAvPairs(ntResponse.subarray(16 + 28));
}

export function blobHasMic(ntResponse: Buffer): boolean {
  const flags = clientBlobAvPairs(ntResponse).find((p) => p.id === AvId.FLAGS);
  return !!flags && flags.value.length >= 4 && (flags.value.readUInt32LE(0) & AV_FLAG_MIC_PRESENT) !== 0;
}

/** FILETIME (100 ns since 1601) of a JS time, 8 bytes LE. */
export function fileTime(ms: number = Date.now()): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(ms) + 11644473600000n) * 10000n);
  return b;
}

// ------------------------------------------------------------------ session security keys (3.4.5)

const magic = (s: string): Buffer => Buffer.from(`session key to ${s} magic constant\0`, 'latin1');

export function signKey(exportedSessionKey: Buffer, mode: 'client' | 'server'): Buffer {
  const m = mode === 'client' ? magic('client-to-server signing key') : magic('server-to-client signing key');
  return createHash('md5').update(exportedSessionKey).update(m).digest();
}

/** SEALKEY with extended session security: the key is weakened to 56 or 40 bits unless 128-bit was negotiated. */
export function sealKey(exportedSessionKey: Buffer, flags: number, mode: 'client' | 'server'): Buffer {
  const N128 = 0x20000000;
  const N56 = 0x80000000;
  const k = flags & N128 ? exportedSessionKey : flags & N56 ? exportedSessionKey.subarray(0, 7) : exportedSessionKey.subarray(0, 5);
  const m = mode === 'client' ? magic('client-to-server sealing key') : magic('server-to-client sealing key');
  return createHash('md5').update(k).update(m).digest();
}
