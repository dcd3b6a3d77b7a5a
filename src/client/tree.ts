import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { Access, Command, CreateDisposition, CreateOptions, Fsctl, InfoType, IoctlFlags, LockFlags, QueryDirectoryFlags, ShareAccess, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { FileInfoClass } from '../protocol/fscc/constants.js';
import { Status } from '../protocol/status.js';
import { Reader } from '../protocol/reader.js';
import type { Session } from './session.js';
import { decodeInterfaceInfo, type ServerInterface } from './interfaces.js';
import { decodeIdBothDirectory, decodeStatAt, responseBuffer, type DirEntryInfo, type FileStatInfo } from './messages.js';
import { encodeCreateContexts } from '../handlers/create-contexts.js';

export interface OpenOptions {
  access?: number;
  disposition?: number;
  options?: number;
  shareAccess?: number;
  /**
   * Send a durable v2 request (DH2Q) with a fresh CreateGuid, so that the CREATE can be replayed
   * on another channel if its own is lost: the server answers a replay with the open the original
   * made instead of opening again ([MS-SMB2] 3.2.4.3.5, 3.3.5.9.10). Default on SMB 3.x. No
   * oplock or lease is asked for, so the open is not made durable across a disconnect.
   */
  replayable?: boolean;
}

/** SET_INFO classes that set a value: run twice, they leave what running once leaves. */
const IDEMPOTENT_SET_INFO = new Set<number>([
  FileInfoClass.FileBasicInformation,
  FileInfoClass.FileDispositionInformation,
  FileInfoClass.FileDispositionInformationEx,
  FileInfoClass.FilePositionInformation,
  FileInfoClass.FileModeInformation,
  FileInfoClass.FileAllocationInformation,
  FileInfoClass.FileEndOfFileInformation,
]);
/** FSCTLs that change nothing on the server (a copy-chunk may overlap its own source; a pipe transceive is a call). */
const READ_ONLY_FSCTL = new Set<number>([Fsctl.QUERY_NETWORK_INTERFACE_INFO, Fsctl.VALIDATE_NEGOTIATE_INFO, Fsctl.SRV_REQUEST_RESUME_KEY]);

/** SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 ([MS-SMB2] 2.2.13.2.11): Timeout 0 (the server's), no flags, the CreateGuid. */
function durableV2Request(createGuid: Buffer): Buffer {
  const d = Buffer.alloc(32);
  createGuid.copy(d, 16);
  return d;
}

/** One SMB2_LOCK_ELEMENT: `flags` are LockFlags (SHARED or EXCLUSIVE, maybe FAIL_IMMEDIATELY; or UNLOCK). */
export interface LockRange {
  offset: number | bigint;
  length: number | bigint;
  flags: number;
}

export interface TransferOptions {
  /** Bytes per READ/WRITE; default the smaller of 1 MiB and what the server allows. */
  chunkSize?: number;
  /** Requests in flight at once. */
  depth?: number;
  onProgress?: (bytes: number) => void;
}

const toSmbPath = (p: string): string => p.replace(/^[/\\]+/, '').replace(/\//g, '\\');

/** A tree connect: the share-level API of the client. Paths use / or \ and are relative to the share. */
export class Tree {
  constructor(
    readonly session: Session,
    readonly id: number,
  ) {}

  private request(command: number, body: Buffer | Buffer[], extra: { payloadSize?: number; okStatus?: number[]; replayable?: boolean } = {}) {
    return this.session.request({ command, body, treeId: this.id, ...extra });
  }

  async open(path: string, o: OpenOptions = {}): Promise<SmbFile> {
    const name = Buffer.from(toSmbPath(path), 'utf16le');
    const replayable = o.replayable ?? this.session.negotiated.dialect >= 0x0300;
    const contexts = replayable ? encodeCreateContexts([{ name: 'DH2Q', data: durableV2Request(randomBytes(16)) }]) : undefined;
    // Contexts start 8-aligned after the name (the body starts 8-aligned, at 64).
    const contextsAt = 56 + ((Math.max(1, name.length) + 7) & ~7);
    const b = Buffer.alloc(contexts ? contextsAt + contexts.length : 56 + Math.max(1, name.length));
    b.writeUInt16LE(57, 0);
    b.writeUInt32LE(2, 4); // impersonation
    b.writeUInt32LE((o.access ?? Access.GENERIC_READ) >>> 0, 24);
    b.writeUInt32LE(o.shareAccess ?? ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE, 32);
    b.writeUInt32LE(o.disposition ?? CreateDisposition.OPEN, 36);
    b.writeUInt32LE(o.options ?? 0, 40);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 56, 44);
    b.writeUInt16LE(name.length, 46);
    name.copy(b, 56);
    if (contexts) {
      b.writeUInt32LE(SMB2_HEADER_SIZE + contextsAt, 48);
      b.writeUInt32LE(contexts.length, 52);
      contexts.copy(b, contextsAt);
    }
    const r = await this.request(Command.CREATE, b, { replayable });
    const rd = new Reader(r.msg);
    const h = SMB2_HEADER_SIZE;
    return new SmbFile(this, Buffer.from(rd.bytes(h + 64, 16)), decodeStatAt(rd, h + 8, h + 40, h + 56));
  }

  async stat(path: string): Promise<FileStatInfo> {
    const f = await this.open(path, { access: Access.FILE_READ_ATTRIBUTES });
    try {
      return await f.stat();
    } finally {
      await f.close();
    }
  }

  async readdir(path = ''): Promise<DirEntryInfo[]> {
    const d = await this.open(path, { access: Access.FILE_READ_DATA | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE, options: CreateOptions.DIRECTORY_FILE });
    try {
      const out: DirEntryInfo[] = [];
      for (let first = true; ; first = false) {
        const batch = await d.queryDirectory('*', first);
        if (!batch) break;
        out.push(...batch.filter((e) => e.name !== '.' && e.name !== '..'));
      }
      return out;
    } finally {
      await d.close();
    }
  }

  async mkdir(path: string): Promise<void> {
    const d = await this.open(path, { access: Access.FILE_READ_ATTRIBUTES, disposition: CreateDisposition.CREATE, options: CreateOptions.DIRECTORY_FILE });
    await d.close();
  }

  /**
   * Removes a file or an empty directory. The delete is asked for with SET_INFO rather than
   * DELETE_ON_CLOSE, as Windows does: only SET_INFO reports a directory that is not empty
   * (STATUS_DIRECTORY_NOT_EMPTY); a CLOSE answers success and keeps it.
   */
  async rm(path: string): Promise<void> {
    const f = await this.open(path, { access: Access.DELETE | Access.FILE_READ_ATTRIBUTES });
    try {
      await f.setInfo(FileInfoClass.FileDispositionInformation, Buffer.from([1]));
    } finally {
      await f.close();
    }
  }

  async rename(from: string, to: string, replace = false): Promise<void> {
    const f = await this.open(from, { access: Access.DELETE | Access.FILE_READ_ATTRIBUTES });
    try {
      const name = Buffer.from(toSmbPath(to), 'utf16le');
      const info = Buffer.alloc(20 + name.length);
      info[0] = replace ? 1 : 0;
      info.writeUInt32LE(name.length, 16);
      name.copy(info, 20);
      await f.setInfo(FileInfoClass.FileRenameInformation, info);
    } finally {
      await f.close();
    }
  }

  /**
   * The whole file. `into`: a buffer of the file's size to read into (one the caller has touched
   * already, say) instead of a new one.
   */
  async readFile(path: string, o: TransferOptions & { into?: Buffer } = {}): Promise<Buffer> {
    const f = await this.open(path);
    try {
      if (o.into && o.into.length !== f.info.size) throw new Error(`${path} is ${f.info.size} bytes, the buffer to read it into ${o.into.length}`);
      const buf = o.into ?? Buffer.alloc(f.info.size);
      await f.readInto(buf, 0, o);
      return buf;
    } finally {
      await f.close();
    }
  }

  async writeFile(path: string, data: Buffer, o: TransferOptions = {}): Promise<void> {
    const f = await this.open(path, { access: Access.GENERIC_WRITE | Access.GENERIC_READ, disposition: CreateDisposition.OVERWRITE_IF });
    try {
      await f.writeAll(data, 0, o);
    } finally {
      await f.close();
    }
  }

  createReadStream(path: string, o: TransferOptions = {}): Readable {
    const depth = o.depth ?? 8;
    const tree = this;
    let file: SmbFile | undefined;
    let offset = 0;
    const inflight: Array<Promise<Buffer>> = [];
    return new Readable({
      highWaterMark: 4 * 1024 * 1024,
      read: async function (this: Readable) {
        try {
          file ??= await tree.open(path);
          const f = file;
          const chunk = o.chunkSize ?? f.maxRead;
          while (inflight.length < depth && offset < f.info.size) {
            inflight.push(f.read(offset, Math.min(chunk, f.info.size - offset)));
            offset += chunk;
          }
          const next = inflight.shift();
          if (!next) {
            await f.close();
            this.push(null);
            return;
          }
          const data = await next;
          o.onProgress?.(data.length);
          this.push(data);
        } catch (e) {
          this.destroy(e as Error);
        }
      },
      destroy(err, cb) {
        Promise.allSettled(inflight).then(() => (file && !file.closed ? file.close() : undefined)).then(() => cb(err), () => cb(err));
      },
    });
  }

  createWriteStream(path: string, o: TransferOptions = {}): Writable {
    const depth = o.depth ?? 8;
    const opening = this.open(path, { access: Access.GENERIC_WRITE | Access.GENERIC_READ, disposition: CreateDisposition.OVERWRITE_IF });
    opening.catch(() => undefined);
    let offset = 0;
    const inflight = new Set<Promise<void>>();
    let failed: Error | undefined;
    const drainTo = async (n: number) => {
      while (inflight.size > n) await Promise.race(inflight);
      if (failed) throw failed;
    };
    return new Writable({
      highWaterMark: 4 * 1024 * 1024,
      write(chunk: Buffer, _enc, cb) {
        (async () => {
          const f = await opening;
          const size = o.chunkSize ?? f.maxWrite;
          for (let i = 0; i < chunk.length; i += size) {
            await drainTo(depth - 1);
            const piece = chunk.subarray(i, i + size);
            const p = f.write(offset, piece).then(
              () => {
                inflight.delete(p);
                o.onProgress?.(piece.length);
              },
              (e: Error) => {
                inflight.delete(p);
                failed ??= e;
              },
            );
            inflight.add(p);
            offset += piece.length;
          }
        })().then(() => cb(), cb);
      },
      final(cb) {
        (async () => {
          const f = await opening;
          await drainTo(0);
          await f.close();
        })().then(() => cb(), cb);
      },
    });
  }

  /**
   * An FSCTL on the tree ([MS-SMB2] 2.2.31/2.2.32); without a file id it goes to the server
   * (FileId all 0xFF), as FSCTL_QUERY_NETWORK_INTERFACE_INFO must.
   */
  async fsctl(ctlCode: number, input: Buffer = Buffer.alloc(0), maxOutput = 65536, fileId: Buffer = Buffer.alloc(16, 0xff)): Promise<Buffer> {
    const b = Buffer.alloc(56);
    b.writeUInt16LE(57, 0);
    b.writeUInt32LE(ctlCode >>> 0, 4);
    fileId.copy(b, 8);
    b.writeUInt32LE(input.length ? SMB2_HEADER_SIZE + 56 : 0, 24);
    b.writeUInt32LE(input.length, 28);
    b.writeUInt32LE(maxOutput, 44);
    b.writeUInt32LE(IoctlFlags.IS_FSCTL, 48);
    const r = await this.request(Command.IOCTL, input.length ? [b, input] : b, { payloadSize: Math.max(input.length, maxOutput), replayable: READ_ONLY_FSCTL.has(ctlCode) });
    const rd = new Reader(r.msg);
    const h = SMB2_HEADER_SIZE;
    const len = rd.u32(h + 36);
    return len ? rd.bytes(rd.u32(h + 32), len) : Buffer.alloc(0);
  }

  /** The server's interfaces for multichannel (FSCTL_QUERY_NETWORK_INTERFACE_INFO). */
  async queryNetworkInterfaces(): Promise<ServerInterface[]> {
    return decodeInterfaceInfo(await this.fsctl(Fsctl.QUERY_NETWORK_INTERFACE_INFO));
  }

  async disconnect(): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt16LE(4, 0);
    await this.request(Command.TREE_DISCONNECT, b);
  }
}

