import { createHmac } from 'node:crypto';
import { NtStatusError, Status } from '../protocol/status.js';
import { cipherKeyLength, isAes256, isKnownCipher } from './constants.js';

/**
 * SP800-108 KDF in counter mode with HMAC-SHA256, r = 32, as [MS-SMB2] 3.1.4.2 uses it:
 * K = HMAC(key, i || Label || 0x00 || Context || L), i = 1, all big-endian. L ≤ 256 needs one round.
 * `label` and `context` are taken verbatim: SMB's labels carry their own trailing NUL.
 */
export function smb3Kdf(key: Buffer, label: Buffer, context: Buffer, lengthBits: 128 | 256): Buffer {
  const i = Buffer.from([0, 0, 0, 1]);
  const l = Buffer.alloc(4);
  l.writeUInt32BE(lengthBits);
  const out = createHmac('sha256', key).update(i).update(label).update(Buffer.of(0)).update(context).update(l).digest();
  return out.subarray(0, lengthBits / 8);
}

export interface SessionKeys {
  /** Session.SigningKey (16 bytes): the key the first channel signs with. */
  signingKey: Buffer;
  /** Server-to-client sealing key ("ServerOut" / SMBS2CCipherKey); empty before 3.0. */
  encryptionKey: Buffer;
  /** Client-to-server sealing key ("ServerIn " / SMBC2SCipherKey); empty before 3.0. */
  decryptionKey: Buffer;
  /** Session.ApplicationKey (16 bytes), handed to RPC over named pipes. */
  applicationKey: Buffer;
}

const DIALECT_3_0 = 0x0300;
const DIALECT_3_1_1 = 0x0311;

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1');

/** Session.SessionKey: the first 16 bytes of the authentication key, zero-padded if shorter ([MS-SMB2] 3.3.1.8). */
export function truncatedSessionKey(sessionKey: Buffer): Buffer {
  const k = Buffer.alloc(16);
  sessionKey.copy(k, 0, 0, Math.min(16, sessionKey.length));
  return k;
}

/**
 * The signing key of a session or of a bound channel ([MS-SMB2] 3.3.5.5.3, 3.3.5.2.7 for binding:
 * the channel's own preauth hash is the context). Signing keys are always 128-bit from the 16-byte SessionKey.
 */
export function deriveSigningKey(dialect: number, sessionKey: Buffer, preauthHash: Buffer | undefined): Buffer {
  const k = truncatedSessionKey(sessionKey);
  if (dialect < DIALECT_3_0) return k;
  if (dialect >= DIALECT_3_1_1) {
    if (!preauthHash) throw new NtStatusError(Status.INTERNAL_ERROR, 'SMB 3.1.1 key derivation needs the preauth hash');
    return smb3Kdf(k, cstr('SMBSigningKey'), preauthHash, 128);
  }
  return smb3Kdf(k, cstr('SMB2AESCMAC'), cstr('SmbSign'), 128);
}

/**
 * All keys of a freshly authenticated session ([MS-SMB2] 3.3.5.5.3).
 * AES-256 ciphers take L = 256 and the full session key (Session.FullSessionKey), as Windows and Samba do;
 * every other key uses the 16-byte Session.SessionKey with L = 128.
 * `cipherId` 0 means no cipher negotiated: 3.x then still gets 128-bit sealing keys (3.0's CCM default).
 */
export function deriveSessionKeys(
  dialect: number,
  sessionKey: Buffer,
  preauthHash: Buffer | undefined,
  cipherId: number,
): SessionKeys {
  const k = truncatedSessionKey(sessionKey);
  const signingKey = deriveSigningKey(dialect, sessionKey, preauthHash);
  if (dialect < DIALECT_3_0) {
    return { signingKey, encryptionKey: Buffer.alloc(0), decryptionKey: Buffer.alloc(0), applicationKey: k };
  }
  if (cipherId !== 0 && !isKnownCipher(cipherId)) {
    throw new NtStatusError(Status.INVALID_PARAMETER, `unknown cipher id ${cipherId}`);
  }
  const wide = dialect >= DIALECT_3_1_1 && isAes256(cipherId);
  const cipherKeyIn = wide ? sessionKey : k;
  const bits = (cipherKeyLength(cipherId) * 8) as 128 | 256;
  const cipherBits: 128 | 256 = wide ? bits : 128;
  if (dialect >= DIALECT_3_1_1) {
    const ctx = preauthHash!;
    return {
      signingKey,
      encryptionKey: smb3Kdf(cipherKeyIn, cstr('SMBS2CCipherKey'), ctx, cipherBits),
      decryptionKey: smb3Kdf(cipherKeyIn, cstr('SMBC2SCipherKey'), ctx, cipherBits),
      applicationKey: smb3Kdf(k, cstr('SMBAppKey'), ctx, 128),
    };
  }
  return {
    signingKey,
    encryptionKey: smb3Kdf(k, cstr('SMB2AESCCM'), cstr('ServerOut'), 128),
    decryptionKey: smb3Kdf(k, cstr('SMB2AESCCM'), cstr('ServerIn '), 128),
    applicationKey: smb3Kdf(k, cstr('SMB2APP'), cstr('SmbRpc'), 128),
  };
}
