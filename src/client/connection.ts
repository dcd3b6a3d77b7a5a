import net from 'node:net';
import { decodeHeader, encodeHeader } from '../protocol/header.js';
import { Command, HeaderFlags, PROTOCOL_TRANSFORM, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { Framer, framePrefix } from '../transport/framer.js';
import { decryptMessage, encryptMessage, verify, type Signer } from '../crypto/index.js';
import { SmbError } from './errors.js';
import { BufferPool } from '../server/buffer-pool.js';

/** Keys one session uses on one channel: a later multichannel layer gives each channel its own signer. */
export interface ChannelSecurity {
  sessionId: bigint;
  signer?: Signer;
  cipherId: number;
  /** Client-to-server and server-to-client sealing keys (empty when the dialect cannot seal). */
  encryptKey: Buffer;
  decryptKey: Buffer;
  encrypt: boolean;
}

export interface RequestOptions {
  command: number;
  body: Buffer | Buffer[];
  sessionId?: bigint;
  treeId?: number;
  /** Bytes the request moves (READ/WRITE/QUERY length), for the credit charge. */
  payloadSize?: number;
  /** Also accept these statuses as answers (e.g. MORE_PROCESSING_REQUIRED, NO_MORE_FILES). */
  okStatus?: number[];
  /** Sign even without ENCRYPT (the session's last SESSION_SETUP is sent unsigned). */
  noSign?: boolean;
  /**
   * Sign with this key instead of the session's entry on this connection, and leave the response
   * unchecked for the caller: a session bind signs with the session's key, and the server signs
   * its final answer with the new channel's key, which the caller derives only then.
   */
  signWith?: Signer;
  /** ChannelSequence of the request (3.x): bumped by a multichannel client after losing a channel. */
  channelSequence?: number;
  /** SMB2_FLAGS_REPLAY_OPERATION: this request may already have run on a lost channel. */
  replay?: boolean;
  /**
   * Whether the request may be sent again on another channel when its own is lost; default by
   * command (see REPLAYABLE in channels.ts). A CREATE with a durable v2 CreateGuid, a SET_INFO of
   * an idempotent class or a read-only FSCTL says so itself.
   */
  replayable?: boolean;
}

export interface Response {
  status: number;
  flags: number;
  sessionId: bigint;
  treeId: number;
  /** The whole decrypted SMB2 message, header included: offsets in bodies count from its start. */
  msg: Buffer;
  /**
   * Hands `msg`'s memory back for reuse by later frames. Call it only when nothing keeps a view
   * of `msg` (e.g. after copying READ data out); never calling it is always safe.
   */
  release(): void;
}

interface Pending {
  resolve(r: Response): void;
  reject(e: Error): void;
  command: number;
  ok: number[];
  sec?: ChannelSecurity;
  /** The caller verifies the response's signature itself (see RequestOptions.signWith). */
  unchecked: boolean;
  sentAt: number;
  /** The server answered STATUS_PENDING: the real answer may take as long as it likes. */
  async: boolean;
}

const CREDITS_WANTED = 512;
/** ECHO request body: StructureSize 4, Reserved ([MS-SMB2] 2.2.28). */
const ECHO_BODY = Buffer.from([4, 0, 0, 0]);

/**
 * One TCP connection to a server (a channel): framing, MessageIds and credits, signing and sealing
 * with the keys of the session a request belongs to, and matching of (async) responses.
 */
export class Connection {
  // Every frame is copied out of the reused read buffer (see connect()). Large ones (READ
  // responses) come from a pool and go back to it once the reader has copied the data out
  // (Response.release): fresh 1 MiB Buffers cost page faults and GC. Measured together with the
  // reused read buffer: a 64 MiB readFile on loopback went from 431-627 ms to 263-378 ms.
  private readonly pool = new BufferPool(64 * 1024 * 1024);
  private readonly pooled = new WeakSet<ArrayBufferLike>();
  private readonly framer = new Framer(
    16 * 1024 * 1024 + 1024,
    (len) => {
      const b = this.pool.acquire(len);
      if (b.length >= 64 * 1024) this.pooled.add(b.buffer);
      return b;
    },
    true,
  );
  private nextMessageId = 0n;
  private credits = 1;
  private readonly creditWaiters: Array<() => void> = [];
  private readonly pending = new Map<bigint, Pending>();
  private readonly sessions = new Map<bigint, ChannelSecurity>();
  private closedError?: Error;
  /** When bytes last arrived: a channel whose link died shows requests outstanding and no bytes. */
  private lastRx = Date.now();
  /** When the ECHO probe in flight (see probe()) was asked for. */
  private probeAt?: number;
  largeMtu = false;
  dialect = 0;
  /** Observes every NEGOTIATE/SESSION_SETUP message for the 3.1.1 preauth hash. */
  onPreauthMessage?: (msg: Buffer, direction: 'out' | 'in', command: number, status: number) => void;

  private constructor(private readonly sock: net.Socket) {
    this.remoteAddress = sock.remoteAddress ?? '';
    sock.setNoDelay(true);
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new SmbError(Status.CONNECTION_DISCONNECTED, undefined, 'connection closed')));
  }

  /** The server address this channel goes to (kept: a destroyed socket forgets it). */
  readonly remoteAddress: string;

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** `timeoutMs` bounds the TCP handshake: to an address whose link is down, SYNs vanish for minutes. */
  static connect(host: string, port: number, timeoutMs = 0): Promise<Connection> {
    return new Promise((resolve, reject) => {
      // Reads land in one reused buffer (net's `onread`) instead of a fresh 64 KiB Buffer per
      // read: the framer copies every frame out of it anyway, and the allocations and their
      // page faults were most of the client's CPU on large reads.
      let conn: Connection | undefined;
      const readBuf = Buffer.allocUnsafeSlow(1024 * 1024);
      const sock = net.connect({
        host,
        port,
        onread: {
          buffer: readBuf,
          callback: (n: number, buf: Uint8Array) => {
            conn?.onBytes(Buffer.from(buf.buffer, buf.byteOffset, n));
            return true;
          },
        },
      });
      const timer = timeoutMs
        ? setTimeout(() => {
            sock.destroy();
            reject(new SmbError(Status.IO_TIMEOUT, undefined, `connect to ${host}:${port} timed out after ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeListener('error', onError);
        conn = new Connection(sock);
        resolve(conn);
      });
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      sock.once('error', onError);
    });
  }

  addSession(sec: ChannelSecurity): void {
    this.sessions.set(sec.sessionId, sec);
  }

  removeSession(id: bigint): void {
    this.sessions.delete(id);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /**
   * How long requests have waited with nothing arriving: since the later of the last received
   * bytes and the oldest unanswered request that the server has not declared async. 0 when idle.
   * A dropped link does not close a TCP socket for minutes; this is how a client notices sooner.
   */
  stalledMs(now = Date.now()): number {
    let oldest = Infinity;
    for (const p of this.pending.values()) if (!p.async && p.sentAt < oldest) oldest = p.sentAt;
    // A probe counts from when it was asked for, even while it waits for a credit to go out.
    if (this.probeAt !== undefined && this.probeAt < oldest) oldest = this.probeAt;
    if (oldest === Infinity) return 0;
    return Math.max(0, now - Math.max(oldest, this.lastRx));
  }

  /**
   * How long nothing has arrived while every request waiting is one the server declared async
   * (STATUS_PENDING): 0 otherwise. Such a request may rightly take as long as it likes, so its
   * wait is no sign of a dead link; but if the link did die, nothing else would ever tell.
   * The caller probes with an ECHO, whose own wait stalledMs() then measures.
   */
  asyncQuietMs(now = Date.now()): number {
    if (this.pending.size === 0 || this.probeAt !== undefined) return 0;
    for (const p of this.pending.values()) if (!p.async) return 0;
    return Math.max(0, now - this.lastRx);
  }

  /** Sends an ECHO whose answer (or its absence) shows whether the link still carries bytes. */
  probe(): void {
    if (this.probeAt !== undefined) return;
    this.probeAt = Date.now();
    this.request({ command: Command.ECHO, body: ECHO_BODY }).then(
      (r) => r.release(),
      () => undefined, // a dead link fails its requests anyway; the prober only needed the wait
    ).finally(() => (this.probeAt = undefined));
  }

  /** Gives up on the channel: every pending request fails with `e`, and the socket is destroyed. */
  abort(e: Error): void {
    this.fail(e);
  }

  close(): void {
    this.sock.destroy();
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.creditWaiters.splice(0)) w();
    this.sock.destroy();
  }

  private charge(payloadSize: number): number {
    if (!this.largeMtu) return 1;
    return Math.max(1, Math.ceil(payloadSize / 65536));
  }

  private async takeCredits(n: number): Promise<bigint> {
    while (this.credits < n && !this.closedError) {
      // Wait for responses to grant more; the server never lets the window drop to zero with nothing outstanding.
      await new Promise<void>((r) => this.creditWaiters.push(r));
    }
    if (this.closedError) throw this.closedError;
    this.credits -= n;
    const id = this.nextMessageId;
    this.nextMessageId += BigInt(n);
    return id;
  }

  async request(o: RequestOptions): Promise<Response> {
    const charge = this.charge(o.payloadSize ?? 0);
    const messageId = await this.takeCredits(charge);
    const sec = o.sessionId !== undefined ? this.sessions.get(o.sessionId) : undefined;
    const hdr = encodeHeader({
      creditCharge: this.dialect >= 0x0210 ? charge : 0,
      // ChannelSequence is the low half of the Status field in 3.x requests ([MS-SMB2] 2.2.1.2).
      status: this.dialect >= 0x0300 ? (o.channelSequence ?? 0) & 0xffff : 0,
      command: o.command,
      credits: CREDITS_WANTED,
      flags: o.replay && this.dialect >= 0x0300 ? HeaderFlags.REPLAY_OPERATION : 0,
      nextCommand: 0,
      messageId,
      asyncId: 0n,
      treeId: o.treeId ?? 0,
      sessionId: o.sessionId ?? 0n,
      signature: Buffer.alloc(16),
    });
    hdr.writeUInt32LE(0xfeff, 32);
    const pieces = [hdr, ...(Buffer.isBuffer(o.body) ? [o.body] : o.body)];
    let wire: Buffer[];
    if (sec?.encrypt) {
      wire = encryptMessage(sec.cipherId, sec.encryptKey, sec.sessionId, pieces);
    } else {
      const signer = o.signWith ?? (o.noSign ? undefined : sec?.signer);
      if (signer) {
        hdr.writeUInt32LE(hdr.readUInt32LE(16) | HeaderFlags.SIGNED, 16);
        signer.sign(pieces, { messageId, isResponse: false, isCancel: false }).copy(hdr, 48);
      }
      wire = pieces;
    }
    if (o.command === Command.NEGOTIATE || o.command === Command.SESSION_SETUP) this.onPreauthMessage?.(Buffer.concat(pieces), 'out', o.command, 0);
    // The channel may have died while this request waited for credits or was being signed;
    // past this point fail() could no longer reject it, and it would wait forever.
    if (this.closedError) throw this.closedError;
    let size = 0;
    for (const w of wire) size += w.length;
    const result = new Promise<Response>((resolve, reject) => {
      this.pending.set(messageId, { resolve, reject, command: o.command, ok: o.okStatus ?? [], sec, unchecked: !!o.signWith, sentAt: Date.now(), async: false });
    });
    this.sock.cork();
    this.sock.write(framePrefix(size));
    for (const w of wire) this.sock.write(w);
    this.sock.uncork();
    return result;
  }

  private onBytes(d: Buffer): void {
    this.lastRx = Date.now();
    try {
      for (const f of this.framer.push(d)) this.onFrame(f);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  /** Returns a frame's memory to the pool, if the pool gave it (small frames share Node's slab and are not ours to reuse). */
  private releaseFrame(frame: Buffer): void {
    const ab = frame.buffer;
    if (!this.pooled.has(ab)) return;
    this.pooled.delete(ab);
    this.pool.release(Buffer.from(ab, 0, ab.byteLength));
  }

  private onFrame(frame: Buffer): void {
    let msg = frame;
    let wasEncrypted = false;
    if (frame.readUInt32LE(0) === PROTOCOL_TRANSFORM) {
      const sid = frame.readBigUInt64LE(44);
      const sec = this.sessions.get(sid);
      if (!sec) throw new SmbError(Status.USER_SESSION_DELETED, undefined, 'encrypted message for an unknown session');
      msg = decryptMessage(sec.cipherId, sec.decryptKey, frame);
      wasEncrypted = true;
      this.releaseFrame(frame); // decryption wrote the plaintext to a new buffer
    }
    // A decrypted message may hold a compound chain; we never send compounds, but walk it anyway.
    let off = 0;
    for (;;) {
      const next = msg.readUInt32LE(off + 20);
      const one = next ? msg.subarray(off, off + next) : msg.subarray(off);
      // Only a message that is its whole frame can hand the frame back.
      const release = !wasEncrypted && off === 0 && !next ? () => this.releaseFrame(frame) : () => undefined;
      this.onMessage(one, wasEncrypted, release);
      if (!next) break;
      off += next;
    }
  }

  private onMessage(msg: Buffer, wasEncrypted: boolean, release: () => void): void {
    const h = decodeHeader(msg);
    this.credits += h.credits;
    if (h.credits) for (const w of this.creditWaiters.splice(0)) w();
    if (h.messageId === 0xffffffffffffffffn) return; // oplock/lease break notification: we take no oplocks
    const p = this.pending.get(h.messageId);
    if (!p) return;
    if (h.status === Status.PENDING && h.flags & HeaderFlags.ASYNC_COMMAND) {
      p.async = true; // interim: the answer follows, whenever the server has it
      return;
    }
    this.pending.delete(h.messageId);
    if (p.command === Command.NEGOTIATE || (p.command === Command.SESSION_SETUP && h.status !== Status.SUCCESS)) {
      this.onPreauthMessage?.(msg, 'in', p.command, h.status);
    }
    if (p.unchecked) {
      // the caller checks the signature with a key it derives from this very response
    } else if (!wasEncrypted && p.sec?.signer && h.flags & HeaderFlags.SIGNED) {
      if (!verifyResponse(p.sec.signer, msg)) {
        p.reject(new SmbError(Status.ACCESS_DENIED, p.command, 'bad signature on response'));
        return;
      }
    } else if (!wasEncrypted && p.sec?.signer && h.status !== Status.PENDING && p.command !== Command.SESSION_SETUP) {
      p.reject(new SmbError(Status.ACCESS_DENIED, p.command, 'unsigned response on a signed session'));
      return;
    }
    const r: Response = { status: h.status, flags: h.flags, sessionId: h.sessionId, treeId: h.treeId, msg, release };
    if (h.status === Status.SUCCESS || p.ok.includes(h.status)) p.resolve(r);
    else p.reject(new SmbError(h.status, p.command));
  }
}

const ZERO_SIGNATURE = Buffer.alloc(16);

/** Checks a response's signature over views of it with the field zeroed: no copy of READ data. */
export function verifyResponse(signer: Signer, msg: Buffer): boolean {
  const pieces = [msg.subarray(0, 48), ZERO_SIGNATURE, msg.subarray(SMB2_HEADER_SIZE)];
  return verify(signer, pieces, { messageId: msg.readBigUInt64LE(24), isResponse: true, isCancel: false }, msg.subarray(48, 64));
}
