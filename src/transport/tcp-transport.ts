import net from 'node:net';
import { closeSocketDup, dupSocket } from '../native/sendfile.js';
import { Framer, FrameError, framePrefix } from './framer.js';
import { AckTracker, type AckOutcome } from './ack-tracker.js';
import { FrameArrival } from './frame-arrival.js';

export interface TransportEvents {
  /** A whole frame; or, with `arrival`, one that earlyFrame asked for while it is still arriving. */
  onFrame(frame: Buffer, arrival?: FrameArrival): void;
  /**
   * A frame is being read and only its first `filled` bytes are in. Returning true hands it to
   * onFrame now, with a FrameArrival that tells how far it has been read, instead of once it is
   * whole: asked again after each read until it says yes or the frame is complete.
   */
  earlyFrame?(frame: Buffer, filled: number): boolean;
  onClose(reason: string): void;
  /** Memory for a frame of `len` bytes that does not arrive in one socket read (a pool); default allocUnsafe. */
  allocFrame?(len: number): Buffer;
}

export interface TransportOptions {
  /**
   * The socket was accepted paused (pauseOnConnect): read it into buffers the framer picks,
   * straight into a large frame where one is being assembled (see userBufferSocket).
   */
  directReads?: boolean;
}

/** The reused buffer for reads that are not straight into a frame. */
const READ_BUFFER_SIZE = 256 * 1024;
/** A frame missing at least this much is read into directly. */
const DIRECT_READ_MIN = 64 * 1024;

/**
 * net.Server gives accepted sockets no `onread` (the option net.connect has), so each read lands in
 * a fresh 64 KiB Buffer which the framer then copies: for large WRITEs, measured here, the receive
 * path runs at ~1.4 GB/s and most of the garbage collections come from it; with reads going into
 * the frame itself, ~4.4-5 GB/s. This moves the handle of a socket accepted paused into a new
 * net.Socket that has `onread` (a documented option; the handle transfer uses net's `_handle` and
 * `_server` fields). Returns undefined where the handle is not what is expected: the caller then
 * reads the old socket as usual.
 */
function userBufferSocket(old: net.Socket, buffer: () => Uint8Array, callback: (n: number, buf: Uint8Array) => boolean): net.Socket | undefined {
  const internal = old as unknown as { _handle?: { useUserBuffer?: unknown } | null; _server?: unknown; server?: unknown };
  const handle = internal._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function' || !old.isPaused()) return undefined;
  internal._handle = null;
  const sock = new net.Socket({ handle, readable: true, writable: true, onread: { buffer, callback } } as net.SocketConstructorOpts);
  // The server counts its connections through the socket's `_server`; the new one closes for both.
  const moved = sock as unknown as { _server?: unknown; server?: unknown };
  moved._server = internal._server;
  moved.server = internal.server;
  internal._server = null;
  return sock;
}

/** The data part of a message sent with sendWithFile. */
export interface FileSource {
  readonly length: number;
  /** Writes all `length` bytes to the (non-blocking) socket; rejects if it cannot. */
  sendTo(socketFd: number, isClosed: () => boolean): Promise<void>;
  /** The message will not be sent (the connection closed first). */
  cancel(): void;
}

/**
 * One TCP connection: framing in, vectored writes out, with flow control both ways.
 * Knows nothing about SMB. Counts the bytes handed to the kernel, which the break-ack logic
 * of multichannel (R6) compares with what the peer has acknowledged.
 */
export class TcpTransport {
  private readonly framer: Framer;
  readonly socket: net.Socket;
  private readonly readBuffer?: Buffer;
  /** The buffer the socket's next read goes to when it is a frame's unfilled rest. */
  private direct?: Buffer;
  private closed = false;
  /** The frame handed out early (earlyFrame) that is still being read. */
  private early?: { frame: Buffer; arrival: FrameArrival };
  /** A sendWithFile is between its header and the end of its data; other sends wait in `held`. */
  private fileSending = false;
  private readonly held: Array<{ parts: Buffer[]; file?: FileSource; onSent?: () => void }> = [];
  /** Application bytes written to the socket so far (prefixes included). */
  bytesWritten = 0;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Which written bytes the peer's TCP has acknowledged (break delivery, R6). */
  readonly ack: AckTracker;

