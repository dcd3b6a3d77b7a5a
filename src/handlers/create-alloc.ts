/** The AlSi create context ([MS-SMB2] 2.2.13.2.6): space reserved for a file CREATE makes or replaces. */
import { Status, fail } from '../protocol/status.js';
import type { VfsHandle } from '../vfs/types.js';
import type { CreateContext } from './create-contexts.js';

export async function applyAllocationSize(handle: VfsHandle, contexts: CreateContext[]): Promise<void> {
  const ctx = contexts.find((c) => c.name === 'AlSi');
  if (!ctx || handle.isDirectory) return;
  if (ctx.data.length !== 8) fail(Status.INVALID_PARAMETER, 'AlSi context size');
  const size = ctx.data.readBigUInt64LE(0);
  // A hint where the backend cannot reserve; the file is empty, so nothing is truncated.
  if (size > 0n && handle.setAllocationSize) await handle.setAllocationSize(size);
}
