import { parseBool } from '../config/values.js';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerOptions, UserStore } from './options.js';
import { Share } from './shares.js';
import { Session } from './state/session.js';
import { Client } from './state/client.js';
import type { Connection } from './connection.js';
import { BufferPool } from './buffer-pool.js';
import { LeaseTable } from '../locking/leases.js';
import { DurableTable } from './durable.js';
import type { Open } from './state/open.js';
import { DeletedSessions } from './deleted-sessions.js';

export const DEFAULT_MAX_IO = 8 * 1024 * 1024;
export const MAX_CREDITS = 8192;

/**
 * Everything one server instance owns. No module-level mutable state exists outside it,
 * so two servers in one process never see each other.
 */
export class ServerContext {
  readonly serverGuid = randomBytes(16);
  readonly startTime = new Date();
  readonly shares = new Map<string, Share>();
  readonly clients = new Map<string, Client>();
  /** GlobalSessionTable: sessions are looked up here by id, then checked against the connection. */
  readonly sessions = new Map<bigint, Session>();
  readonly connections = new Set<Connection>();
  /** Sessions a failed re-authentication ended, for signing their USER_SESSION_DELETED answers. */
  readonly deletedSessions = new DeletedSessions();
  readonly maxIoSize: number;
  readonly bufferPool = new BufferPool();
  /** Leases by (ClientGUID, LeaseKey) ([MS-SMB2] 3.3.1.4). */
  readonly leases = new LeaseTable<Open>();
  /** Durable opens (kept across disconnects) and CreateGuids for replay. */
  readonly durable = new DurableTable<Open>();
  readonly serverName: string;
  readonly workgroup: string;
  private nextSessionId = 1n;
  private nextFileId = 1n;
  private nextConnectionId = 1;

  constructor(
    readonly options: ServerOptions,
    readonly logger: Logger,
    readonly users: UserStore,
  ) {
    this.maxIoSize = options.maxIoSize ?? DEFAULT_MAX_IO;
    this.serverName = (options.serverName ?? 'SMB3D').toUpperCase();
    this.workgroup = (options.workgroup ?? 'WORKGROUP').toUpperCase();
  }

  addShare(share: Share): void {
    this.shares.set(share.name.toLowerCase(), share);
  }

  findShare(name: string): Share | undefined {
    return this.shares.get(name.toLowerCase());
  }

  /** Session ids are random-looking but unique; 0 and all-ones are reserved on the wire. */
  allocateSessionId(): bigint {
    for (;;) {
      const id = (BigInt(this.nextSessionId++) << 16n) | BigInt(randomBytes(2).readUInt16LE(0));
      if (!this.sessions.has(id) && id !== 0n) return id;
    }
  }

  allocateFileId(): bigint {
    return this.nextFileId++;
  }

  allocateConnectionId(): number {
    return this.nextConnectionId++;
  }

  clientFor(guid: Buffer): Client {
    const key = guid.toString('hex');
    let c = this.clients.get(key);
    if (!c) {
      c = new Client(key);
      this.clients.set(key, c);
    }
    return c;
  }

  globalOption(name: string): string | undefined {
    return this.options.globals?.[name.toLowerCase()];
  }

  /** A yes/no [global] option read where it is used; absent or unparsable counts as no. */
  globalFlag(name: string): boolean {
    const v = this.globalOption(name);
    if (v === undefined) return false;
    try {
      return parseBool(v);
    } catch {
      return false;
    }
  }
}
