import os from 'node:os';
import path from 'node:path';

export interface PathEnv {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  home?: string;
}

export const SYSTEM_PASSDB = '/var/lib/smb3d/passdb';

/**
 * The passdb used when neither --passdb nor `smb3d:passdb` names one:
 * $SMB3D_PASSDB, else /var/lib/smb3d/passdb for root, else
 * $XDG_CONFIG_HOME/smb3d/passdb (~/.config/smb3d/passdb).
 */
export function defaultPassdbPath(p: PathEnv = {}): string {
  const env = p.env ?? process.env;
  if (env.SMB3D_PASSDB) return env.SMB3D_PASSDB;
  const uid = p.uid ?? (typeof process.getuid === 'function' ? process.getuid() : -1);
  if (uid === 0) return SYSTEM_PASSDB;
  const configHome = env.XDG_CONFIG_HOME || path.join(p.home ?? os.homedir(), '.config');
  return path.join(configHome, 'smb3d', 'passdb');
}
