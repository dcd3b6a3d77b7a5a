import { Access, FILE_ALL_ACCESS } from '../protocol/constants.js';

const FILE_GENERIC_READ = 0x00120089;
const FILE_GENERIC_WRITE = 0x00120116;
const FILE_GENERIC_EXECUTE = 0x001200a0;

/** Maps GENERIC_* and MAXIMUM_ALLOWED to specific rights ([MS-SMB2] 2.2.13.1.1). */
export function mapGenericAccess(desired: number, maximal: number): number {
  let a = desired & ~(Access.GENERIC_READ | Access.GENERIC_WRITE | Access.GENERIC_EXECUTE | Access.GENERIC_ALL | Access.MAXIMUM_ALLOWED);
  if (desired & Access.GENERIC_READ) a |= FILE_GENERIC_READ;
  if (desired & Access.GENERIC_WRITE) a |= FILE_GENERIC_WRITE;
  if (desired & Access.GENERIC_EXECUTE) a |= FILE_GENERIC_EXECUTE;
  if (desired & Access.GENERIC_ALL) a |= FILE_ALL_ACCESS;
  if (desired & Access.MAXIMUM_ALLOWED) a |= maximal;
  return a >>> 0;
}

export function hasAny(access: number, bits: number): boolean {
  return (access & bits) !== 0;
}
