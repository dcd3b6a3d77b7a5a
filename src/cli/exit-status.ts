import { SmbError } from '../client/errors.js';
import { Status } from '../protocol/status.js';
import { CliError } from './errors.js';

/**
 * The exit statuses of `smb3d copy` (and get/put), one per kind of failure, so that a script can
 * tell "try again later" from "fix the password" from "no such file" without reading the message.
 */
export const Exit = {
  OK: 0,
  /** Anything not below (the message names the NTSTATUS or the error). */
  FAILED: 1,
  /** Bad command line. */
  USAGE: 2,
  /** The server could not be reached, or the connection was lost and retries ran out. */
  CONNECTION: 3,
  /** Logon refused: wrong user or password, account disabled or expired. */
  LOGON: 4,
  /** The share or the remote path does not exist. */
  NOT_FOUND: 5,
  /** The server refused access to the share or file, or another open holds it. */
  DENIED: 6,
  /** The local file could not be read or written. */
  LOCAL: 7,
  /** --resume found a destination that cannot be a partial copy of the source. */
  RESUME: 8,
} as const;

const LOGON = new Set<number>([Status.LOGON_FAILURE, Status.WRONG_PASSWORD, Status.ACCOUNT_RESTRICTION, Status.ACCOUNT_DISABLED, Status.PASSWORD_EXPIRED]);
const NOT_FOUND = new Set<number>([Status.OBJECT_NAME_NOT_FOUND, Status.OBJECT_PATH_NOT_FOUND, Status.BAD_NETWORK_NAME, Status.OBJECT_NAME_INVALID, Status.DELETE_PENDING]);
const DENIED = new Set<number>([Status.ACCESS_DENIED, Status.NETWORK_ACCESS_DENIED, Status.SHARING_VIOLATION]);
/** Failures of the link, not of the request: worth reconnecting and going on. */
const CONNECTION = new Set<number>([Status.CONNECTION_DISCONNECTED, Status.CONNECTION_RESET, Status.IO_TIMEOUT, Status.NETWORK_NAME_DELETED, Status.USER_SESSION_DELETED]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether a failure is of the connection (so a retry on a new one may succeed). */
export function isConnectionFailure(e: unknown): boolean {
  if (e instanceof SmbError) return CONNECTION.has(e.status);
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && SOCKET_CODES.has(code) && !(e as LocalError).local;
}

/** An error of the local side of a copy (its file), kept apart from socket errors with the same codes. */
export class LocalError extends Error {
  readonly local = true;
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'LocalError';
  }
}

/** The CliError for a failed copy: its message names the NTSTATUS or errno, its exit status the kind. */
export function copyFailure(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof LocalError) return new CliError(`local file: ${e.message}`, Exit.LOCAL);
  if (e instanceof SmbError) {
    const s = e.status;
    const code = LOGON.has(s) ? Exit.LOGON : NOT_FOUND.has(s) ? Exit.NOT_FOUND : DENIED.has(s) ? Exit.DENIED : CONNECTION.has(s) ? Exit.CONNECTION : Exit.FAILED;
    return new CliError(e.message, code);
  }
  if (isConnectionFailure(e)) return new CliError(`cannot reach the server: ${(e as Error).message}`, Exit.CONNECTION);
  return new CliError((e as Error)?.message ?? String(e), Exit.FAILED);
}
