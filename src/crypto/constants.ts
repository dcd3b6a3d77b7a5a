import { Cipher as CipherId, SigningAlgorithm } from '../protocol/constants.js';

/** The ids are defined once, with the negotiate contexts that carry them, in src/protocol/constants.ts. */
export { CipherId, SigningAlgorithm };

export function isAes256(cipherId: number): boolean {
  return cipherId === CipherId.AES_256_CCM || cipherId === CipherId.AES_256_GCM;
}

export function isGcm(cipherId: number): boolean {
  return cipherId === CipherId.AES_128_GCM || cipherId === CipherId.AES_256_GCM;
}

export function isKnownCipher(cipherId: number): boolean {
  return cipherId >= CipherId.AES_128_CCM && cipherId <= CipherId.AES_256_GCM;
}

/** Key length in bytes that a cipher takes. */
export function cipherKeyLength(cipherId: number): number {
  return isAes256(cipherId) ? 32 : 16;
}
