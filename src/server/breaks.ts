import { Command, HeaderFlags } from '../protocol/constants.js';
import { encodeHeader } from '../protocol/header.js';
import { Status } from '../protocol/status.js';
import { encryptMessage } from '../crypto/index.js';
import type { BreakSender } from '../locking/oplocks.js';
import type { Lease, LeaseBreakNotice } from '../locking/leases.js';
import type { Open } from './state/open.js';
import type { Connection } from './connection.js';
import type { Session } from './state/session.js';

/**
 * Delivers oplock ([MS-SMB2] 2.2.23.1, 3.3.4.6) and lease ([MS-SMB2] 2.2.23.2, 3.3.4.7) break notifications.
 * This is the single place breaks reach the wire: today it uses the connection the open was created on,
 * else another channel of its session; the multichannel work adds ack tracking and retry on the next
 * channel here.
 */
export const sendOplockBreak: BreakSender<Open> = Object.assign(
  (open: Open, level: number): void => {
    const conn = pickChannel(open);
    if (!conn) return;
    const body = Buffer.alloc(24);
    body.writeUInt16LE(24, 0);
    body[2] = level;
    open.fileIdBytes().copy(body, 8);
    conn.log.debug({ fileId: open.volatileId.toString(), level }, 'oplock break');
    sendNotification(conn, open.session, open.tree.encryptData, body);
  },
  { lease: sendLeaseBreak },
);

function sendLeaseBreak(lease: Lease<Open>, notice: LeaseBreakNotice): void {
  // A lease belongs to the client, not to one open: any open of it with a live channel will do.
  for (const open of lease.opens) {
    if (open.closed || open.disconnected) continue;
    const conn = pickChannel(open);
    if (!conn) continue;
    const body = Buffer.alloc(44);
    body.writeUInt16LE(44, 0);
    body.writeUInt16LE(lease.version === 2 ? notice.epoch & 0xffff : 0, 2);
    body.writeUInt32LE(notice.ackRequired ? 1 : 0, 4);
    lease.key.copy(body, 8);
    body.writeUInt32LE(notice.from, 24);
    body.writeUInt32LE(notice.to, 28);
    conn.log.debug({ lease: lease.key.toString('hex'), from: notice.from, to: notice.to }, 'lease break');
    sendNotification(conn, open.session, open.tree.encryptData, body);
    return;
  }
}

function sendNotification(conn: Connection, session: Session, treeEncrypts: boolean, body: Buffer): void {
  const encrypt = session.encryptionKey.length > 0 && (session.encryptData || treeEncrypts);
  const header = encodeHeader({
    creditCharge: 0,
    status: Status.SUCCESS,
    command: Command.OPLOCK_BREAK,
    credits: 0,
    flags: HeaderFlags.SERVER_TO_REDIR,
    nextCommand: 0,
    messageId: 0xffffffffffffffffn,
    asyncId: 0n,
    treeId: 0,
    sessionId: encrypt ? session.id : 0n,
    signature: Buffer.alloc(16),
  });
  if (encrypt) conn.send(encryptMessage(session.cipherId, session.encryptionKey, session.id, [header, body]));
  else conn.send([header, body]);
}

function pickChannel(open: Open): Connection | undefined {
  if (open.disconnected) return undefined;
  if (open.connection && !open.connection.isClosed && open.session.channels.has(open.connection)) return open.connection;
  for (const conn of open.session.channels.keys()) if (!conn.isClosed) return conn;
  return undefined;
}
