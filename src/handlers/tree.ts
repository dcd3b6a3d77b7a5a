import { HeaderFlags, ShareFlags, ShareType, SMB2_HEADER_SIZE, FILE_ALL_ACCESS } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { TreeConnect } from '../server/state/tree.js';
import { disconnectTree } from '../server/lifecycle.js';
import type { Reply, Request } from '../server/request.js';

/** FILE_GENERIC_READ | FILE_GENERIC_EXECUTE: what a read-only share grants at most. */
export const READ_ONLY_MAXIMAL_ACCESS = 0x001200a9;

/** TREE_CONNECT ([MS-SMB2] 2.2.9, 3.3.5.7). */
export async function treeConnect(req: Request): Promise<Reply> {
  const { server, conn } = req;
  const session = req.requireSession();
  const r = req.r;
  const b = SMB2_HEADER_SIZE;
  const pathOffset = r.u16(b + 4);
  const pathLength = r.u16(b + 6);
  const path = r.utf16(pathOffset, pathLength);
  const parts = path.split('\\').filter((p) => p.length > 0);
  if (parts.length !== 2 || !path.startsWith('\\\\')) fail(Status.BAD_NETWORK_NAME, `bad share path ${path}`);
  const share = server.findShare(parts[1]!);
  if (!share) fail(Status.BAD_NETWORK_NAME, `no share ${parts[1]}`);

  const identity = session.identity!;
  // [MS-SMB2] 3.3.5.7: on 3.1.1 a user's TREE_CONNECT must be signed or sealed, whatever the
  // session's signing says, so that a man in the middle cannot strip encryption off the share.
  const signedOrSealed = req.encrypted || (req.header.flags & HeaderFlags.SIGNED) !== 0;
  if (conn.dialect === 0x0311 && !identity.isGuest && !identity.isAnonymous && !signedOrSealed) {
    conn.close('unsigned TREE_CONNECT on 3.1.1');
    fail(Status.ACCESS_DENIED, 'unsigned TREE_CONNECT on 3.1.1');
  }
  if ((identity.isGuest || identity.isAnonymous) && !share.isIpc && !share.config.guestOk) {
    fail(Status.ACCESS_DENIED, 'share does not allow guests');
  }
  if (!share.isIpc && !userMayConnect(share.config, identity.isGuest || identity.isAnonymous ? '' : identity.user)) fail(Status.ACCESS_DENIED, `${identity.user} may not use ${share.config.name}`);
  let shareFlags: number = ShareFlags.MANUAL_CACHING;
  let encryptData = false;
  if (!share.isIpc && conn.dialect >= 0x0300) {
    const shareEnc = share.config.encrypt;
    const globalEnc = server.options.encrypt ?? 'if_required';
    const required = shareEnc === 'required' || globalEnc === 'required';
    const desired = required || shareEnc === 'desired' || globalEnc === 'desired';
    const canEncrypt = session.encryptionKey.length > 0;
    if (required && (!canEncrypt || !req.encrypted)) fail(Status.ACCESS_DENIED, 'share requires an encrypted connection');
    if (desired && canEncrypt) {
      shareFlags |= ShareFlags.ENCRYPT_DATA;
      encryptData = true;
    }
  } else if (!share.isIpc && share.config.encrypt === 'required') {
    fail(Status.ACCESS_DENIED, 'share requires SMB3 encryption');
  }
  const maximalAccess = share.isIpc ? FILE_ALL_ACCESS : share.config.readOnly ? READ_ONLY_MAXIMAL_ACCESS : FILE_ALL_ACCESS;
  const tree = new TreeConnect(session.allocateTreeId(), session, share, maximalAccess, encryptData);
  session.trees.set(tree.id, tree);
  req.tree = tree;
  req.header.treeId = tree.id;
  conn.log.debug({ share: share.name, tree: tree.id }, 'tree connected');

  const w = new Writer();
  w.u16(16).u8(share.isIpc ? ShareType.PIPE : ShareType.DISK).u8(0);
  w.u32(shareFlags).u32(0).u32(maximalAccess);
  return { body: w.toBuffer() };
}

/** TREE_DISCONNECT ([MS-SMB2] 2.2.11, 3.3.5.8). */
export async function treeDisconnect(req: Request): Promise<Reply> {
  await disconnectTree(req.requireTree());
  const b = Buffer.alloc(4);
  b.writeUInt16LE(4, 0);
  return { body: b };
}

/** ECHO ([MS-SMB2] 2.2.28). */
export function echo(): Reply {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(4, 0);
  return { body: b };
}

/** `valid users` / `invalid users`, compared without case as Windows account names are. */
function userMayConnect(config: { validUsers?: string[]; invalidUsers?: string[] }, user: string): boolean {
  const u = user.toLowerCase();
  if (config.invalidUsers?.some((n) => n.toLowerCase() === u)) return false;
  return !config.validUsers || config.validUsers.some((n) => n.toLowerCase() === u);
}
