import { CliError } from './errors.js';

export interface SmbUrl {
  host: string;
  port: number;
  share: string;
  /** Inside the share, with / separators; '' for the share's root. */
  path: string;
}

const URL_RE = /^(?:smb:)?[/\\]{2}([^/\\:[\]]+|\[[^\]]+\])(?::(\d+))?[/\\]([^/\\]+)(?:[/\\](.*))?$/;

export const isSmbUrl = (s: string): boolean => /^(?:smb:)?[/\\]{2}/.test(s);

/** //HOST[:PORT]/share[/path] (backslashes and an smb: prefix accepted too). */
export function parseSmbUrl(s: string): SmbUrl {
  const m = URL_RE.exec(s);
  if (!m) throw new CliError(`"${s}" is not //HOST[:PORT]/SHARE/PATH`);
  const port = m[2] ? Number(m[2]) : 445;
  if (!(port > 0 && port < 65536)) throw new CliError(`bad port in "${s}"`);
  const path = (m[4] ?? '').replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, share: m[3]!, path };
}
