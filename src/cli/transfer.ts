import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { connect } from '../client/client.js';
import { SmbError } from '../client/errors.js';
import { CliError } from './errors.js';

export interface SmbUrl {
  host: string;
  port: number;
  share: string;
  path: string;
}

/** //HOST[:PORT]/share/path (backslashes accepted too). */
export function parseSmbUrl(s: string): SmbUrl {
  const m = /^(?:smb:)?[/\\]{2}([^/\\:]+|\[[^\]]+\])(?::(\d+))?[/\\]([^/\\]+)[/\\](.+)$/.exec(s);
  if (!m) throw new CliError(`"${s}" is not //HOST[:PORT]/share/path`);
  const port = m[2] ? Number(m[2]) : 445;
  if (!(port > 0 && port < 65536)) throw new CliError(`bad port in "${s}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, share: m[3]!, path: m[4]!.replace(/\\/g, '/') };
}

export interface TransferIO {
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Bytes and rate: rewritten in place on a terminal, a line per 10% otherwise. */
function progress(io: TransferIO, total: number): { add(n: number): void; done(): void } {
  const t0 = Date.now();
  let bytes = 0;
  let lastLine = -1;
  let lastDraw = 0;
  const line = () => {
    const s = Math.max(0.001, (Date.now() - t0) / 1000);
    const pct = total ? ` ${Math.floor((bytes * 100) / total)}%` : '';
    return `${bytes} bytes${pct} ${(bytes / 1e6 / s).toFixed(1)} MB/s`;
  };
  return {
    add(n) {
      bytes += n;
      if (io.stderr.isTTY) {
        if (Date.now() - lastDraw > 100) {
          lastDraw = Date.now();
          io.stderr.write(`\r${line()}\x1b[K`);
        }
      } else if (total) {
        const tenth = Math.floor((bytes * 10) / total);
        if (tenth !== lastLine) {
          lastLine = tenth;
          io.stderr.write(`${line()}\n`);
        }
      }
    },
    done() {
      io.stderr.write(io.stderr.isTTY ? `\r${line()}\x1b[K\n` : `done: ${line()}\n`);
    },
  };
}

export interface TransferOptions {
  user: string;
  password: string;
  domain?: string;
}

function asCliError(e: unknown): never {
  if (e instanceof SmbError) throw new CliError(e.statusName + (e.message.includes(':') ? ` (${e.message.split(': ').slice(1).join(': ')})` : ''), 1);
  if ((e as NodeJS.ErrnoException)?.code) throw new CliError((e as Error).message, 1);
  throw e;
}

export async function get(remote: string, local: string, o: TransferOptions, io: TransferIO): Promise<void> {
  const u = parseSmbUrl(remote);
  try {
    const c = await connect({ host: u.host, port: u.port, share: u.share, user: o.user, password: o.password, domain: o.domain });
    try {
      const size = (await c.tree.stat(u.path)).size;
      const p = progress(io, size);
      await pipeline(c.tree.createReadStream(u.path, { onProgress: p.add }), createWriteStream(local));
      p.done();
    } finally {
      await c.close();
    }
  } catch (e) {
    asCliError(e);
  }
}

export async function put(local: string, remote: string, o: TransferOptions, io: TransferIO): Promise<void> {
  const u = parseSmbUrl(remote);
  try {
    const size = (await stat(local)).size;
    const c = await connect({ host: u.host, port: u.port, share: u.share, user: o.user, password: o.password, domain: o.domain });
    try {
      const p = progress(io, size);
      await pipeline(createReadStream(local, { highWaterMark: 1 << 20 }), c.tree.createWriteStream(u.path, { onProgress: p.add }));
      p.done();
    } finally {
      await c.close();
    }
  } catch (e) {
    asCliError(e);
  }
}
