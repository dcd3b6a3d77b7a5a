/**
 * sendfile(2) from a file to a connection's socket, through koffi on the thread pool: a READ's
 * data goes from the page cache to the socket without being copied into our memory first. On
 * loopback the server spent 54% of its CPU on a large unsigned read in pread's copy into the
 * response buffer; sendfile skips that copy (the socket takes page references).
 *
 * The socket is libuv's and non-blocking. A call that finds its buffer full returns -1 (EAGAIN)
 * and we wait for room with poll(2), also on the thread pool, in slices short enough that a
 * client that stops reading holds a pool thread only that long at a time. At most MAX_ACTIVE
 * sends run at once (callers check `sendfileSlotFree()`), half the pool, so slow readers cannot
 * take every pool thread from file I/O. The smb3d command runs a pool of 16 (bin/smb3d.cjs);
 * a program that embeds the server has Node's 4 unless it sets UV_THREADPOOL_SIZE.
 *
 * Loading never throws: without koffi or libc, `sendfileAvailable` is false and callers read.
 */
import { loadNative, type NativeFn } from './load.js';

const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
/** Linux caps one sendfile at this many bytes. */
const MAX_CHUNK = 0x7ffff000;
/** How long one poll waits for room before the loop checks whether the connection is gone. */
const POLL_SLICE_MS = 100;
/** libuv's own default (4) where the variable is unset or not a number. */
const POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const MAX_ACTIVE = Math.max(2, Math.floor(POOL_SIZE / 2));

interface Bindings {
  sendfile: NativeFn;
  poll: NativeFn;
  dup: NativeFn;
  close: NativeFn;
}

function load(): Bindings | null {
  if (process.env.SMB3D_NO_SENDFILE === '1') return null;
  return loadNative('libc.so.6', (lib) => {
    return {
      // off_t and ssize_t are 64 bits on the 64-bit Linux this loads on; `offset` is an int64 the kernel advances.
      sendfile: lib.func('intptr_t sendfile(int out_fd, int in_fd, void *offset, size_t count)') as NativeFn,
      poll: lib.func('int poll(void *fds, uint64_t nfds, int timeout)') as NativeFn,
      dup: lib.func('int dup(int fd)') as NativeFn,
      close: lib.func('int close(int fd)') as NativeFn,
    };
  });
}

const native = load();
let active = 0;

/** Sends begun and bytes sent, for tests and debugging. */
export const sendfileCounters = { sends: 0, bytes: 0 };

export const sendfileAvailable: boolean = native !== null;

/** Whether a new send would stay within MAX_ACTIVE (a hint: the caller reads instead when not). */
export function sendfileSlotFree(): boolean {
  return native !== null && active < MAX_ACTIVE;
}

/**
 * A second descriptor of a socket for the thread pool to send on. libuv may close its own
 * descriptor at any moment (the peer hung up); a sendfile queued on that number could then hit
 * whatever the next open() got. Ours stays valid until `closeSocketDup`. -1 when dup fails.
 */
export function dupSocket(fd: number): number {
  return native ? Number(native.dup(fd)) : -1;
}

export function closeSocketDup(fd: number): void {
  if (native && fd >= 0) native.close(fd);
}

function call(fn: NativeFn, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => fn.async(...args, (err: Error | null, res: number | bigint) => (err ? reject(err) : resolve(Number(res)))));
}

/**
 * Sends `length` bytes of `fileFd` from `position` to the socket `sockFd`, resolving once the
 * kernel has all of them. Rejects when the file ends first (it shrank since the caller sized the
 * READ), the socket fails, or `isClosed()` turns true: the frame is then half sent, and the
 * caller must drop the connection.
 */
export async function sendFileToSocket(sockFd: number, fileFd: number, position: bigint, length: number, isClosed: () => boolean): Promise<void> {
  if (!native) throw new Error('sendfile is not available');
  active++;
  sendfileCounters.sends++;
  try {
    const offset = Buffer.alloc(8);
    offset.writeBigInt64LE(position);
    const pfd = Buffer.alloc(8);
    let left = length;
    let refusedWhileWritable = 0;
    while (left > 0) {
      if (isClosed()) throw new Error('connection closed during sendfile');
      const n = await call(native.sendfile, sockFd, fileFd, offset, Math.min(left, MAX_CHUNK));
      if (n > 0) {
        left -= n;
        sendfileCounters.bytes += n;
        refusedWhileWritable = 0;
        continue;
      }
      if (n === 0) throw new Error(`file ended ${left} bytes short of the READ it answers`);
      // -1: the socket buffer is full (EAGAIN), or a real error: poll tells them apart.
      pfd.writeInt32LE(sockFd, 0);
      pfd.writeInt16LE(POLLOUT, 4);
      pfd.writeInt16LE(0, 6);
      await call(native.poll, pfd, 1, POLL_SLICE_MS);
      const revents = pfd.readInt16LE(6);
      if (revents & (POLLERR | POLLHUP | POLLNVAL)) throw new Error('socket failed during sendfile');
      // Writable and still refused: not EAGAIN, so an error that will not go away.
      if (revents & POLLOUT && ++refusedWhileWritable > 2) throw new Error('sendfile failed on a writable socket');
    }
  } finally {
    active--;
  }
}
