import { InvalidValue } from './errors.js';
import { Dialect, type DialectNumber, type EncryptSetting, type SigningSetting } from '../server/options.js';

/** Removes one pair of surrounding double quotes, which Samba tolerates around string values. */
export function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

const TRUE = new Set(['yes', 'true', '1', 'on']);
const FALSE = new Set(['no', 'false', '0', 'off']);

/**
 * A user list (`valid users = alice, bob`): names split on commas and blanks, quotes allowed.
 * Samba's @group and +group entries need Unix groups, which smb3d's accounts do not have.
 */
export function parseUserList(value: string): string[] {
  const names = value
    .split(/[\s,]+/)
    .map((n) => unquote(n))
    .filter((n) => n.length > 0);
  const group = names.find((n) => /^[@+&]/.test(n));
  if (group) throw new InvalidValue(`group entries such as "${group}" are not supported; list user names`);
  return names;
}

export function parseBool(value: string): boolean {
  const v = unquote(value).trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new InvalidValue(`unknown boolean value "${value}"`);
}

/**
 * The spellings Samba (4.17) accepts for `server smb encrypt` / `smb encrypt`.
 * `default` is if_required for a file server: encryption is offered, never forced.
 */
const ENCRYPT: Record<string, EncryptSetting> = {
  default: 'if_required',
  if_required: 'if_required',
  auto: 'if_required',
  yes: 'if_required',
  true: 'if_required',
  '1': 'if_required',
  on: 'if_required',
  enabled: 'if_required',
  off: 'off',
  no: 'off',
  false: 'off',
  '0': 'off',
  disabled: 'off',
  desired: 'desired',
  required: 'required',
  mandatory: 'required',
  force: 'required',
};

export function parseEncrypt(value: string): EncryptSetting {
  const v = ENCRYPT[unquote(value).trim().toLowerCase()];
  if (!v) throw new InvalidValue(`unknown encryption setting "${value}"`, 'use off, if_required, desired or required');
  return v;
}

/**
 * `server signing`. SMB2 always allows signing, so Samba's off/if_required/desired
 * only differ for SMB1; for us they all mean "sign when the client asks".
 */
const SIGNING: Record<string, SigningSetting> = {
  default: 'auto',
  auto: 'auto',
  if_required: 'auto',
  desired: 'auto',
  yes: 'auto',
  true: 'auto',
  '1': 'auto',
  on: 'auto',
  enabled: 'auto',
  no: 'disabled',
  false: 'disabled',
  '0': 'disabled',
  off: 'disabled',
  disabled: 'disabled',
  required: 'mandatory',
  mandatory: 'mandatory',
  force: 'mandatory',
  forced: 'mandatory',
  enforced: 'mandatory',
};

export function parseSigning(value: string): SigningSetting {
  const v = SIGNING[unquote(value).trim().toLowerCase()];
  if (!v) throw new InvalidValue(`unknown signing setting "${value}"`, 'use auto, mandatory or disabled');
  return v;
}

/** Samba's protocol names; bare SMB2/SMB3 select SMB2_10/SMB3_11 as Samba's do. */
const PROTOCOLS: Record<string, DialectNumber> = {
  smb2_02: Dialect.SMB2_02,
  smb2_10: Dialect.SMB2_10,
  smb2: Dialect.SMB2_10,
  smb3_00: Dialect.SMB3_00,
  smb3_02: Dialect.SMB3_02,
  smb3_11: Dialect.SMB3_11,
  smb3: Dialect.SMB3_11,
};
const SMB1_PROTOCOLS = new Set(['core', 'coreplus', 'lanman1', 'lanman2', 'nt1']);

export function parseProtocol(value: string): DialectNumber {
  const v = unquote(value).trim().toLowerCase();
  const d = PROTOCOLS[v];
  if (d !== undefined) return d;
  if (SMB1_PROTOCOLS.has(v)) {
    throw new InvalidValue(`protocol "${value}" is not supported`, 'smb3d speaks SMB2_02 to SMB3_11 only');
  }
  throw new InvalidValue(`unknown protocol "${value}"`, 'use SMB2_02, SMB2_10, SMB3_00, SMB3_02 or SMB3_11');
}

/** `smb ports = 445 139`: the first port is the one we listen on. */
export function parseFirstPort(value: string): number {
  const first = unquote(value).trim().split(/[\s,]+/)[0] ?? '';
  return parsePort(first);
}

export function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidValue(`invalid port "${text}"`);
  const n = Number(text);
  if (n > 65535) throw new InvalidValue(`invalid port "${text}"`, '0-65535');
  return n;
}

export type MapToGuest = 'never' | 'bad_user';

export function parseMapToGuest(value: string): { value: MapToGuest; warning?: string } {
  const v = unquote(value).trim().toLowerCase().replace(/\s+/g, ' ');
  if (v === 'never') return { value: 'never' };
  if (v === 'bad user') return { value: 'bad_user' };
  if (v === 'bad password' || v === 'bad uid') {
    return { value: 'bad_user', warning: `"map to guest = ${value}" is treated as "bad user"` };
  }
  throw new InvalidValue(`unknown value "${value}"`, 'use never or bad user');
}
