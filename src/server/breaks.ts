import { Command, HeaderFlags } from '../protocol/constants.js';
import { encodeHeader } from '../protocol/header.js';
import { Status } from '../protocol/status.js';
import { encryptMessage } from '../crypto/index.js';
import type { BreakSender } from '../locking/oplocks.js';
import type { Lease, LeaseBreakNotice } from '../locking/leases.js';
import type { Open } from './state/open.js';
import type { Connection } from './connection.js';
import type { Session } from './state/session.js';
import type { AckOutcome } from '../transport/ack-tracker.js';

/**
 * Delivers oplock ([MS-SMB2] 2.2.23.1, 3.3.4.6) and lease ([MS-SMB2] 2.2.23.2, 3.3.4.7) break
 * notifications. This is the single place breaks reach the wire.
 *
 * A break counts as delivered only once the peer's TCP acknowledged it (R6). Candidates are the
 * client's live channels, oldest first: a channel that does not acknowledge within 6×RTO is torn
 * down and the break is sent again on the next one, so a client whose first link died silently
 * still hears the break on a link that works, instead of the contending open waiting out the
 * 35-second break timeout. `smb2 disable oplock break retry = yes` gives Windows' behaviour for
 * oplocks: one attempt, on the session's newest channel. Lease breaks are always retried; they
 * belong to the client, not to one session.
 */
export const sendOplockBreak: BreakSender<Open> = Object.assign(
  (open: Open, level: number): void => {
    if (open.disconnected) return;
    const body = Buffer.alloc(24);
    body.writeUInt16LE(24, 0);
    body[2] = level;
    open.fileIdBytes().copy(body, 8);
    void deliver({
      body,
      treeEncrypts: open.tree.encryptData,
      log: { fileId: open.volatileId.toString(), level },
      what: 'oplock break',
      candidates: () => sessionChannels(open.session),
    });
  },
  { lease: sendLeaseBreak },
);

function sendLeaseBreak(lease: Lease<Open>, notice: LeaseBreakNotice): void {
  const body = Buffer.alloc(44);
  body.writeUInt16LE(44, 0);
  body.writeUInt16LE(lease.version === 2 ? notice.epoch & 0xffff : 0, 2);
  body.writeUInt32LE(notice.ackRequired ? 1 : 0, 4);
  lease.key.copy(body, 8);
  body.writeUInt32LE(notice.from, 24);
  body.writeUInt32LE(notice.to, 28);
  const encrypts = [...lease.opens].some((o) => !o.closed && o.tree.encryptData);
  void deliver({
    body,
    treeEncrypts: encrypts,
    log: { lease: lease.key.toString('hex'), from: notice.from, to: notice.to },
    what: 'lease break',
    candidates: () => leaseChannels(lease),
  });
}

/** A channel a break may go out on, with the session whose keys encrypt it. */
interface Target {
  conn: Connection;
  session: Session;
}

interface Delivery {
  body: Buffer;
  treeEncrypts: boolean;
  log: Record<string, unknown>;
  what: 'oplock break' | 'lease break';
  /** Evaluated before each attempt: channels come and go while a break is under way. */
  candidates: () => Target[];
}

export type DeliveryResult = 'acked' | 'undelivered';

async function deliver(d: Delivery): Promise<DeliveryResult> {
  const all = d.candidates();
  if (all.length === 0) return 'undelivered';
  if (d.what === 'oplock break' && all[0]!.conn.server.globalFlag('smb2 disable oplock break retry')) {
    const newest = all.at(-1)!;
    const outcome = await attempt(newest, d);
    return outcome === 'acked' ? 'acked' : 'undelivered';
  }
  let last: Target | undefined;
  for (;;) {
    const next = d.candidates().find((t) => t.conn.id > (last?.conn.id ?? -1));
    if (!next) {
      last?.conn.log.warn(d.log, `${d.what} not acknowledged on any channel`);
      return 'undelivered';
    }
    last = next;
    const outcome = await attempt(next, d);
    if (outcome === 'acked') return 'acked';
    if (outcome === 'timeout') {
      next.conn.log.info(d.log, `${d.what} not acknowledged within 6×RTO: channel given up, retrying on the next`);
      next.conn.close('break not acknowledged within 6×RTO', true);
    }
  }
}

function attempt(t: Target, d: Delivery): Promise<AckOutcome> {
  t.conn.log.debug({ ...d.log, channel: t.conn.id }, d.what);
  return t.conn.transport.sendAcknowledged(notification(t.session, d.treeEncrypts, d.body));
}

function notification(session: Session, treeEncrypts: boolean, body: Buffer): Buffer[] {
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
  return encrypt ? encryptMessage(session.cipherId, session.encryptionKey, session.id, [header, body]) : [header, body];
}

/** The session's live channels, oldest first. */
function sessionChannels(session: Session): Target[] {
  const out: Target[] = [];
  for (const conn of session.channels.keys()) if (!conn.isClosed) out.push({ conn, session });
  return out.sort((a, b) => a.conn.id - b.conn.id);
}

/** Live channels of every session that holds an open of the lease, oldest first, each once. */
function leaseChannels(lease: Lease<Open>): Target[] {
  const byConn = new Map<Connection, Target>();
  for (const open of lease.opens) {
    if (open.closed || open.disconnected) continue;
    for (const t of sessionChannels(open.session)) if (!byConn.has(t.conn)) byConn.set(t.conn, t);
  }
  return [...byConn.values()].sort((a, b) => a.conn.id - b.conn.id);
}