/** An open handle (FileId) on a tree. */
export class SmbFile {
  closed = false;
  constructor(
    readonly tree: Tree,
    readonly fileId: Buffer,
    readonly info: FileStatInfo,
  ) {}

  private get neg() {
    return this.tree.session.negotiated;
  }
  get maxRead(): number {
    return Math.min(this.neg.maxReadSize, 1024 * 1024);
  }
  get maxWrite(): number {
    return Math.min(this.neg.maxWriteSize, 1024 * 1024);
  }

  private req(command: number, body: Buffer | Buffer[], payloadSize = 0, okStatus?: number[], replayable?: boolean) {
    return this.tree.session.request({ command, body, treeId: this.tree.id, payloadSize, okStatus, replayable });
  }

  private async readResponse(offset: number, length: number) {
    const b = Buffer.alloc(49);
    b.writeUInt16LE(49, 0);
    b[2] = 0x50;
    b.writeUInt32LE(length, 4);
    b.writeBigUInt64LE(BigInt(offset), 8);
    this.fileId.copy(b, 16);
    const r = await this.req(Command.READ, b, length, [Status.END_OF_FILE]);
    if (r.status === Status.END_OF_FILE) return { data: Buffer.alloc(0), release: r.release };
    const off = r.msg[SMB2_HEADER_SIZE + 2]!;
    const len = r.msg.readUInt32LE(SMB2_HEADER_SIZE + 4);
    return { data: r.msg.subarray(off, off + len), release: r.release };
  }

