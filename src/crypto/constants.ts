/** Cipher ids of the SMB2_ENCRYPTION_CAPABILITIES negotiate context ([MS-SMB2] 2.2.3.1.2). */
export const CipherId = {
  AES_128_CCM: 0x0001,
  AES_128_GCM: 0x0002,
  AES_256_CCM: 0x0003,
  AES_256_GCM: 0x0004,
} as const;

/** Signing algorithm ids of the SMB2_SIGNING_CAPABILITIES negotiate context ([MS-SMB2] 2.2.3.1.7). */
export const SigningAlgorithm = {
  HMAC_SHA256: 0x0000,
  AES_CMAC: 0x0001,
  AES_GMAC: 0x0002,
} as const;

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
