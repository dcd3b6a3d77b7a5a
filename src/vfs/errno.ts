/**
 * The one table from Node/POSIX errno codes to NTSTATUS. Choices follow Samba's unix_nt_errmap,
 * the behaviour smbtorture and Windows clients are used to from a POSIX server.
 */
import { NtStatusError, Status } from '../protocol/status.js';

/** Codes missing from the shared table ([MS-ERREF] 2.3.1). */
export const UNEXPECTED_IO_ERROR = 0xc00000e9;
export const NETWORK_BUSY = 0xc00000bf;

export type ErrnoContext = 'file' | 'parent';

const errnoTable: Readonly<Record<string, number>> = {
  ENOENT: Status.OBJECT_NAME_NOT_FOUND,
  // A component that should be a directory is not: the path, not the name, is wrong.
  ENOTDIR: Status.OBJECT_PATH_NOT_FOUND,
  EEXIST: Status.OBJECT_NAME_COLLISION,
  EACCES: Status.ACCESS_DENIED,
  EPERM: Status.ACCESS_DENIED,
  ENOTEMPTY: Status.DIRECTORY_NOT_EMPTY,
  EISDIR: Status.FILE_IS_A_DIRECTORY,
  ENOSPC: Status.DISK_FULL,
  EDQUOT: Status.DISK_FULL,
  EFBIG: Status.DISK_FULL,
  EROFS: Status.MEDIA_WRITE_PROTECTED,
  ENAMETOOLONG: Status.OBJECT_NAME_INVALID,
  ELOOP: Status.OBJECT_PATH_NOT_FOUND,
  EMFILE: Status.TOO_MANY_OPENED_FILES,
  ENFILE: Status.TOO_MANY_OPENED_FILES,
  EBADF: Status.INVALID_HANDLE,
  EINVAL: Status.INVALID_PARAMETER,
  ESPIPE: Status.INVALID_PARAMETER,
  EXDEV: Status.NOT_SAME_DEVICE,
  EBUSY: Status.SHARING_VIOLATION,
  ETXTBSY: Status.SHARING_VIOLATION,
  ENOMEM: Status.NO_MEMORY,
  EIO: UNEXPECTED_IO_ERROR,
  EAGAIN: NETWORK_BUSY,
  ENOTSUP: Status.NOT_SUPPORTED,
  EOPNOTSUPP: Status.NOT_SUPPORTED,
  ENOSYS: Status.NOT_SUPPORTED,
  ENXIO: Status.NO_SUCH_DEVICE,
  ENODEV: Status.NO_SUCH_DEVICE,
};

/** The errno name carried by a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * NTSTATUS for a failure. `context` says whether the failing path was the object itself ('file')
 * or a directory on the way to it ('parent'), which decides NAME_NOT_FOUND vs PATH_NOT_FOUND.
 */
export function statusFromErrno(err: unknown, context: ErrnoContext = 'file'): number {
  if (err instanceof NtStatusError) return err.status;
  const code = errnoCode(err);
  if (code === undefined) return Status.UNSUCCESSFUL;
  if (code === 'ENOENT' && context === 'parent') return Status.OBJECT_PATH_NOT_FOUND;
  return errnoTable[code] ?? Status.UNSUCCESSFUL;
}

/** Wraps any failure as an NtStatusError; an NtStatusError passes through unchanged. */
export function toNtStatusError(err: unknown, context: ErrnoContext = 'file'): NtStatusError {
  if (err instanceof NtStatusError) return err;
  const status = statusFromErrno(err, context);
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new NtStatusError(status, message);
  (wrapped as Error & { cause?: unknown }).cause = err;
  return wrapped;
}
