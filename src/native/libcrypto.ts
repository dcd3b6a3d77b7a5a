/**
 * AES-GCM straight from the system's OpenSSL (libcrypto.so.3, Debian's libssl3) through koffi,
 * for one reason node:crypto cannot serve: it encrypts and decrypts in place. Cipher.update()
 * always returns a fresh output buffer; for multi-megabyte READ responses those allocations, their
 * page faults and the garbage they leave cost more than the cipher itself (measured on this VM,
 * 8 MiB messages: node:crypto in 256 KiB pieces ≈ 2.3 GiB/s, EVP in place ≈ 6.5 GiB/s).
 *
 * Loading never throws: where koffi or libcrypto.so.3 cannot be loaded, `gcmAvailable` is false and
 * callers keep node:crypto. Calls are synchronous and share one EVP_CIPHER_CTX, which is safe
 * because JavaScript runs them one at a time.
 */
import { loadNative, type NativeFn } from './load.js';

/** EVP_CIPHER_CTX_ctrl commands (<openssl/evp.h>). */
const EVP_CTRL_GCM_GET_TAG = 0x10;
const EVP_CTRL_GCM_SET_TAG = 0x11;
const TAG_LENGTH = 16;

interface Bindings {
  ctx: unknown;
  ctxNew: NativeFn;
  ctxFree: NativeFn;
  aes128: unknown;
  aes256: unknown;
  encryptInit: NativeFn;
  encryptUpdate: NativeFn;
  encryptFinal: NativeFn;
  decryptInit: NativeFn;
  decryptUpdate: NativeFn;
  decryptFinal: NativeFn;
  ctrl: NativeFn;
}

function load(): Bindings | null {
  if (process.env.SMB3D_NO_NATIVE_GCM === '1') return null;
  return loadNative('libcrypto.so.3', (lib) => {
    const ctxNew = lib.func('void *EVP_CIPHER_CTX_new()') as NativeFn;
    const b: Bindings = {
      ctx: ctxNew(),
      ctxNew,
      ctxFree: lib.func('void EVP_CIPHER_CTX_free(void *ctx)') as NativeFn,
      aes128: (lib.func('const void *EVP_aes_128_gcm()') as NativeFn)(),
      aes256: (lib.func('const void *EVP_aes_256_gcm()') as NativeFn)(),
      encryptInit: lib.func('int EVP_EncryptInit_ex(void *ctx, const void *cipher, void *engine, const void *key, const void *iv)'),
      encryptUpdate: lib.func('int EVP_EncryptUpdate(void *ctx, void *out, _Out_ int *outl, const void *in, int inl)'),
      encryptFinal: lib.func('int EVP_EncryptFinal_ex(void *ctx, void *out, _Out_ int *outl)'),
      decryptInit: lib.func('int EVP_DecryptInit_ex(void *ctx, const void *cipher, void *engine, const void *key, const void *iv)'),
      decryptUpdate: lib.func('int EVP_DecryptUpdate(void *ctx, void *out, _Out_ int *outl, const void *in, int inl)'),
      decryptFinal: lib.func('int EVP_DecryptFinal_ex(void *ctx, void *out, _Out_ int *outl)'),
      ctrl: lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)'),
    };
    if (!b.ctx || !b.aes128 || !b.aes256) return null;
    return b;
  });
}

const native = load();

/** True when gcmSeal/gcmOpen run on libcrypto; otherwise they must not be called. */
export const gcmAvailable: boolean = native !== null;

const outLen = [0];
/** EVP wants an output pointer for Final even though GCM writes nothing there. */
const finalScratch = Buffer.alloc(32);

function bindings(): Bindings {
  if (native === null) throw new Error('libcrypto AES-GCM is not available');
  return native;
}

/** A piece of plaintext and where its ciphertext goes: the same buffer (in place) or another of equal length. */
export interface GcmPiece {
  input: Buffer;
  output: Buffer;
}

/**
 * AES-GCM over the pieces in order, as one message; returns the 16-byte tag.
 * `key` is 16 (AES-128) or 32 (AES-256) bytes, `iv` 12 bytes.
 */