  constructor(
    accepted: net.Socket,
    maxFrameSize: number,
    private readonly events: TransportEvents,
    opts: TransportOptions = {},
  ) {
    const alloc = events.allocFrame ? (len: number) => events.allocFrame!(len) : undefined;
    // With direct reads every read lands in memory reused for the next one: the framer copies
    // frames out of it (also in the fallback, which is rare and only costs copies of small frames).
    this.framer = new Framer(maxFrameSize, alloc, opts.directReads === true);
    let socket: net.Socket | undefined;
    if (opts.directReads) {
      this.readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
      socket = userBufferSocket(
        accepted,
        () => (this.direct = this.framer.directTarget(DIRECT_READ_MIN)) ?? this.readBuffer!,
        (n, buf) => this.receiveRead(n, buf),
      );
    }
    this.socket = socket ?? accepted;
    socket = this.socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.ack = new AckTracker(() => (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (this.socket === accepted) {
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      if (opts.directReads) accepted.resume();
    }
    socket.on('drain', () => {
      if (!this.closed) socket.resume();
    });
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('peer closed'));
    socket.on('end', () => this.close('peer ended'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(chunk: Buffer): void {
    this.deliver(() => this.framer.push(chunk));
  }

  /** A read of `n` bytes into `buf` (the onread socket): a frame's rest, or the shared read buffer. */
  private receiveRead(n: number, buf: Uint8Array): boolean {
    if (buf === this.direct) this.deliver(() => this.framer.filled(n));
    else this.deliver(() => this.framer.push(this.readBuffer!.subarray(0, n)));
    return !this.closed;
  }

  private deliver(frameOut: () => Buffer[]): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = frameOut();
    } catch (err) {
      this.close(err instanceof FrameError ? `framing: ${err.message}` : String(err));
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      if (f === this.early?.frame) {
        // Handed out already: its holder learns that it is whole.
        const { arrival } = this.early;
        this.early = undefined;
        arrival.progress(f.length);
        continue;
      }
      this.events.onFrame(f);
    }
    this.offerEarly();
  }

  private offerEarly(): void {
    const partial = this.events.earlyFrame && !this.closed ? this.framer.partial() : undefined;
    if (!partial) return;
    if (this.early) {
      this.early.arrival.progress(partial.filled);
      return;
    }
    if (!this.events.earlyFrame!(partial.frame, partial.filled)) return;
    const arrival = new FrameArrival(partial.frame.length, partial.filled);
    this.early = { frame: partial.frame, arrival };
    this.events.onFrame(partial.frame, arrival);
  }

  /**
   * Sends one message made of several buffers, without concatenating them. Returns bytes queued.
   * `onSent` runs once the kernel has the bytes (or the socket failed): then the buffers may be reused.
   */
  send(parts: Buffer[], onSent?: () => void): number {
    if (this.closed) {
      onSent?.();
      return 0;
    }
    if (this.fileSending) {
      // A message is going out from a file: nothing may get between its header and its data.
      this.held.push({ parts, onSent });
      return 0;
    }
    let len = 0;
    for (const p of parts) len += p.length;
    const s = this.socket;
    s.cork();
    s.write(framePrefix(len));
    let ok = true;
    for (let i = 0; i < parts.length; i++) ok = s.write(parts[i]!, i === parts.length - 1 && onSent ? () => onSent() : undefined);
    s.uncork();
    this.bytesWritten += len + 4;
    // Stop reading requests while the peer is not reading responses: bounds our memory.
    if (!ok) s.pause();
    return len + 4;
  }

  /**
   * Sends a message whose last `file.length` bytes come from a file (sendfile: no copy through
   * our memory). Later messages wait until it is all in the kernel. If the file cannot deliver
   * every byte, the connection is reset: the peer has a header announcing bytes that never come.
   */
  sendWithFile(parts: Buffer[], file: FileSource, onSent?: () => void): void {
    if (this.closed) {
      file.cancel();
      onSent?.();
      return;
    }
    if (this.fileSending) {
      this.held.push({ parts, file, onSent });
      return;
    }
    void this.runFileSend(parts, file, onSent);
  }

  private async runFileSend(parts: Buffer[], file: FileSource, onSent?: () => void): Promise<void> {
    this.fileSending = true;
    let len = file.length;
    for (const p of parts) len += p.length;
    const s = this.socket;
    const headerOut = new Promise<void>((resolve) => {
      s.cork();
      s.write(framePrefix(len));
      for (let i = 0; i < parts.length; i++) s.write(parts[i]!, i === parts.length - 1 ? () => resolve() : undefined);
      s.uncork();
    });
    this.bytesWritten += len + 4;
    await headerOut;
    const own = this.closed ? undefined : (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const fd = own === undefined || own < 0 ? -1 : dupSocket(own);
    let started = false;
    try {
      if (fd < 0) throw new Error('connection gone before its file data');
      started = true;
      await file.sendTo(fd, () => this.closed);
    } catch (err) {
      if (!started) file.cancel();
      this.close(`sendfile: ${(err as Error).message}`, true);
    } finally {
      closeSocketDup(fd);
    }
    onSent?.();
    this.fileSending = false;
    while (this.held.length && !this.fileSending) {
      const next = this.held.shift()!;
      if (next.file) this.sendWithFile(next.parts, next.file, next.onSent);
      else this.send(next.parts, next.onSent);
    }
  }

  /**
   * Sends a message and resolves when the peer's TCP acknowledged all of it ('acked'), when 6×RTO
   * passed without that ('timeout'), or when the connection ended first ('closed').
   */
  sendAcknowledged(parts: Buffer[]): Promise<AckOutcome> {
    if (this.closed) return Promise.resolve('closed');
    this.send(parts);
    return this.ack.waitFor(this.bytesWritten);
  }

  /**
   * `abort` resets the connection (RST) instead of closing it: a channel given up as dead still has
   * unacknowledged bytes queued, and a FIN would wait behind them; a peer that can still hear us
   * learns at once that the channel is gone and fails what it had pending there.
   */
  close(reason: string, abort = false): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.held.splice(0)) {
      h.file?.cancel();
      h.onSent?.();
    }
    this.ack.close();
    this.early?.arrival.fail(new Error(`connection closed: ${reason}`));
    this.early = undefined;
    if (abort) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.events.onClose(reason);
  }
}
