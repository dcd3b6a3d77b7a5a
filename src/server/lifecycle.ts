import type { Open } from './state/open.js';
import type { Session } from './state/session.js';
import type { TreeConnect } from './state/tree.js';
import type { ServerContext } from './context.js';
import { NtStatusError, Status } from '../protocol/status.js';
import { OplockLevel } from '../protocol/constants.js';
import { finishBreak } from '../locking/oplocks.js';

/**
 * Closes an open: hands delete-on-close to the file, and removes the file when the last open goes
 * while a delete is pending ([MS-FSA] 2.1.5.4 Server Requests Closing an Open). Returns the status of
 * the delete, if one was attempted and failed.
 */
export async function closeOpen(open: Open): Promise<void> {
  if (open.closed) return;
  open.closed = true;
  open.session.opens.delete(open.volatileId);
  open.tree.opens.delete(open.volatileId);
  const file = open.file;
  if (open.deleteOnClose && file) file.deletePending = true;
  // Whoever waits for this open's break acknowledgement can go on.
  finishBreak(open, OplockLevel.NONE);
  open.notify?.close();
  file?.locks.removeOwner(open);
  try {
    await open.handle?.close();
  } catch {
    // Closing a descriptor only fails for programming errors; nothing the client can act on.
  }
  if (file) {
    const last = open.tree.share.files.release(file, open);
    const backend = open.tree.share.backend;
    if (last && file.deletePending && backend) {
      try {
        if (open.isDirectory) await backend.rmdir(file.path);
        else await backend.unlink(file.path);
      } catch (err) {
        if (!(err instanceof NtStatusError) || err.status !== Status.OBJECT_NAME_NOT_FOUND) throw err;
      }
    }
  }
}

export async function disconnectTree(tree: TreeConnect): Promise<void> {
  for (const id of [...tree.opens]) {
    const open = tree.session.opens.get(id);
    if (open) await closeOpen(open).catch(() => undefined);
  }
  tree.session.trees.delete(tree.id);
}

/** Ends a session: its trees and opens go with it ([MS-SMB2] 3.3.4.x session teardown). */
export async function closeSession(server: ServerContext, session: Session): Promise<void> {
  session.state = 'expired';
  server.sessions.delete(session.id);
  for (const tree of [...session.trees.values()]) await disconnectTree(tree);
  for (const open of [...session.opens.values()]) await closeOpen(open).catch(() => undefined);
  session.channels.clear();
}
