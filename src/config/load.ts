import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, InvalidValue } from './errors.js';
import { parseSmbConf, type ConfigEntry, type ConfigSection, type ParsedConfig } from './smbconf.js';
import {
  parseBool,
  parseEncrypt,
  parseFirstPort,
  parseMapToGuest,
  parseProtocol,
  parseSigning,
  parseUserList,
  unquote,
} from './values.js';
import { parseInterfaces } from './interfaces.js';
import { validateShareName } from './share-name.js';
import { defaultPassdbPath, type PathEnv } from './paths.js';
import type { InterfaceSpec, ServerOptions, ShareConfig } from '../server/options.js';

export { ConfigError } from './errors.js';
export type { ParsedConfig, ConfigSection, ConfigEntry } from './smbconf.js';

export async function loadConfigFile(file: string): Promise<ParsedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  return parseSmbConf(text, file);
}

export interface BuildInput {
  config?: ParsedConfig;
  /** `NAME=PATH` from --share: read-write, not guest. */
  shares?: string[];
  port?: number;
  listen?: string[];
  passdb?: string;
  /** For tests: where defaults come from. */
  pathEnv?: PathEnv;
  /** For tests: the host's interfaces, used by `bind interfaces only`. */
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export interface BuiltConfig {
  options: ServerOptions;
  /** Resolved passdb path: --passdb, `smb3d:passdb`, $SMB3D_PASSDB, then the per-user/system default. */
  passdbPath: string;
  /** Non-fatal findings (unknown keys, ignored sections) for the caller to log. */
  warnings: string[];
}

/** Keys we do not interpret here but that other modules read from `globals`. */
const READ_ELSEWHERE = new Set(['smb2 disable oplock break retry', 'smb2 disable lock sequence checking']);

const SHARE_DEFAULT_KEYS = new Set([
  'read only', 'readonly', 'writeable', 'writable', 'write ok', 'guest ok', 'public', 'browseable', 'browsable',
]);

const SPECIAL_SECTIONS = new Set(['homes', 'printers', 'print$']);

interface ShareDefaults {
  readOnly: boolean;
  guestOk: boolean;
  browseable: boolean;
}

export async function buildServerOptions(input: BuildInput): Promise<BuiltConfig> {
  const warnings: string[] = [];
  const cfg = input.config;
  const file = cfg?.file ?? 'smb.conf';
  const options: ServerOptions = { shares: [], multiChannel: true };
  const globals: Record<string, string> = {};
  const defaults: ShareDefaults = { readOnly: true, guestOk: false, browseable: true };
  let configPort: number | undefined;
  let configPassdb: string | undefined;
  let bindInterfacesOnly: ConfigEntry | undefined;
  let interfacesEntry: ConfigEntry | undefined;

  const at = <T>(e: ConfigEntry, parse: (v: string) => T): T => {
    try {
      return parse(e.value);
    } catch (err) {
      if (err instanceof InvalidValue) {
        throw new ConfigError(`${err.detail} for "${e.key}"${err.hint ? ` (${err.hint})` : ''}`, file, e.line);
      }
      throw err;
    }
  };

  for (const e of cfg?.global.entries.values() ?? []) {
    globals[e.key] = e.value;
    switch (e.key) {
      case 'server string':
        // Read from globals by whoever describes the server (srvsvc).
        break;
      case 'netbios name':
        options.serverName = unquote(e.value);
        break;
      case 'workgroup':
        options.workgroup = unquote(e.value);
        break;
      case 'server signing':
        options.signing = at(e, parseSigning);
        break;
      case 'server smb encrypt':
      case 'smb encrypt':
        options.encrypt = at(e, parseEncrypt);
        break;
      case 'server min protocol':
      case 'min protocol':
        options.minProtocol = at(e, parseProtocol);
        break;
      case 'server max protocol':
      case 'max protocol':
      case 'protocol':
        options.maxProtocol = at(e, parseProtocol);
        break;
      case 'smb ports':
        configPort = at(e, parseFirstPort);
        break;
      case 'interfaces':
        options.interfaces = at(e, parseInterfaces);
        interfacesEntry = e;
        break;
      case 'bind interfaces only':
        if (at(e, parseBool)) bindInterfacesOnly = e;
        break;
      case 'server multi channel support':
        options.multiChannel = at(e, parseBool);
        break;
      case 'map to guest': {
        const m = at(e, parseMapToGuest);
        options.mapToGuest = m.value;
        if (m.warning) warnings.push(`${file}:${e.line}: ${m.warning}`);
        break;
      }
      case 'smb3d:passdb':
        configPassdb = unquote(e.value);
        break;
      default:
        if (SHARE_DEFAULT_KEYS.has(e.key)) {
          applyShareFlag(defaults, e, at);
        } else if (!e.key.includes(':') && !READ_ELSEWHERE.has(e.key)) {
          // Parametric options (`smbd:...`, `torture:...`) are read by the modules that own them.
          warnings.push(`${file}:${e.line}: unknown global option "${e.key}" ignored`);
        }
    }
  }
  if (options.minProtocol !== undefined && options.maxProtocol !== undefined && options.minProtocol > options.maxProtocol) {
    const e = cfg!.global.entries.get('server min protocol') ?? cfg!.global.entries.get('min protocol')!;
    throw new ConfigError('"server min protocol" is above "server max protocol"', file, e.line);
  }
  options.globals = globals;

  const names = new Set<string>();
  const addShare = (share: ShareConfig, where: () => ConfigError) => {
    const key = share.name.toLowerCase();
    if (names.has(key)) throw where();
    names.add(key);
    options.shares.push(share);
  };

  for (const section of cfg?.sections ?? []) {
    if (section.name.toLowerCase() === 'global') continue;
    if (SPECIAL_SECTIONS.has(section.name.toLowerCase())) {
      warnings.push(`${file}:${section.line}: section [${section.name}] is not supported and was ignored`);
      continue;
    }
    const share = await buildShare(section, defaults, file, at, warnings);
    addShare(share, () => new ConfigError(`share "${share.name}" defined twice`, file, section.line));
  }

  for (const spec of input.shares ?? []) {
    const share = await shareFromFlag(spec);
    addShare(share, () => new ConfigError(`share "${share.name}" defined twice`, '--share'));
  }

  options.port = input.port ?? configPort ?? 445;
  if (input.listen?.length) {
    options.listen = input.listen;
  } else if (bindInterfacesOnly) {
    options.listen = listenAddresses(options.interfaces ?? [], input.networkInterfaces ?? os.networkInterfaces, warnings);
    if (options.listen.length === 0) {
      const e = interfacesEntry ?? bindInterfacesOnly;
      throw new ConfigError('"bind interfaces only" is set but "interfaces" names no usable address', file, e.line);
    }
  }

  const passdbPath = path.resolve(input.passdb ?? configPassdb ?? defaultPassdbPath(input.pathEnv));
  return { options, passdbPath, warnings };
}

function applyShareFlag(
  target: ShareDefaults,
  e: ConfigEntry,
  at: <T>(e: ConfigEntry, parse: (v: string) => T) => T,
): void {
  switch (e.key) {
    case 'read only':
    case 'readonly':
      target.readOnly = at(e, parseBool);
      break;
    case 'writeable':
    case 'writable':
    case 'write ok':
      target.readOnly = !at(e, parseBool);
      break;
    case 'guest ok':
    case 'public':
      target.guestOk = at(e, parseBool);
      break;
    case 'browseable':
    case 'browsable':
      target.browseable = at(e, parseBool);
      break;
  }
}

async function buildShare(
  section: ConfigSection,
  defaults: ShareDefaults,
  file: string,
  at: <T>(e: ConfigEntry, parse: (v: string) => T) => T,
  warnings: string[],
): Promise<ShareConfig> {
  try {
    validateShareName(section.name);
  } catch (err) {
    if (err instanceof InvalidValue) throw new ConfigError(err.message, file, section.line);
    throw err;
  }
  const flags: ShareDefaults = { ...defaults };
  const share: ShareConfig = { name: section.name, readOnly: true, guestOk: false, browseable: true, encrypt: 'if_required' };
  let pathEntry: ConfigEntry | undefined;
  for (const e of section.entries.values()) {
    switch (e.key) {
      case 'path':
      case 'directory':
        pathEntry = e;
        break;
      case 'comment':
        share.comment = unquote(e.value);
        break;
      case 'smb encrypt':
      case 'server smb encrypt':
        share.encrypt = at(e, parseEncrypt);
        break;
      case 'valid users':
      case 'invalid users': {
        const names = at(e, parseUserList);
        if (e.key === 'valid users') share.validUsers = names;
        else share.invalidUsers = names;
        break;
      }
      default:
        if (SHARE_DEFAULT_KEYS.has(e.key)) applyShareFlag(flags, e, at);
        else warnings.push(`${file}:${e.line}: unknown option "${e.key}" in [${section.name}] ignored`);
    }
  }
  Object.assign(share, flags);
  if (!pathEntry) throw new ConfigError(`share [${section.name}] has no "path"`, file, section.line);
  const problem = await directoryProblem(unquote(pathEntry.value));
  if (problem) throw new ConfigError(`share [${section.name}]: ${problem}`, file, pathEntry.line);
  share.path = path.resolve(unquote(pathEntry.value));
  return share;
}

async function shareFromFlag(spec: string): Promise<ShareConfig> {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new ConfigError(`expected NAME=PATH, got "${spec}"`, '--share');
  const name = spec.slice(0, eq);
  const dir = spec.slice(eq + 1);
  try {
    validateShareName(name);
  } catch (err) {
    if (err instanceof InvalidValue) throw new ConfigError(err.message, '--share');
    throw err;
  }
  const problem = await directoryProblem(dir);
  if (problem) throw new ConfigError(`share "${name}": ${problem}`, '--share');
  return { name, path: path.resolve(dir), readOnly: false, guestOk: false, browseable: true, encrypt: 'if_required' };
}

async function directoryProblem(dir: string): Promise<string | undefined> {
  if (dir === '') return 'empty path';
  try {
    const st = await stat(dir);
    return st.isDirectory() ? undefined : `path ${dir} is not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `path ${dir} does not exist`;
    return `path ${dir} cannot be used: ${code ?? (err as Error).message}`;
  }
}

/** Addresses to bind for `bind interfaces only`: literal addresses as written, interface names expanded. */
function listenAddresses(
  specs: InterfaceSpec[],
  networkInterfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>,
  warnings: string[],
): string[] {
  const nics = networkInterfaces();
  const out: string[] = [];
  for (const spec of specs) {
    const addr = spec.name.split('/')[0]!;
    const nic = nics[spec.name];
    if (nic) {
      for (const a of nic) out.push(a.family === 'IPv6' && a.address.startsWith('fe80:') ? `${a.address}%${spec.name}` : a.address);
    } else if (/^[\d.]+$/.test(addr) || addr.includes(':')) {
      out.push(addr);
    } else {
      warnings.push(`interface "${spec.name}" not found; not listening on it`);
    }
  }
  return [...new Set(out)];
}
