import type { Session } from './session.js';
import type { TreeConnect } from './tree.js';
import type { VfsHandle, FileStat } from '../../vfs/types.js';
import type { FileObject, SharingOpen } from '../../locking/share-modes.js';
import type { RpcPipe } from '../../rpc/index.js';
import type { OplockHolder } from '../../locking/oplocks.js';
import type { Lease, LeaseTable } from '../../locking/leases.js';
import type { DurableTable } from '../durable.js';
import type { Connection } from '../connection.js';
import type { NotifyState } from './notify.js';
import type { DelayedWriteTime } from '../write-time.js';
import { ChannelSequence } from '../channel-sequence.js';

/** Directory enumeration cursor kept between QUERY_DIRECTORY requests. */
export interface DirectoryCursor {
  pattern: string;
  /**
   * The names a scan found; an entry gets its stat when a response carries it, so one removed in
   * mid-listing is left out (`.`, `..` and an exact name come with theirs).
   */
  entries: Array<{ name: string; stat?: FileStat }>;
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
  /** The lease this open shares with the client's other opens of the same key ([MS-SMB2] 3.3.1.13). */
  lease?: Lease<Open>;
  /** Where the lease is registered, so closing the last open of a lease drops it. */
  leaseTable?: LeaseTable<Open>;
  /** Set while the open is in the server's durable table. */
  durableTable?: DurableTable<Open>;
  /** The connection the open was created on: where its breaks go first. */
  connection?: Connection;
  /** FilePositionInformation: kept for clients that set and query it. */
  position = 0n;
  /**
   * READs of this open signed or sealed while read (handlers/protected-read.ts) take turns, in
   * arrival order: two side by side would share the event loop and both finish late, where one
   * after the other the first answer leaves early and the client checks it while the second is
   * read. Per open, so that a slow file holds back only its own READs.
   */
  protectedReads: Promise<unknown> = Promise.resolve();
  /** FileModeInformation. */
  mode = 0;
  cursor?: DirectoryCursor;
  notify?: NotifyState;
  /** Windows' delayed write-time update for this handle (src/server/write-time.ts). */
  writeTime?: DelayedWriteTime;
  durable = false;
  /** Durable v2: the client's CreateGuid, for replays and reconnects ([MS-SMB2] 3.3.1.10). */
  createGuid?: Buffer;
  /** How long the open survives its client's disconnection. */
  durableTimeoutMs = 0;
  /** The client went away and the open waits for a reconnect ([MS-SMB2] 3.3.5.9.7). */
  disconnected = false;
  /** Durable v1 or v2, so a reconnect uses the matching context. */
  durableVersion: 1 | 2 = 1;
  /** The ClientGUID of the client that owns the open (lease identity). */
  clientGuid = '';
  /** The user who opened it: only they may reconnect. */
  owner = '';
  /** Create action reported to the original CREATE (replays report it again). */
  createAction = 0;
  /** The last lock sequence (index, number) a LOCK carried; replay detection uses it (multichannel). */
  lockSequences = new Map<number, number>();
  /** The channel sequence barrier (multichannel replays); CREATE sets the starting number. */
  sequence = new ChannelSequence();
  /**
   * WRITEs this open executed and their bytes; replayed WRITEs (SMB2_FLAGS_REPLAY_OPERATION) it
   * received, and those answered without writing because their bytes were already in the file.
   * Logged at debug level when the open closes ("open closed"): how a test proves that no WRITE
   * ran twice after a multichannel failover.
   */
  writes = 0;
  bytesWritten = 0;
  writeReplays = 0;
  writeReplaysSkipped = 0;
  closed = false;
  /** MxAc's answer: the share's maximal access, narrowed by a DACL stored on the file. */
  maximalAccess?: number;
  /** The named stream this open is of, as stored; undefined for the file (or directory) itself. */
  stream?: string;

  constructor(
    readonly persistentId: bigint,
    readonly volatileId: bigint,
    /** Session and tree change when a durable open is reconnected. */
    public session: Session,
    public tree: TreeConnect,
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
