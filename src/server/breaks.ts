import { Command, HeaderFlags } from '../protocol/constants.js';
import { encodeHeader } from '../protocol/header.js';
import { Status } from '../protocol/status.js';
import { encryptMessage } from '../crypto/index.js';
import type { Open } from './state/open.js';
import type { Connection } from './connection.js';

/**
 * Delivers an oplock break notification ([MS-SMB2] 2.2.23.1, 3.3.4.6). This is the single place breaks
 * reach the wire: today it uses the connection the open was created on, else another channel of its
 * session; the multichannel work adds ack tracking and retry on the next channel here.
 */
export function sendOplockBreak(open: Open, level: number): void {
  const conn = pickChannel(open);
  if (!conn) return;
  const session = open.session;
  const encrypt = session.encryptionKey.length > 0 && (session.encryptData || open.tree.encryptData);
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
  const body = Buffer.alloc(24);
  body.writeUInt16LE(24, 0);
  body[2] = level;
  open.fileIdBytes().copy(body, 8);
  conn.log.debug({ fileId: open.volatileId.toString(), level }, 'oplock break');
  if (encrypt) conn.send(encryptMessage(session.cipherId, session.encryptionKey, session.id, [header, body]));
  else conn.send([header, body]);
}

function pickChannel(open: Open): Connection | undefined {
  if (open.connection && !open.connection.isClosed && open.session.channels.has(open.connection)) return open.connection;
  for (const conn of open.session.channels.keys()) if (!conn.isClosed) return conn;
  return undefined;
}
