import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { connect, type ConnectOptions, type SmbClient } from '../client/client.js';
import { SmbError } from '../client/errors.js';
import type { SmbFile, Tree } from '../client/tree.js';
import { Access, CreateDisposition } from '../protocol/constants.js';
import { Status } from '../protocol/status.js';
import { CliError } from './errors.js';
import { Exit, LocalError, copyFailure, isConnectionFailure } from './exit-status.js';
import { progressReporter, type ProgressSink, type ProgressStream } from './progress.js';
import { isSmbUrl, parseSmbUrl, type SmbUrl } from './smb-url.js';

export interface CopyOptions {
  user: string;
  password: string;
  domain?: string;
  /** Channels wanted in all; extra ones go to the addresses the server advertises. Default 4. */
  channels?: number;
  /** Go on from what the destination already holds instead of starting over. */
  resume?: boolean;
  /** Reconnections after a lost connection, each going on where the last one stopped. Default 3. */
  retries?: number;
  /** Wait before the first retry; doubled for each further one (at most 30 s). Default 1000 ms. */
  retryDelayMs?: number;
  /** Bytes per READ/WRITE (default: 1 MiB or what the server allows) and how many in flight (default 16). */
  chunkSize?: number;
  depth?: number;
  /** For tests: how to connect (defaults to the client's connect). */
  connect?: (o: ConnectOptions) => Promise<SmbClient>;
}

/**
 * Copies one file between this machine and a server, in either direction: whichever of `src`
 * and `dst` is //HOST[:PORT]/SHARE/PATH is the remote side. Throws CliError with the exit
 * status for the kind of failure (exit-status.ts).
 */
