import { PassDb, validateUserName } from '../auth/passdb.js';
import { loadConfigFile } from '../config/load.js';
import { unquote } from '../config/values.js';
import type { PathEnv } from '../config/paths.js';
import { defaultPassdbPath } from '../config/paths.js';
import path from 'node:path';
import { CliError } from './errors.js';

/** --passdb, else `smb3d:passdb` from --config, else the default (see PASSDB_DEFAULTS). */
export async function resolvePassdbPath(opts: { passdb?: string; config?: string; pathEnv?: PathEnv }): Promise<string> {
  if (opts.passdb) return path.resolve(opts.passdb);
  if (opts.config) {
    const config = await loadConfigFile(opts.config);
    const e = config.global.entries.get('smb3d:passdb');
    if (e) return path.resolve(unquote(e.value));
  }
  return path.resolve(defaultPassdbPath(opts.pathEnv));
}

export async function userAdd(passdbPath: string, name: string, password: string, warn?: (m: string) => void): Promise<void> {
  try {
    validateUserName(name);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const db = await PassDb.open(passdbPath, { warn });
  await db.add(name, password);
}

export async function userDel(passdbPath: string, name: string): Promise<void> {
  const db = await PassDb.open(passdbPath);
  if (!(await db.remove(name))) throw new CliError(`no user "${name}" in ${passdbPath}`, 1);
}

export async function userList(passdbPath: string): Promise<string[]> {
  return (await PassDb.open(passdbPath)).list();
}
