import type { Session } from './session.js';
import type { TreeConnect } from './tree.js';
import type { VfsHandle, DirEntry } from '../../vfs/types.js';
import type { FileObject, SharingOpen } from '../../locking/share-modes.js';
import type { RpcPipe } from '../../rpc/index.js';
import type { OplockHolder } from '../../locking/oplocks.js';
import type { Connection } from '../connection.js';
import type { NotifyState } from './notify.js';

/** Directory enumeration cursor kept between QUERY_DIRECTORY requests. */
export interface DirectoryCursor {
  pattern: string;
  entries: DirEntry[];
  next: number;
}

/** An open file, directory or pipe ([MS-SMB2] 3.3.1.10 Open). */
export class Open implements SharingOpen, OplockHolder {
  handle?: VfsHandle;
  pipe?: RpcPipe;
  file?: FileObject<Open>;
  deleteOnClose = false;
  oplockLevel = 0;
  breaking?: OplockHolder['breaking'];
  /** The connection the open was created on: where its breaks go first. */
  connection?: Connection;
  /** FilePositionInformation: kept for clients that set and query it. */
  position = 0n;
  /** FileModeInformation. */
  mode = 0;
  cursor?: DirectoryCursor;
  notify?: NotifyState;
  durable = false;
  /** The last lock sequence (index, number) a LOCK carried; replay detection uses it (multichannel). */
  lockSequences = new Map<number, number>();
  closed = false;

  constructor(
    readonly persistentId: bigint,
    readonly volatileId: bigint,
    readonly session: Session,
    readonly tree: TreeConnect,
    /** On-disk share-relative path. */
    public path: string,
    /** Name as the client opened it (for FileNameInformation). */
    public fileName: string,
    readonly isDirectory: boolean,
    readonly grantedAccess: number,
    readonly shareAccess: number,
    readonly createOptions: number,
  ) {}

  fileIdBytes(): Buffer {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(this.persistentId, 0);
    b.writeBigUInt64LE(this.volatileId, 8);
    return b;
  }
}
