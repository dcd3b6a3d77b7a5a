import type net from 'node:net';
import type { Logger } from 'pino';
import { TcpTransport, type FileSource } from '../transport/tcp-transport.js';
import { CreditWindow } from './credits.js';
import { MAX_CREDITS, type ServerContext } from './context.js';
import type { Client } from './state/client.js';
import type { Request } from './request.js';
import type { PreauthHash } from '../crypto/index.js';
import { handleFrame } from './dispatch.js';
import { takeEarly } from './early-write.js';
import type { FrameArrival } from '../transport/frame-arrival.js';
import { teardownConnection } from './teardown.js';

/** Frames from this size on are read into pooled buffers. */
const POOLED_FRAME_MIN = 1024 * 1024;

/** What the client said in NEGOTIATE, kept for FSCTL_VALIDATE_NEGOTIATE_INFO. */
export interface NegotiateInfo {
  clientGuid: Buffer;
  securityMode: number;
  capabilities: number;
  dialects: number[];
}

/** One transport connection and its negotiated state ([MS-SMB2] 3.3.1.7 Connection). */
export class Connection {
  readonly id: number;
  readonly transport: TcpTransport;
  readonly log: Logger;
  readonly credits = new CreditWindow(MAX_CREDITS);
  /** 0 until NEGOTIATE succeeded. */
  dialect = 0;
  /** The wildcard 0x02FF response was sent; an SMB2 NEGOTIATE must follow. */
  wildcardSent = false;
  client?: Client;
  negotiate?: NegotiateInfo;
  serverCapabilities = 0;
  serverSecurityMode = 0;
  cipherId = 0;
  signingAlgorithmId = 0;
  /** 3.1.1: hash over NEGOTIATE request and response. */
  preauth?: PreauthHash;
  /** Requests not yet answered, by MessageId (CANCEL of sync requests). */
  readonly pending = new Map<bigint, Request>();
  /** Requests that went async, by AsyncId. */
  readonly async = new Map<bigint, Request>();
  private nextAsyncId = 1n;
  /** Serialises frame processing where order matters (negotiate/session setup) and counts in-flight work. */
  inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Pool buffers handed to the framer, by their memory, until their frame is complete. */
  private readonly pooledFrames = new Map<ArrayBufferLike, Buffer>();
  readonly createdAt = Date.now();

  constructor(
    readonly server: ServerContext,
    socket: net.Socket,
  ) {
    this.id = server.allocateConnectionId();
    const maxFrame = server.options.maxFrameSize ?? server.maxIoSize + 1024 * 1024;
    this.transport = new TcpTransport(socket, maxFrame, {
      onFrame: (frame, arrival) => this.onFrame(frame, arrival),
      earlyFrame: (frame, filled) => takeEarly(this, frame, filled),
      onClose: (reason) => this.onClose(reason),
      allocFrame: (len) => this.allocFrame(len),
    }, { directReads: true });
    this.log = server.logger.child({ conn: this.id, peer: `${this.transport.remoteAddress}:${this.transport.remotePort}` });
    this.log.debug('connection accepted');
  }

  get largeMtu(): boolean {
    return this.dialect >= 0x0210;
  }

  allocateAsyncId(): bigint {
    return this.nextAsyncId++;
  }

  /**
   * Large frames (WRITE data) come from the server's buffer pool: a fresh multi-megabyte Buffer per
   * frame costs a page fault per 4 KiB and garbage collections. The frame goes back to the pool only
   * when dispatch says nothing refers to its bytes any more (see handleFrame); otherwise the GC has it.
   */
  private allocFrame(len: number): Buffer {
    if (len < POOLED_FRAME_MIN) return Buffer.allocUnsafe(len);
    const buf = this.server.bufferPool.acquire(len);
    this.pooledFrames.set(buf.buffer, buf);
    return buf;
  }

  private onFrame(frame: Buffer, arrival?: FrameArrival): void {
    this.inFlight++;
    const pooled = this.pooledFrames.get(frame.buffer);
    if (pooled) this.pooledFrames.delete(frame.buffer);
    const handled = handleFrame(this, frame, arrival);
    // A frame taken early goes back to the pool only once the transport has stopped reading into it.
    const settled = arrival ? handled.then((released) => arrival.done.then(() => released, () => false)) : handled;
    settled
      .then((released) => {
        if (released && pooled) this.server.bufferPool.release(pooled);
      })
      .catch((err: unknown) => {
        this.log.error({ err }, 'request processing failed; dropping connection');
        this.close('internal error');
      })
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  /** Resolves when no request of this connection is being processed. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  sendWithFile(parts: Buffer[], file: FileSource, onSent?: () => void): void {
    this.transport.sendWithFile(parts, file, onSent);
  }

  send(parts: Buffer[], onSent?: () => void): void {
    this.transport.send(parts, onSent);
  }

  close(reason: string, abort = false): void {
    this.transport.close(reason, abort);
  }

  get isClosed(): boolean {
    return this.transport.isClosed;
  }

  private onClose(reason: string): void {
    this.log.debug({ reason }, 'connection closed');
    teardownConnection(this);
  }
}
