import type { Open } from './state/open.js';
import type { Session } from './state/session.js';
import type { TreeConnect } from './state/tree.js';
import type { ServerContext } from './context.js';
import { Status } from '../protocol/status.js';
import { afterLastClose } from './stream-files.js';
import { OplockLevel } from '../protocol/constants.js';
import { finishBreak } from '../locking/oplocks.js';
import { LeaseState } from '../locking/leases.js';

/**
 * Closes an open: hands delete-on-close to the file, and removes the file when the last open goes
 * while a delete is pending ([MS-FSA] 2.1.5.4 Server Requests Closing an Open). Returns the status of
 * the delete, if one was attempted and failed.
 */
export async function closeOpen(open: Open): Promise<void> {
  if (open.closed) return;
  open.closed = true;
  if (open.writes || open.writeReplays) {
    open.connection?.log.debug(
      { path: open.path, writes: open.writes, bytes: open.bytesWritten, replays: open.writeReplays, replaysSkipped: open.writeReplaysSkipped },
      'open closed',
    );
  }
  open.session.opens.delete(open.volatileId);
  open.tree.opens.delete(open.volatileId);
  open.durableTable?.remove(open);
  const file = open.file;
  if (open.deleteOnClose && file && !file.deletePending) {
    file.deletePending = true;
    for (const o of file.opens) if (o !== open) o.notify?.failAll(Status.DELETE_PENDING);
  }
  // Whoever waits for this open's break acknowledgement can go on.
  finishBreak(open, OplockLevel.NONE);
  if (open.lease) open.leaseTable?.release(open.lease, open);
  open.notify?.close();
  file?.locks.removeOwner(open);
  await open.writeTime?.close().catch(() => undefined);
  try {
    await open.handle?.close();
  } catch {
    // Closing a descriptor only fails for programming errors; nothing the client can act on.
  }
  if (file) {
    const last = open.tree.share.files.release(file, open);
    if (last) await afterLastClose(open.tree.share, open, file);
  }
}

export async function disconnectTree(tree: TreeConnect): Promise<void> {
  for (const id of [...tree.opens]) {
    const open = tree.session.opens.get(id);
    if (open) await closeOpen(open).catch(() => undefined);
  }
  tree.session.trees.delete(tree.id);
}

/** A durable open survives its session only while it still holds handle caching (batch oplock or H lease). */
export function canStayDurable(open: Open): boolean {
  if (!open.durable || open.closed) return false;
  if (open.lease) return (open.lease.state & LeaseState.HANDLE) !== 0;
  return open.oplockLevel === OplockLevel.BATCH;
}

/**
 * Detaches a durable open from its session: it keeps its file, share mode, locks and caching, and waits
 * for a reconnect until its timeout ([MS-SMB2] 3.3.4.x, 3.3.7.1 durable timer).
 */
function disconnectDurable(server: ServerContext, open: Open): void {
  open.session.opens.delete(open.volatileId);
  open.tree.opens.delete(open.volatileId);
  open.connection = undefined;
  open.notify?.close();
  open.notify = undefined;
  server.durable.disconnect(open, (o) => {
    closeOpen(o).catch(() => undefined);
  });
}

/**
 * Ends a session: its trees and opens go with it ([MS-SMB2] 3.3.4.x session teardown). Durable opens
 * stay behind, disconnected, for a later reconnect; Samba does so on logoff as well as on a lost
 * connection, and smbtorture's durable-open.reopen4 expects it.
 */
export async function closeSession(server: ServerContext, session: Session): Promise<void> {
  session.state = 'expired';
  server.sessions.delete(session.id);
  for (const req of session.orphans) req.abort.abort();
  session.orphans.clear();
  for (const open of [...session.opens.values()]) {
    if (canStayDurable(open)) disconnectDurable(server, open);
  }
  for (const tree of [...session.trees.values()]) await disconnectTree(tree);
  for (const open of [...session.opens.values()]) await closeOpen(open).catch(() => undefined);
  session.channels.clear();
}
