// Hand-built SMB packets for robustness tests. Deliberately independent of src/protocol:
// the tests must not share a codec bug with the server they test.
import net from 'node:net';

export const SMB2_MAGIC = Buffer.from([0xfe, 0x53, 0x4d, 0x42]);
export const SMB2_HEADER_SIZE = 64;

export const Smb2Command = { NEGOTIATE: 0, SESSION_SETUP: 1, ECHO: 13 } as const;

/** Direct-TCP framing [MS-SMB2] 2.1: one zero byte, then a 24-bit big-endian length. */
export function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length, 0);
  if (len[0] !== 0) throw new Error('payload too large for a direct-TCP frame');
  return Buffer.concat([len, payload]);
}

export interface Smb2HeaderFields {
  command: number;
  messageId?: bigint;
  creditCharge?: number;
  creditRequest?: number;
  flags?: number;
  sessionId?: bigint;
  treeId?: number;
}

/** Sync SMB2 header [MS-SMB2] 2.2.1.2. */
export function smb2Header(h: Smb2HeaderFields): Buffer {
  const b = Buffer.alloc(SMB2_HEADER_SIZE);
  SMB2_MAGIC.copy(b, 0);
  b.writeUInt16LE(SMB2_HEADER_SIZE, 4);
  b.writeUInt16LE(h.creditCharge ?? 0, 6);
  b.writeUInt32LE(0, 8); // status / channel sequence
  b.writeUInt16LE(h.command, 12);
  b.writeUInt16LE(h.creditRequest ?? 1, 14);
  b.writeUInt32LE(h.flags ?? 0, 16);
  b.writeUInt32LE(0, 20); // next command
  b.writeBigUInt64LE(h.messageId ?? 0n, 24);
  b.writeUInt32LE(0xfeff, 32); // process id
  b.writeUInt32LE(h.treeId ?? 0, 36);
  b.writeBigUInt64LE(h.sessionId ?? 0n, 40);
  return b; // signature left zero
}

export interface NegotiateFields {
  dialects: number[];
  /** Overrides DialectCount (to lie about it). */
  dialectCount?: number;
  securityMode?: number;
  capabilities?: number;
  clientGuid?: Buffer;
}

/** SMB2 NEGOTIATE request body [MS-SMB2] 2.2.3, without negotiate contexts (so no 3.1.1). */
export function smb2NegotiateBody(n: NegotiateFields): Buffer {
  const b = Buffer.alloc(36 + 2 * n.dialects.length);
  b.writeUInt16LE(36, 0);
  b.writeUInt16LE(n.dialectCount ?? n.dialects.length, 2);
  b.writeUInt16LE(n.securityMode ?? 1, 4);
  b.writeUInt32LE(n.capabilities ?? 0, 8);
  (n.clientGuid ?? Buffer.alloc(16, 0x5a)).copy(b, 12);
  n.dialects.forEach((d, i) => b.writeUInt16LE(d, 36 + 2 * i));
  return b;
}

export function smb2Negotiate(n: NegotiateFields, messageId = 0n): Buffer {
  return frame(Buffer.concat([smb2Header({ command: Smb2Command.NEGOTIATE, messageId }), smb2NegotiateBody(n)]));
}

/** SMB1 NEGOTIATE [MS-CIFS] 2.2.4.52.1 offering the given dialect strings. */
export function smb1Negotiate(dialects: string[]): Buffer {
  const header = Buffer.alloc(32);
  Buffer.from([0xff, 0x53, 0x4d, 0x42]).copy(header, 0);
  header[4] = 0x72; // SMB_COM_NEGOTIATE
  header[9] = 0x18; // flags: case-insensitive, canonicalized paths
  header.writeUInt16LE(0xc853, 10); // flags2: unicode, NT status, extended security, long names
  header.writeUInt16LE(0xfeff, 26); // pid
  const names = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d, 'latin1'), Buffer.from([0])])));
  const params = Buffer.alloc(3);
  params[0] = 0; // WordCount
  params.writeUInt16LE(names.length, 1); // ByteCount
  return frame(Buffer.concat([header, params, names]));
}

export interface ParsedSmb2 {
  command: number;
  status: number;
  flags: number;
  messageId: bigint;
  credits: number;
  body: Buffer;
}

export function parseSmb2(payload: Buffer): ParsedSmb2 {
  if (payload.length < SMB2_HEADER_SIZE || !payload.subarray(0, 4).equals(SMB2_MAGIC)) {
    throw new Error(`not an SMB2 message: ${payload.subarray(0, 16).toString('hex')}`);
  }
  return {
    command: payload.readUInt16LE(12),
    status: payload.readUInt32LE(8),
    credits: payload.readUInt16LE(14),
    flags: payload.readUInt32LE(16),
    messageId: payload.readBigUInt64LE(24),
    body: payload.subarray(SMB2_HEADER_SIZE),
  };
}

export interface NegotiateResponse {
  structureSize: number;
  securityMode: number;
  dialect: number;
  serverGuid: Buffer;
  capabilities: number;
  maxTransactSize: number;
  maxReadSize: number;
  maxWriteSize: number;
}

/** SMB2 NEGOTIATE response body [MS-SMB2] 2.2.4 (fixed part). */
export function parseNegotiateResponse(body: Buffer): NegotiateResponse {
  if (body.length < 64) throw new Error(`NEGOTIATE response body too short: ${body.length}`);
  return {
    structureSize: body.readUInt16LE(0),
    securityMode: body.readUInt16LE(2),
    dialect: body.readUInt16LE(4),
    serverGuid: body.subarray(8, 24),
    capabilities: body.readUInt32LE(24),
    maxTransactSize: body.readUInt32LE(28),
    maxReadSize: body.readUInt32LE(32),
    maxWriteSize: body.readUInt32LE(36),
  };
}

/**
 * A raw TCP conversation: send bytes, then take whole frames as they come, or notice
 * that the server closed. Never throws on socket errors: a reset is a form of closing.
 */
export class RawConnection {
  private buf = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private closedFlag = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const len = this.buf.readUInt32BE(0) & 0xffffff;
        if (this.buf.length < 4 + len) break;
        this.frames.push(this.buf.subarray(4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
      }
      this.wake();
    });
    const closed = () => {
      this.closedFlag = true;
      this.wake();
    };
    sock.on('close', closed);
    sock.on('end', closed);
    sock.on('error', closed);
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 5_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.setNoDelay(true);
        resolve(new RawConnection(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  send(b: Buffer): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForChange(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The next frame; undefined when the server closed first or the time ran out. */
  async nextFrame(timeoutMs = 5_000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.closedFlag || Date.now() >= deadline) return undefined;
      await this.waitForChange(deadline);
    }
  }

  /** Either a frame or the close, whichever comes first. */
  async outcome(timeoutMs = 5_000): Promise<{ frame?: Buffer; closed: boolean; timedOut: boolean }> {
    const f = await this.nextFrame(timeoutMs);
    return { frame: f, closed: this.closedFlag, timedOut: !f && !this.closedFlag };
  }

  /** Resolves true once the server has closed, false when the time runs out first. */
  async waitClosed(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag && Date.now() < deadline) await this.waitForChange(deadline);
    return this.closedFlag;
  }

  destroy(): void {
    this.sock.destroy();
  }
}
