import type { Smb2Header } from '../protocol/header.js';
import type { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import type { Session } from './state/session.js';
import type { TreeConnect } from './state/tree.js';
import type { Open } from './state/open.js';
import { Reader } from '../protocol/reader.js';
import { Command, HeaderFlags, RELATED_FILE_ID } from '../protocol/constants.js';
import type { SequenceTicket } from './channel-sequence.js';
import type { SealedTail, Signer, TailTag } from '../crypto/index.js';
import { channelSigner } from './security.js';
import type { FileSource } from '../transport/tcp-transport.js';
import type { FrameArrival } from '../transport/frame-arrival.js';
import { Status, fail } from '../protocol/status.js';

/** One SMB2 request as a handler sees it: decoded header, body view, and the state it addresses. */
export class Request {
  session?: Session;
  tree?: TreeConnect;
  /** Set by goAsync(). */
  asyncId?: bigint;
  readonly abort = new AbortController();
  /** Response sessionId override (SESSION_SETUP creates the session). */
  responseSessionId?: bigint;
  /** The signer of a session a failed re-authentication deleted, when this signed request names it. */
  deletedSessionSigner?: Signer;
  /** FileId created or used by this request, for the next related request of a compound. */
  resultFileId?: bigint;
  /**
   * Set when the request was taken before its frame was whole (a large unsigned WRITE, see
   * server/early-write.ts): the PDU's bytes past the fixed part may read only after
   * `arrived` said they are in. Offsets are the PDU's (it is the whole frame).
   */
  arrival?: FrameArrival;

  constructor(
    readonly server: ServerContext,
    readonly conn: Connection,
    readonly header: Smb2Header,
    /** The whole PDU (header included): buffer offsets in requests count from the header. */
    readonly pdu: Buffer,
    readonly encrypted: boolean,
    /** Volatile FileId of the previous related request in a compound. */
    readonly relatedFileId: bigint | undefined,
    private readonly onGoAsync: (req: Request) => void,
  ) {}

  /** The request came with others in one compound: their responses go out in one frame. */
  inCompound = false;

  /**
   * The response will go out on its own, neither signed nor sealed ([MS-SMB2] 3.3.4.1.1: only
   * signed requests and sessions that require signing get signed responses), so its bytes need
   * not pass through our memory: a READ can then send its data straight from the file.
   */
  get plainResponse(): boolean {
    if (this.encrypted || this.inCompound || this.header.flags & HeaderFlags.SIGNED || this.deletedSessionSigner) return false;
    const s = this.session;
    return s !== undefined && !s.signingRequired && !s.encryptData && !this.tree?.encryptData;
  }

  /**
   * The signer of this request's response when it goes out alone, signed and not sealed (the
   * dispatcher's maybeSign decides the same way); undefined otherwise. A READ authenticates its
   * data with it while reading (Reply.tailTag).
   */
  get responseSigner(): Signer | undefined {
    if (this.encrypted || this.inCompound || this.deletedSessionSigner) return undefined;
    const s = this.session;
    if (!s || !s.isValid || s.encryptData || this.tree?.encryptData) return undefined;
    if (!(this.header.flags & HeaderFlags.SIGNED) && !s.signingRequired) return undefined;
    return channelSigner(s, this.conn);
  }

  /**
   * The session whose key seals this request's response when it goes out alone and sealed (the
   * dispatcher's choice: an encrypted request, or a session or share that requires encryption);
   * undefined otherwise. A READ seals its data with it while reading (Reply.sealedTail).
   */
  get responseSealer(): Session | undefined {
    const s = this.session;
    if (this.inCompound || !s || !s.isValid || s.encryptionKey.length === 0) return undefined;
    return this.encrypted || s.encryptData || this.tree?.encryptData ? s : undefined;
  }

  /** Resolves once the PDU's first `end` bytes are in memory (at once unless taken early). */
  arrived(end: number): Promise<void> {
    return this.arrival ? this.arrival.waitFor(end) : Promise.resolve();
  }

  /** Bounds-checked reader over the PDU. */
  get r(): Reader {
    return new Reader(this.pdu);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Goes async: an interim STATUS_PENDING response is sent, the final one when the handler resolves. */
  goAsync(): void {
    if (this.asyncId === undefined) this.onGoAsync(this);
  }

  requireSession(): Session {
    return this.session ?? fail(Status.USER_SESSION_DELETED);
  }

  requireTree(): TreeConnect {
    return this.tree ?? fail(Status.NETWORK_NAME_DELETED);
  }

  /** Resolves the 16-byte FileId at `off` (header-relative) to an open of this session and tree. */
  open(off: number): Open {
    const r = this.r;
    let persistent = r.u64(off);
    let volatile = r.u64(off + 8);
    if (persistent === RELATED_FILE_ID && volatile === RELATED_FILE_ID) {
      // Outside a related chain, or when the previous request had no open, the all-ones FileId names nothing.
      if (this.relatedFileId === undefined) fail(Status.FILE_CLOSED, 'related FileId without a previous open');
      volatile = this.relatedFileId;
      persistent = -1n;
    }
    const session = this.requireSession();
    const open = session.opens.get(volatile);
    if (!open || open.closed || (persistent !== -1n && open.persistentId !== persistent)) fail(Status.FILE_CLOSED);
    if (this.tree && open.tree !== this.tree) fail(Status.FILE_CLOSED);
    this.resultFileId = open.volatileId;
    this.admitSequence(open);
    if (open.createGuid) this.server.durable.forgetCreate(open);
    return open;
  }

  /** Counts the request against the open's channel sequence once ([MS-SMB2] 3.3.5.2.10; not before 3.0). */
  private admitSequence(open: Open): void {
    if (this.sequenced || this.conn.dialect < 0x300) return;
    this.sequenced = true;
    const replay = (this.header.flags & HeaderFlags.REPLAY_OPERATION) !== 0;
    const ticket = open.sequence.admit(this.header.status & 0xffff, replay, MODIFYING.has(this.header.command));
    if (ticket) this.sequenceRelease = { open, ticket };
  }

  /**
   * The open's channel sequence moved on since this request was admitted: the client gave up a
   * channel and replays what was outstanding there. A request that had all arrived by then runs
   * on; one taken early whose bytes were still arriving must stop (see handlers/io.ts).
   */
  get sequenceStale(): boolean {
    const held = this.sequenceRelease;
    return held !== undefined && held.open.sequence.isStale(held.ticket);
  }

  /** The request is answered: it no longer holds its open's channel sequence. */
  finish(): void {
    this.session?.orphans.delete(this);
    const held = this.sequenceRelease;
    this.sequenceRelease = undefined;
    if (held) held.open.sequence.release(held.ticket);
  }

  private sequenced = false;
  private sequenceRelease?: { open: Open; ticket: SequenceTicket };
}

/** Requests that a stale channel sequence must not let through ([MS-SMB2] 3.3.5.2.10). */
const MODIFYING = new Set<number>([Command.WRITE, Command.SET_INFO, Command.IOCTL]);

/** What a handler returns; failures are thrown as NtStatusError. */
export interface Reply {
  status?: number;
  /** Response body after the 64-byte header; several buffers avoid copying READ data. */
  body: Buffer | Buffer[];
  /** Called with the encoded response PDU as it will be sent (signed), e.g. for the 3.1.1 pre-auth hash. */
  afterEncode?: (pdu: Buffer[]) => void;
  /** Sign this response with this session even if the dispatcher would not (final SESSION_SETUP). */
  forceSign?: boolean;
  /** Runs once the response has been handed to the transport. */
  afterSend?: () => Promise<void> | void;
  /** Runs once the kernel has taken the response's bytes (or the connection died): buffers may be reused. */
  onSent?: () => void;
  /** The body's buffers belong to this response alone: sealing may overwrite them with ciphertext. */
  bodyOverwritable?: boolean;
  /**
   * AES-GMAC of the body's last buffer, taken on Request.responseSigner while it was read: signing
   * then joins the header to it instead of reading the data again. Ignored where it does not fit.
   */
  tailTag?: TailTag;
  /**
   * The body's last buffer, sealed in place while it was read with Request.responseSealer's key.
   * Where the response is not sealed that way after all, it is restored first.
   */
  sealedTail?: SealedTail;
  /**
   * The response's last bytes come from a file (sendfile), after `body`. Only where
   * Request.plainResponse held; a dispatcher that must sign or seal after all calls `inMemory`.
   */
  file?: FileReply;
}

export interface FileReply extends FileSource {
  /** The same reply with the data read into memory (and the file source given up). */
  inMemory(): Promise<Reply>;
}

export type Handler = (req: Request) => Promise<Reply> | Reply;

export interface CommandSpec {
  name: string;
  handler: Handler;
  /** The fixed StructureSize of the request ([MS-SMB2] 2.2.x); shorter bodies are INVALID_PARAMETER. */
  structureSize: number;
  /** Commands with more than one request layout (OPLOCK_BREAK: oplock 24, lease 36). */
  structureSizes?: readonly number[];
  needsSession: boolean;
  needsTree: boolean;
  /** Requests of a command that needs a session which act on the connection alone (test IOCTLs). */
  sessionless?: (req: Request) => boolean;
  /** State-changing commands take part in channel-sequence checks (multichannel). */
  changesState: boolean;
  /** Bytes of payload for credit charge validation (LARGE_MTU). */
  payloadSize?: (req: Request) => number;
}
