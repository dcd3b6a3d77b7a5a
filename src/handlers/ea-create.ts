/** The ExtA create context ([MS-SMB2] 2.2.13.2.1): EAs set on the file a CREATE makes or replaces. */
import { Status, fail } from '../protocol/status.js';
import type { Backend, VfsHandle } from '../vfs/types.js';
import type { CreateContext } from './create-contexts.js';
import { checkEaName, decodeEaList, eaUnsupported, writeEas } from './ea.js';

const EXTA = 'ExtA';

/** Refuses a malformed or unstorable ExtA before anything is created. */
export async function checkCreateEas(contexts: CreateContext[], backend: Backend): Promise<void> {
  const ctx = contexts.find((c) => c.name === EXTA);
  if (!ctx) return;
  if (!(await keepsExtras(backend))) fail(Status.EAS_NOT_SUPPORTED);
  for (const e of decodeEaList(ctx.data)) checkEaName(e.name);
}

export function applyCreateEas(handle: VfsHandle, contexts: CreateContext[]): void {
  const ctx = contexts.find((c) => c.name === EXTA);
  if (!ctx) return;
  if (!handle.extras) fail(Status.EAS_NOT_SUPPORTED);
  try {
    writeEas(handle.extras(), decodeEaList(ctx.data));
  } catch (err) {
    throw eaUnsupported(err);
  }
}

/** Whether the share keeps streams and EAs at all (asked of its root: a POSIX share without xattrs does not). */
export async function keepsExtras(backend: Backend): Promise<boolean> {
  if (!backend.extras) return false;
  try {
    await backend.extras('');
    return true;
  } catch {
    return false;
  }
}