export async function copy(src: string, dst: string, o: CopyOptions, out: ProgressStream): Promise<void> {
  const [rs, rd] = [isSmbUrl(src), isSmbUrl(dst)];
  if (rs && rd) throw new CliError('both ends are on a server: copy to a local file first', Exit.USAGE);
  if (!rs && !rd) throw new CliError('neither end is //HOST/SHARE/PATH: one of them must be on a server', Exit.USAGE);
  try {
    if (rs) await download(parseSmbUrl(src), dst, o, out);
    else await upload(src, parseSmbUrl(dst), o, out);
  } catch (e) {
    throw copyFailure(e);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `body` on a fresh connection until it completes; after a failure of the connection (not
 * of a request) it waits, reconnects and runs `body` again, which goes on from where it got to.
 */
async function withReconnect(u: SmbUrl, o: CopyOptions, notes: () => ProgressSink | undefined, body: (c: SmbClient) => Promise<void>): Promise<void> {
  const retries = o.retries ?? 3;
  let delay = o.retryDelayMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    let client: SmbClient | undefined;
    try {
      client = await (o.connect ?? connect)({
        host: u.host,
        port: u.port,
        share: u.share,
        user: o.user,
        password: o.password,
        domain: o.domain,
        channels: o.channels ?? 4,
        connectTimeoutMs: 10_000,
      });
      await body(client);
      // The copy is done; a logoff that fails changes nothing about that.
      await client.close().catch(() => undefined);
      return;
    } catch (e) {
      // Every channel, the first connection among them: a retry starts on fresh ones.
      for (const ch of client?.session.channels.list ?? []) ch.connection.close();
      if (!isConnectionFailure(e) || attempt >= retries) throw e;
      notes()?.note(`connection failed (${(e as Error).message}); retry ${attempt + 1} of ${retries} in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

const local = <T>(p: Promise<T>): Promise<T> => p.catch((e: Error) => Promise.reject(new LocalError(e)));

async function isLocalDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

const remoteBase = (p: string): string => p.split('/').filter(Boolean).pop() ?? '';

async function download(u: SmbUrl, dst: string, o: CopyOptions, out: ProgressStream): Promise<void> {
  if (!remoteBase(u.path)) throw new CliError('the source names a share, not a file', Exit.USAGE);
  const target = dst.endsWith('/') || (await isLocalDir(dst)) ? path.join(dst, remoteBase(u.path)) : dst;
  let fh: FileHandle | undefined;
  let done = 0;
  let progress: ProgressSink | undefined;
  try {
    await withReconnect(u, o, () => progress, async (c) => {
      const f = await c.tree.open(u.path, { access: Access.GENERIC_READ });
      try {
        if (f.info.isDirectory) throw new CliError(`${u.path} is a directory`, Exit.FAILED);
        const size = f.info.size;
        if (!fh) {
          const have = o.resume ? await stat(target).then((s) => s.size, () => -1) : -1;
          if (have > size) throw new CliError(`cannot resume: ${target} (${have} bytes) is larger than ${u.path} (${size} bytes)`, Exit.RESUME);
          fh = await local(open(target, have >= 0 ? 'r+' : 'w'));
          done = Math.max(0, have);
          progress = progressReporter(out, size, done);
          if (done) progress.note(`resuming at byte ${done}`);
        } else if (done > size) {
          throw new CliError(`${u.path} shrank to ${size} bytes during the copy`, Exit.FAILED);
        }
        const channels = () => c.session.channels.alive.length;
        const file = fh;
        await readInOrder(f, done, size, o, async (data, at) => {
          await local(file.write(data, 0, data.length, at));
          done = at + data.length;
          progress!.update(done, channels());
        });
        progress!.finish(done, channels());
      } finally {
        await f.close().catch(() => undefined);
      }
    });
  } finally {
    await fh?.close();
  }
}

/**
 * READs of [from, size) with up to `depth` in flight, handed to `sink` strictly in file order, so
 * that what the sink has written is always one unbroken prefix: the point to resume from.
 */
async function readInOrder(f: SmbFile, from: number, size: number, o: CopyOptions, sink: (data: Buffer, at: number) => Promise<void>): Promise<void> {
  const chunk = o.chunkSize ?? f.maxRead;
  const depth = o.depth ?? 16;
  const queue: Array<{ at: number; len: number; data: Promise<Buffer> }> = [];
  let next = from;
  const issue = () => {
    while (queue.length < depth && next < size) {
      const len = Math.min(chunk, size - next);
      const data = f.read(next, len);
      data.catch(() => undefined); // awaited in order below; a later one's failure must not go unhandled
      queue.push({ at: next, len, data });
      next += len;
    }
  };
  issue();
  while (queue.length) {
    const { at, len, data: pending } = queue.shift()!;
    const data = await pending;
    if (data.length < len) {
      // A short answer (the file shrank, or a server that answers less): keep what came, drop
      // the reads queued behind it and go on from its end, so the sink still sees one prefix.
      if (!data.length) throw new CliError(`the remote file ended at byte ${at}, before its size of ${size}`, Exit.FAILED);
      await Promise.allSettled(queue.map((q) => q.data));
      await sink(data, at);
      return readInOrder(f, at + data.length, size, o, sink);
    }
    issue();
    await sink(data, at);
  }
}

async function upload(src: string, u: SmbUrl, o: CopyOptions, out: ProgressStream): Promise<void> {
  const fh = await local(open(src, 'r'));
  try {
    const st = await local(fh.stat());
    if (st.isDirectory()) throw new CliError(`${src} is a directory`, Exit.USAGE);
    const size = st.size;
    let remotePath: string | undefined;
    /** WRITEs the server acknowledged cover [0, acked): where a retry goes on from. */
    let acked = -1;
    let progress: ProgressSink | undefined;
    await withReconnect(u, o, () => progress, async (c) => {
      remotePath ??= await uploadTarget(c.tree, u.path, path.basename(src));
      const first = acked < 0;
      const f = await c.tree.open(remotePath, {
        access: Access.GENERIC_READ | Access.GENERIC_WRITE,
        // Only a fresh copy truncates: resuming or retrying keeps what is there.
        disposition: first && !o.resume ? CreateDisposition.OVERWRITE_IF : CreateDisposition.OPEN_IF,
      });
      try {
        if (f.info.isDirectory) throw new CliError(`${remotePath} is a directory`, Exit.FAILED);
        let start = 0;
        if (first) {
          if (f.info.size > size) throw new CliError(`cannot resume: ${remotePath} (${f.info.size} bytes) is larger than ${src} (${size} bytes)`, Exit.RESUME);
          // Another run's WRITEs were never more than one window ahead of what it had
          // acknowledged (writeInWindow), so everything below the file's end less a window is there.
          start = o.resume ? Math.max(0, f.info.size - writeWindow(f, o)) : 0;
          progress = progressReporter(out, size, start);
          if (start) progress.note(`resuming at byte ${start}`);
        } else {
          start = Math.min(acked, f.info.size);
        }
        acked = start;
        const channels = () => c.session.channels.alive.length;
        await writeInWindow(f, fh, start, size, o, (prefix) => {
          acked = prefix;
          progress!.update(prefix, channels());
        });
        progress!.finish(size, channels());
      } finally {
        await f.close().catch(() => undefined);
      }
    });
  } finally {
    await fh.close();
  }
}

/** The remote name to write: PATH itself, or PATH/NAME when PATH is the share, ends with / or is a directory. */
async function uploadTarget(tree: Tree, remote: string, name: string): Promise<string> {
  if (!remote || remote.endsWith('/')) return remote + name;
  const st = await tree.stat(remote).catch((e: unknown) => {
    if (e instanceof SmbError && e.status === Status.OBJECT_NAME_NOT_FOUND) return undefined;
    throw e;
  });
  return st?.isDirectory ? `${remote}/${name}` : remote;
}

const writeChunk = (f: SmbFile, o: CopyOptions) => o.chunkSize ?? f.maxWrite;
const writeWindow = (f: SmbFile, o: CopyOptions) => writeChunk(f, o) * (o.depth ?? 16);

/**
 * WRITEs of [from, size) read from `src`, up to `depth` in flight, and never one that would end
 * more than a window (chunk × depth) past the acknowledged prefix. `onPrefix` hears that prefix
 * grow. The window is what makes a later --resume safe: bytes past the prefix may be missing,
 * but never more than a window of them.
 */
async function writeInWindow(f: SmbFile, src: FileHandle, from: number, size: number, o: CopyOptions, onPrefix: (prefix: number) => void): Promise<void> {
  const chunk = writeChunk(f, o);
  const depth = o.depth ?? 16;
  const window = writeWindow(f, o);
  let next = from;
  let prefix = from;
  const doneBeyond = new Map<number, number>();
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const one = async (at: number, len: number) => {
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await local(src.read(buf, 0, len, at));
    if (bytesRead < len) throw new CliError(`the local file shrank during the copy (at byte ${at + bytesRead})`, Exit.LOCAL);
    const wrote = await f.write(at, buf);
    if (wrote !== len) throw new CliError(`the server wrote ${wrote} of ${len} bytes at ${at}`, Exit.FAILED);
    doneBeyond.set(at, at + len);
    while (doneBeyond.has(prefix)) {
      const end = doneBeyond.get(prefix)!;
      doneBeyond.delete(prefix);
      prefix = end;
    }
    onPrefix(prefix);
  };
  for (;;) {
    while (failure === undefined && next < size && inflight.size < depth && Math.min(next + chunk, size) <= prefix + window) {
      const len = Math.min(chunk, size - next);
      const p: Promise<void> = one(next, len)
        .catch((e: unknown) => {
          failure ??= e;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      next += len;
    }
    if (!inflight.size) break;
    await Promise.race(inflight);
  }
  if (failure !== undefined) throw failure;
  if (size === 0) onPrefix(0);
}
