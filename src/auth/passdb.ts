import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { md4 } from 'hash-wasm';
import { ConfigError } from '../config/errors.js';
import type { UserRecord, UserStore } from '../server/options.js';

const HEADER = '# smb3d passdb: one "name:NT-hash" per line (NT hash = MD4 of the UTF-16LE password). Edit with `smb3d user`.';

/** NT one-way function ([MS-NLMP] 3.3.1 NTOWFv1): MD4 of the UTF-16LE password. Node's md4 is gone with OpenSSL 3. */
export async function ntHash(password: string): Promise<Buffer> {
  return Buffer.from(await md4(Buffer.from(password, 'utf16le')), 'hex');
}

const FORBIDDEN_NAME = /[:"/\\[\]|<>+=;,*?@\x00-\x1f\x7f]/;

/** Rejects names that would break the file format or NTLM's DOMAIN\user parsing. */
export function validateUserName(name: string): void {
  if (name === '' || name.trim() !== name) throw new Error(`invalid user name "${name}": empty or surrounded by spaces`);
  if (name.length > 104) throw new Error(`invalid user name "${name}": longer than 104 characters`);
  const bad = FORBIDDEN_NAME.exec(name);
  if (bad) throw new Error(`invalid user name "${name}": contains "${bad[0]}"`);
}

export interface PassDbOptions {
  /** Called with non-fatal findings, e.g. a passdb readable by others. */
  warn?: (message: string) => void;
}

interface FileId {
  ino: number;
  mtimeMs: number;
  size: number;
}

/**
 * The user database: a text file of NT hashes. Names are matched case-insensitively,
 * as Windows does. The file is re-read when it changes on disk, so `smb3d user add`
 * takes effect on a running server without a restart.
 */
export class PassDb implements UserStore {
  private users = new Map<string, UserRecord>();
  private fileId: FileId | undefined;

  private constructor(
    readonly path: string,
    private readonly opts: PassDbOptions,
  ) {}

  /** Opens the database; a missing file is an empty database (created on the first add). */
  static async open(file: string, opts: PassDbOptions = {}): Promise<PassDb> {
    const db = new PassDb(path.resolve(file), opts);
    await db.reload(true);
    return db;
  }

  async get(name: string): Promise<UserRecord | undefined> {
    await this.reloadIfChanged();
    const u = this.users.get(name.toLowerCase());
    return u && { name: u.name, ntHash: Buffer.from(u.ntHash) };
  }

  list(): string[] {
    return [...this.users.values()].map((u) => u.name).sort((a, b) => a.localeCompare(b));
  }

  /** Adds a user or replaces its password. */
  async add(name: string, password: string): Promise<void> {
    validateUserName(name);
    const hash = await ntHash(password);
    await this.reloadIfChanged();
    this.users.set(name.toLowerCase(), { name, ntHash: hash });
    await this.save();
  }

  /** Removes a user; false when there was none. */
  async remove(name: string): Promise<boolean> {
    await this.reloadIfChanged();
    if (!this.users.delete(name.toLowerCase())) return false;
    await this.save();
    return true;
  }

  private async currentId(): Promise<FileId | undefined> {
    try {
      const st = await stat(this.path);
      return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async reloadIfChanged(): Promise<void> {
    const id = await this.currentId();
    if (sameId(id, this.fileId)) return;
    await this.reload(false);
  }

  private async reload(first: boolean): Promise<void> {
    let text: string;
    try {
      const st = await stat(this.path);
      if (first && (st.mode & 0o077) !== 0) {
        this.opts.warn?.(`passdb ${this.path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${this.path}`);
      }
      text = await readFile(this.path, 'utf8');
      this.fileId = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.users = new Map();
      this.fileId = undefined;
      return;
    }
    this.users = parsePassDb(text, this.path);
  }

  /** Temp file + rename, so a reader never sees half a file; mode 0600 because NT hashes are password equivalents. */
  private async save(): Promise<void> {
    const dir = path.dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const body = [HEADER, ...[...this.users.values()].map((u) => `${u.name}:${u.ntHash.toString('hex').toUpperCase()}`)].join('\n') + '\n';
    const tmp = path.join(dir, `.${path.basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(body);
      await fh.chmod(0o600);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    this.fileId = await this.currentId();
  }
}

function sameId(a: FileId | undefined, b: FileId | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

export function parsePassDb(text: string, file: string): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.lastIndexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    const hex = colon < 0 ? '' : line.slice(colon + 1);
    if (!name || !/^[0-9a-fA-F]{32}$/.test(hex)) {
      throw new ConfigError('expected "name:32-hex-digit NT hash"', file, i + 1);
    }
    users.set(name.toLowerCase(), { name, ntHash: Buffer.from(hex, 'hex') });
  }
  return users;
}