  /** The bytes at `offset`: a view of the response, which stays valid as long as it is held. */
  async read(offset: number, length: number): Promise<Buffer> {
    return (await this.readResponse(offset, length)).data;
  }

  /** Reads into `dest` at `at` and lets the response's memory be reused; returns the bytes read. */
  async readTo(dest: Buffer, at: number, offset: number, length: number): Promise<number> {
    const { data, release } = await this.readResponse(offset, length);
    data.copy(dest, at);
    release();
    return data.length;
  }

  async write(offset: number, data: Buffer): Promise<number> {
    const b = Buffer.alloc(48);
    b.writeUInt16LE(49, 0);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 48, 2);
    b.writeUInt32LE(data.length, 4);
    b.writeBigUInt64LE(BigInt(offset), 8);
    this.fileId.copy(b, 16);
    const r = await this.req(Command.WRITE, [b, data], data.length);
    return r.msg.readUInt32LE(SMB2_HEADER_SIZE + 4);
  }

  /** Fills `buf` from `offset` with up to `depth` READs in flight. */
  readInto(buf: Buffer, offset: number, o: TransferOptions = {}): Promise<void> {
    return inChunks(buf.length, o.chunkSize ?? this.maxRead, o, (at, len) => this.readTo(buf, at, offset + at, len));
  }

  writeAll(data: Buffer, offset: number, o: TransferOptions = {}): Promise<void> {
    return inChunks(data.length, o.chunkSize ?? this.maxWrite, o, async (at, len) => {
      await this.write(offset + at, data.subarray(at, at + len));
      return len;
    });
  }

  /**
   * LOCK ([MS-SMB2] 2.2.26): takes or releases byte ranges. A blocking lock (no FAIL_IMMEDIATELY)
   * resolves only when the server grants it.
   */
  async lock(ranges: LockRange[], lockSequence = 0): Promise<void> {
    const b = Buffer.alloc(24 + 24 * ranges.length);
    b.writeUInt16LE(48, 0);
    b.writeUInt16LE(ranges.length, 2);
    b.writeUInt32LE(lockSequence >>> 0, 4);
    this.fileId.copy(b, 8);
    ranges.forEach((r, i) => {
      b.writeBigUInt64LE(BigInt(r.offset), 24 + 24 * i);
      b.writeBigUInt64LE(BigInt(r.length), 32 + 24 * i);
      b.writeUInt32LE(r.flags, 40 + 24 * i);
    });
    await this.req(Command.LOCK, b);
  }

  unlock(offset: number | bigint, length: number | bigint): Promise<void> {
    return this.lock([{ offset, length, flags: LockFlags.UNLOCK }]);
  }

  async queryDirectory(pattern: string, restart: boolean): Promise<DirEntryInfo[] | undefined> {
    const name = Buffer.from(pattern, 'utf16le');
    const b = Buffer.alloc(32 + name.length);
    b.writeUInt16LE(33, 0);
    b[2] = FileInfoClass.FileIdBothDirectoryInformation;
    b[3] = restart ? QueryDirectoryFlags.RESTART_SCANS : 0;
    this.fileId.copy(b, 8);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 32, 24);
    b.writeUInt16LE(name.length, 26);
    b.writeUInt32LE(65536, 28);
    name.copy(b, 32);
    const r = await this.req(Command.QUERY_DIRECTORY, b, 65536, [Status.NO_MORE_FILES]);
    if (r.status === Status.NO_MORE_FILES) return undefined;
    return decodeIdBothDirectory(responseBuffer(r.msg, 2, 4));
  }

  async queryInfo(infoType: number, infoClass: number, outputLength = 4096): Promise<Buffer> {
    const b = Buffer.alloc(40);
    b.writeUInt16LE(41, 0);
    b[2] = infoType;
    b[3] = infoClass;
    b.writeUInt32LE(outputLength, 4);
    this.fileId.copy(b, 24);
    const r = await this.req(Command.QUERY_INFO, b, outputLength);
    return responseBuffer(r.msg, 2, 4);
  }

  async stat(): Promise<FileStatInfo> {
    const buf = await this.queryInfo(InfoType.FILE, FileInfoClass.FileNetworkOpenInformation, 56);
    return decodeStatAt(new Reader(buf), 0, 32, 48);
  }

  async setInfo(infoClass: number, data: Buffer, infoType: number = InfoType.FILE): Promise<void> {
    const b = Buffer.alloc(32);
    b.writeUInt16LE(33, 0);
    b[2] = infoType;
    b[3] = infoClass;
    b.writeUInt32LE(data.length, 4);
    b.writeUInt16LE(SMB2_HEADER_SIZE + 32, 8);
    this.fileId.copy(b, 16);
    await this.req(Command.SET_INFO, [b, data], 0, undefined, infoType === InfoType.FILE && IDEMPOTENT_SET_INFO.has(infoClass));
  }

  /**
   * CHANGE_NOTIFY on a directory handle: the server answers STATUS_PENDING at once and the real
   * answer when something changes, so this resolves only then. `filter` is a FILE_NOTIFY_CHANGE_* mask.
   */
  async changeNotify(filter = 0x17f, recursive = false): Promise<Array<{ action: number; name: string }>> {
    const b = Buffer.alloc(32);
    b.writeUInt16LE(32, 0);
    b.writeUInt16LE(recursive ? 1 : 0, 2);
    b.writeUInt32LE(65536, 4);
    this.fileId.copy(b, 8);
    b.writeUInt32LE(filter, 24);
    const r = await this.req(Command.CHANGE_NOTIFY, b, 65536, [Status.NOTIFY_ENUM_DIR]);
    const buf = responseBuffer(r.msg, 2, 4);
    const rd = new Reader(buf);
    const out: Array<{ action: number; name: string }> = [];
    for (let off = 0; buf.length; ) {
      out.push({ action: rd.u32(off + 4), name: rd.utf16(off + 12, rd.u32(off + 8)) });
      const next = rd.u32(off);
      if (!next) break;
      off += next;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const b = Buffer.alloc(24);
    b.writeUInt16LE(24, 0);
    this.fileId.copy(b, 8);
    await this.req(Command.CLOSE, b);
  }
}

/** Runs `io` over [0, total) in `chunk`-sized pieces with `depth` of them in flight: that is what fills the pipe. */
async function inChunks(total: number, chunk: number, o: TransferOptions, io: (at: number, len: number) => Promise<number>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const at = next;
      next += chunk;
      const done = await io(at, Math.min(chunk, total - at));
      o.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: o.depth ?? 8 }, worker));
}
