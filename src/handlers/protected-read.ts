/**
 * Large READs whose response will be signed or sealed are protected while they are read: the
 * file is read in pieces, two at a time on the thread pool, and each piece is signed (AES-GMAC) or
 * sealed (AES-GCM) as it comes, so the crypto of one piece overlaps the read of the next where a
 * whole read followed by the crypto would do them one after the other. The response header does
 * not exist yet; signing and sealing join it afterwards (src/crypto/tail-mac.ts, sealed-tail.ts).
 */
import { isGcm, SealingTail } from '../crypto/index.js';
import { gcmAvailable } from '../native/libcrypto.js';
import type { Reply, Request } from '../server/request.js';
import type { Open } from '../server/state/open.js';
import type { VfsHandle } from '../vfs/types.js';

/** READs from this size on are protected while read. */
const PROTECTED_READ_MIN = 2 * 1024 * 1024;
/** The pieces: large enough that the thread-pool hop is small beside the copy. */
const READ_PIECE = 1024 * 1024;

export interface ReadProtection {
  update(piece: Buffer): void;
  /** What the reply carries for the dispatcher: the tail's tag or its ciphertext. */
  finish(): Pick<Reply, 'tailTag' | 'sealedTail'>;
  /** Frees what an unfinished protection holds (a READ that failed). */
  release(): void;
}

/**
 * How this READ's response will be protected, if it is large and signed with AES-GMAC or sealed
 * with AES-GCM. Sealing encrypts the pieces in `buf` where they are read.
 */
export function protectionFor(req: Request, buf: Buffer, length: number): ReadProtection | undefined {
  if (length < PROTECTED_READ_MIN) return undefined;
  const sealer = req.responseSealer;
  if (sealer) {
    if (!gcmAvailable || !isGcm(sealer.cipherId)) return undefined;
    const sealing = new SealingTail(sealer.cipherId, sealer.encryptionKey, buf);
    return { update: (piece) => sealing.update(piece), finish: () => ({ sealedTail: sealing.finish() }), release: () => sealing.dispose() };
  }
  const tail = req.responseSigner?.beginTail?.({ messageId: req.header.messageId, isResponse: true, isCancel: false });
  if (!tail) return undefined;
  return { update: (piece) => tail.update(piece), finish: () => ({ tailTag: tail.finish() }), release: () => undefined };
}

/**
 * Reads `length` bytes at `offset` into `buf` and hands each piece to `protection` in order.
 * Protected READs of one open take turns (Open.protectedReads). Returns the bytes
 * read (short at end of file); every read has finished when it returns, so `buf` is the caller's.
 */
export function readProtected(open: Open, handle: VfsHandle, buf: Buffer, length: number, offset: bigint, protection: ReadProtection): Promise<number> {
  const turn = open.protectedReads.then(() => readInPieces(handle, buf, length, offset, protection));
  open.protectedReads = turn.catch(() => undefined);
  return turn;
}

async function readInPieces(handle: VfsHandle, buf: Buffer, length: number, offset: bigint, protection: ReadProtection): Promise<number> {
  const count = Math.ceil(length / READ_PIECE);
  const size = (i: number) => Math.min(READ_PIECE, length - i * READ_PIECE);
  const reads: Promise<number>[] = [];
  const start = (i: number) => {
    if (i >= count) return;
    reads[i] = handle.read(buf, i * READ_PIECE, size(i), offset + BigInt(i * READ_PIECE));
    // A later piece may fail while an earlier one is awaited: its failure is seen in order.
    reads[i]!.catch(() => undefined);
  };
  start(0);
  start(1);
  let n = 0;
  try {
    for (let i = 0; i < count; i++) {
      const got = await reads[i]!;
      const whole = got === size(i);
      // Past a short piece (end of file) nothing is part of the response.
      if (whole) start(i + 2);
      protection.update(buf.subarray(i * READ_PIECE, i * READ_PIECE + got));
      n += got;
      if (!whole) break;
    }
    return n;
  } finally {
    await Promise.allSettled(reads);
  }
}
