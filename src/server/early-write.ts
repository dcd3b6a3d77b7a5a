/**
 * Large unsigned WRITEs are taken while their data still arrives, and written to the file in
 * pieces as it does (handlers/io.ts), instead of after the frame's last byte.
 *
 * Why: smbclient keeps few WRITEs in flight (two of 8 MiB in a put; in a 1 GiB put traced on
 * 2026-12-05, 111 of 128 WRITEs arrived before the one before them was answered), so a put is a
 * short chain of "client sends 8 MiB, server writes 8 MiB, server answers". Writing the first
 * megabytes to the page cache while the client still sends the rest takes most of the server's
 * pwrite out of that chain. Samba reads the whole WRITE before it starts its pwrite.
 *
 * Only requests whose every check can be made from the header and the WRITE's fixed part: one
 * request (no compound), not encrypted, not signed (a signature covers the data, so nothing may
 * be written before it verifies), on a session and tree that require neither. Dispatch then
 * runs its usual checks on the header; the data's bytes are read only once there.
 *
 * A connection that dies in mid-frame may leave the first pieces of that WRITE in the file. The
 * client was never told the WRITE succeeded; its bytes are the ones it sent, at their offsets,
 * so a replay or a retry writes the same bytes again. No server makes a WRITE atomic.
 */
import { Command, HeaderFlags, PROTOCOL_SMB2, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import type { Connection } from './connection.js';

/** Frames from this size on are taken early: below it the pieces would be too small to gain. */
export const EARLY_WRITE_MIN = 1024 * 1024;
/** The WRITE request's fixed part ([MS-SMB2] 2.2.21). */
const WRITE_FIXED = 48;
const REFUSED_FLAGS = HeaderFlags.SIGNED | HeaderFlags.RELATED_OPERATIONS | HeaderFlags.SERVER_TO_REDIR;
/** SMB3D_NO_EARLY_WRITE=1 in the server's environment takes every WRITE whole, for comparison. */
const ENABLED = process.env.SMB3D_NO_EARLY_WRITE !== '1';

/** Whether to take this frame, of which the first `filled` bytes are in, before it is whole. */
export function takeEarly(conn: Connection, frame: Buffer, filled: number): boolean {
  if (!ENABLED || frame.length < EARLY_WRITE_MIN || filled < SMB2_HEADER_SIZE + WRITE_FIXED || conn.dialect < 0x0202) return false;
  if (frame.readUInt32LE(0) !== PROTOCOL_SMB2 || frame.readUInt16LE(12) !== Command.WRITE) return false;
  if (frame.readUInt32LE(16) & REFUSED_FLAGS || frame.readUInt32LE(20) !== 0) return false;
  const session = conn.server.sessions.get(frame.readBigUInt64LE(40));
  if (!session || !session.isValid || !session.channels.has(conn) || session.signingRequired || session.encryptData) return false;
  const tree = session.trees.get(frame.readUInt32LE(36));
  return tree !== undefined && !tree.encryptData;
}
