export { aesCmac } from './cmac.js';
export { rc4, Rc4 } from './rc4.js';
export { smb3Kdf, deriveSessionKeys, deriveSigningKey, truncatedSessionKey, type SessionKeys } from './kdf.js';
export { createSigner, verify, gmacNonce, type Signer, type SignOptions } from './signing.js';
export type { TailGmac, TailTag } from './tail-mac.js';
export { SealingTail, type SealedTail } from './sealed-tail.js';
export {
  encryptMessage,
  decryptMessage,
  parseTransformHeader,
  TRANSFORM_HEADER_SIZE,
  TRANSFORM_PROTOCOL_ID,
  TRANSFORM_FLAG_ENCRYPTED,
  type TransformHeader,
  type SealOptions,
} from './transform.js';
export { PreauthHash } from './preauth.js';
export { CipherId, SigningAlgorithm, isAes256, isGcm, cipherKeyLength } from './constants.js';
export type { BufferList } from './buffers.js';