export function gcmSeal(key: Buffer, iv: Buffer, aad: Buffer, pieces: readonly GcmPiece[]): Buffer {
  const b = bindings();
  const ctx = b.ctx;
  if (b.encryptInit(ctx, key.length === 32 ? b.aes256 : b.aes128, null, key, iv) !== 1) throw new Error('EVP_EncryptInit_ex failed');
  if (b.encryptUpdate(ctx, null, outLen, aad, aad.length) !== 1) throw new Error('EVP_EncryptUpdate (AAD) failed');
  for (const p of pieces) {
    if (p.input.length === 0) continue;
    if (p.output.length < p.input.length) throw new Error('GCM output shorter than its input');
    if (b.encryptUpdate(ctx, p.output, outLen, p.input, p.input.length) !== 1) throw new Error('EVP_EncryptUpdate failed');
  }
  if (b.encryptFinal(ctx, finalScratch, outLen) !== 1) throw new Error('EVP_EncryptFinal_ex failed');
  const tag = Buffer.alloc(TAG_LENGTH);
  if (b.ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, tag) !== 1) throw new Error('EVP_CTRL_GCM_GET_TAG failed');
  return tag;
}

/**
 * Decrypts `data` into `output` (which may be `data` itself) and checks `tag`.
 * Returns false when authentication fails; `output` then holds garbage and must be dropped.
 */
export function gcmOpen(key: Buffer, iv: Buffer, aad: Buffer, tag: Buffer, data: Buffer, output: Buffer): boolean {
  const b = bindings();
  const ctx = b.ctx;
  if (tag.length !== TAG_LENGTH || output.length < data.length) return false;
  if (b.decryptInit(ctx, key.length === 32 ? b.aes256 : b.aes128, null, key, iv) !== 1) throw new Error('EVP_DecryptInit_ex failed');
  // The tag is copied: koffi passes the pointer, and OpenSSL only reads it.
  if (b.ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LENGTH, Buffer.from(tag)) !== 1) throw new Error('EVP_CTRL_GCM_SET_TAG failed');
  if (b.decryptUpdate(ctx, null, outLen, aad, aad.length) !== 1) return false;
  if (data.length > 0 && b.decryptUpdate(ctx, output, outLen, data, data.length) !== 1) return false;
  return b.decryptFinal(ctx, finalScratch, outLen) === 1;
}

/**
 * One AES-GCM encryption fed over time (a READ's pieces as they are read), on a context of its
 * own: the shared one may serve other messages between two pieces. `finish` or `dispose` frees it.
 */
export class GcmStream {
  private ctx: unknown;

  constructor(key: Buffer, iv: Buffer) {
    const b = bindings();
    this.ctx = b.ctxNew();
    if (!this.ctx) throw new Error('EVP_CIPHER_CTX_new failed');
    if (b.encryptInit(this.ctx, key.length === 32 ? b.aes256 : b.aes128, null, key, iv) !== 1) {
      this.dispose();
      throw new Error('EVP_EncryptInit_ex failed');
    }
  }

  /** Encrypts `input` into `output` (same length, may be the same buffer), after what came before. */
  update(input: Buffer, output: Buffer): void {
    if (input.length === 0) return;
    if (!this.ctx) throw new Error('GCM stream already finished');
    if (output.length < input.length) throw new Error('GCM output shorter than its input');
    if (bindings().encryptUpdate(this.ctx, output, outLen, input, input.length) !== 1) throw new Error('EVP_EncryptUpdate failed');
  }

  /** The 16-byte tag; the stream is over. */
  finish(): Buffer {
    const b = bindings();
    if (!this.ctx) throw new Error('GCM stream already finished');
    try {
      if (b.encryptFinal(this.ctx, finalScratch, outLen) !== 1) throw new Error('EVP_EncryptFinal_ex failed');
      const tag = Buffer.alloc(TAG_LENGTH);
      if (b.ctrl(this.ctx, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, tag) !== 1) throw new Error('EVP_CTRL_GCM_GET_TAG failed');
      return tag;
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    if (this.ctx) bindings().ctxFree(this.ctx);
    this.ctx = undefined;
  }
}
