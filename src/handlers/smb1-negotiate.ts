import { Command, HeaderFlags } from '../protocol/constants.js';
import { encodeHeader } from '../protocol/header.js';
import { Status } from '../protocol/status.js';
import { Dialect } from '../server/options.js';
import type { Connection } from '../server/connection.js';
import { wildcardNegotiateBody } from './negotiate.js';

const SMB1_NEGOTIATE = 0x72;

/**
 * An SMB1 NEGOTIATE from a client that can speak SMB2 ([MS-SMB2] 3.3.5.3.1): answer "SMB 2.???" with the
 * wildcard dialect 0x02FF so the client follows with an SMB2 NEGOTIATE, or "SMB 2.002" alone with 2.0.2.
 * Anything else in SMB1 ends the connection: we do not speak SMB1.
 */
export async function handleSmb1Negotiate(conn: Connection, frame: Buffer): Promise<void> {
  if (frame.length < 35 || frame[4] !== SMB1_NEGOTIATE) return conn.close('SMB1 is not supported');
  const byteCount = frame.readUInt16LE(33);
  const bytes = frame.subarray(35, Math.min(frame.length, 35 + byteCount));
  const dialects: string[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes[off] !== 0x02) break;
    const end = bytes.indexOf(0, off + 1);
    if (end < 0) break;
    dialects.push(bytes.subarray(off + 1, end).toString('latin1'));
    off = end + 1;
  }
  const min = conn.server.options.minProtocol ?? Dialect.SMB2_02;
  let dialect: number;
  if (dialects.includes('SMB 2.???')) dialect = Dialect.WILDCARD;
  else if (dialects.includes('SMB 2.002') && min <= Dialect.SMB2_02) dialect = Dialect.SMB2_02;
  else return conn.close('SMB1 negotiate without an SMB2 dialect');

  if (dialect === Dialect.SMB2_02) conn.dialect = Dialect.SMB2_02;
  else conn.wildcardSent = true;
  // The SMB1 request used message id 0; the SMB2 NEGOTIATE that follows uses 1.
  conn.credits.reset(1n, 2n);
  const header = encodeHeader({
    creditCharge: 0,
    status: Status.SUCCESS,
    command: Command.NEGOTIATE,
    credits: 1,
    flags: HeaderFlags.SERVER_TO_REDIR,
    nextCommand: 0,
    messageId: 0n,
    asyncId: 0n,
    treeId: 0,
    sessionId: 0n,
    signature: Buffer.alloc(16),
  });
  conn.send([header, wildcardNegotiateBody(conn, dialect)]);
}
