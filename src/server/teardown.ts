import type { Connection } from './connection.js';
import { closeSession } from './lifecycle.js';
import { Command } from '../protocol/constants.js';

/**
 * A connection went away: it stops being a channel of its sessions. A session lives on while another
 * channel remains; with the last channel it ends. Requests still running finish (their responses are
 * dropped), so a replay on another channel sees their real outcome (R8).
 */
export function teardownConnection(conn: Connection): void {
  const server = conn.server;
  server.connections.delete(conn);
  server.deletedSessions.forgetConnection(conn);
  if (conn.client) {
    conn.client.connections.delete(conn);
    if (conn.client.connections.size === 0) server.clients.delete(conn.client.guid);
  }
  for (const session of [...server.sessions.values()]) {
    if (!session.channels.has(conn)) continue;
    session.channels.delete(conn);
    if (session.channels.size === 0) {
      closeSession(server, session).catch((err: unknown) => conn.log.warn({ err }, 'session cleanup failed'));
    }
  }
  // A waiting CHANGE_NOTIFY has nobody to answer; other waiting operations (a CREATE held by a
  // break, a blocking LOCK) keep going while their session lives on another channel, so that
  // a replay there meets the original instead of doing the work twice (R8).
  for (const req of conn.async.values()) {
    if (req.signal.aborted) continue;
    const sessionLives = req.session !== undefined && req.session.channels.size > 0;
    if (!sessionLives || req.header.command === Command.CHANGE_NOTIFY) req.abort.abort();
    else req.session!.orphans.add(req);
  }
}
