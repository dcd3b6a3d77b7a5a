import type { Logger } from 'pino';
import type { Backend } from '../vfs/types.js';

/** SMB2 dialect revision numbers ([MS-SMB2] 2.2.3). */
export const Dialect = {
  SMB2_02: 0x0202,
  SMB2_10: 0x0210,
  SMB3_00: 0x0300,
  SMB3_02: 0x0302,
  SMB3_11: 0x0311,
  /** The wildcard answered to an SMB1 negotiate that offers "SMB 2.???". */
  WILDCARD: 0x02ff,
} as const;
export type DialectNumber = (typeof Dialect)[Exclude<keyof typeof Dialect, 'WILDCARD'>];
export const ALL_DIALECTS: DialectNumber[] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

/** `smb encrypt` / `server smb encrypt` values, normalised. */
export type EncryptSetting = 'off' | 'if_required' | 'desired' | 'required';
/** `server signing` values, normalised: 'default' is Samba's (required only for a DC). */
export type SigningSetting = 'disabled' | 'auto' | 'mandatory';

export interface ShareConfig {
  name: string;
  /** Local directory; ignored when backend is given. */
  path?: string;
  /** A custom backend for embedding applications. */
  backend?: Backend;
  comment?: string;
  readOnly: boolean;
  guestOk: boolean;
  browseable: boolean;
  encrypt: EncryptSetting;
  /** `valid users`: when set, only these accounts (case-insensitive) may connect. */
  validUsers?: string[];
  /** `invalid users`: these accounts may never connect, whatever else says. */
  invalidUsers?: string[];
}

export interface UserRecord {
  name: string;
  /** MD4 of the UTF-16LE password. */
  ntHash: Buffer;
}

/** Where accounts come from: the passdb file, or an application's own store. */
export interface UserStore {
  get(name: string): Promise<UserRecord | undefined>;
}

export interface InterfaceSpec {
  /** Interface name or address as written in `interfaces`. */
  name: string;
  ifIndex?: number;
  speed?: number;
  capabilities?: ('RSS' | 'RDMA')[];
}

export interface ServerOptions {
  shares: ShareConfig[];
  users?: UserStore;
  /** TCP port, 445 by default. 0 picks a free one (see SmbServer.addresses()). */
  port?: number;
  /** Addresses to listen on; default all IPv4 and IPv6 ('::' with dual stack, else '0.0.0.0'). */
  listen?: string[];
  serverName?: string;
  workgroup?: string;
  signing?: SigningSetting;
  /** Global encryption (`server smb encrypt`), applied to every share on top of its own. */
  encrypt?: EncryptSetting;
  minProtocol?: DialectNumber;
  maxProtocol?: DialectNumber;
  multiChannel?: boolean;
  interfaces?: InterfaceSpec[];
  /** Map unknown users and failed logins to guest where a share allows it ("map to guest = bad user"). */
  mapToGuest?: 'never' | 'bad_user';
  /** Largest SMB2 frame accepted (bytes after the 4-byte length). */
  maxFrameSize?: number;
  /** Largest read/write/transact size advertised (LARGE_MTU), 8 MiB by default. */
  maxIoSize?: number;
  logger?: Logger;
  /** Every [global] key as written (lower-cased), for options that are read where they are used. */
  globals?: Record<string, string>;
}
