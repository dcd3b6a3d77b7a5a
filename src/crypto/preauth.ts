import { createHash } from 'node:crypto';
import { asList, type BufferList } from './buffers.js';

/**
 * SMB 3.1.1 pre-authentication integrity hash ([MS-SMB2] 3.1.4.2, 3.3.5.4):
 * H starts as 64 zero bytes and each NEGOTIATE / SESSION_SETUP message is chained as H = SHA-512(H || msg).
 * The connection keeps one; each session setup clones it and continues on its own copy.
 */
export class PreauthHash {
  private value: Buffer;

  constructor(initial?: Buffer) {
    this.value = initial ? Buffer.from(initial) : Buffer.alloc(64);
  }

  update(msg: BufferList): void {
    const h = createHash('sha512').update(this.value);
    for (const b of asList(msg)) h.update(b);
    this.value = h.digest();
  }

  clone(): PreauthHash {
    return new PreauthHash(this.value);
  }

  digest(): Buffer {
    return Buffer.from(this.value);
  }
}
