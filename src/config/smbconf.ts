import { ConfigError } from './errors.js';

export interface ConfigEntry {
  /** Normalised key: lower case, runs of whitespace collapsed to one space. */
  key: string;
  /** Value as written, trimmed; surrounding quotes are kept. */
  value: string;
  /** 1-based line where the entry starts (the first line of a continued entry). */
  line: number;
}

export interface ConfigSection {
  /** Section name as written in its first header (share names keep their case). */
  name: string;
  /** Line of the first header; 0 for the implicit [global] of a file without one. */
  line: number;
  /** Entries by normalised key; a repeated key keeps the last value, as Samba does. */
  entries: Map<string, ConfigEntry>;
}

export interface ParsedConfig {
  file: string;
  global: ConfigSection;
  /** Every section but [global], in order of first appearance. */
  sections: ConfigSection[];
}

export function normaliseKey(key: string): string {
  return key.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Parses Samba's smb.conf syntax. Only the syntax is checked here; what the
 * keys mean is load.ts's business.
 *
 * Samba's rules followed: `;` and `#` start a comment only at the start of a
 * line (a `#` inside a value is data); a trailing backslash continues the line;
 * entries before any header belong to [global]; a section that appears twice
 * is merged.
 */
export function parseSmbConf(text: string, file: string): ParsedConfig {
  const global: ConfigSection = { name: 'global', line: 0, entries: new Map() };
  const byName = new Map<string, ConfigSection>([['global', global]]);
  const sections: ConfigSection[] = [];
  let current = global;

  const physical = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < physical.length; i++) {
    const startLine = i + 1;
    let logical = physical[i]!;
    while (/\\\s*$/.test(logical) && !isComment(logical)) {
      logical = logical.replace(/\\\s*$/, '');
      if (i + 1 >= physical.length) break;
      i++;
      logical += physical[i]!.trimStart();
    }
    const trimmed = logical.trim();
    if (trimmed === '' || isComment(trimmed)) continue;

    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      if (close < 0) throw new ConfigError(`section header without closing "]": ${trimmed}`, file, startLine);
      const rest = trimmed.slice(close + 1).trim();
      if (rest !== '' && !isComment(rest)) {
        throw new ConfigError(`unexpected text after section header: ${rest}`, file, startLine);
      }
      const name = trimmed.slice(1, close).trim();
      if (name === '') throw new ConfigError('empty section name', file, startLine);
      const key = name.toLowerCase();
      let section = byName.get(key);
      if (!section) {
        section = { name, line: startLine, entries: new Map() };
        byName.set(key, section);
        sections.push(section);
      } else if (section === global && global.line === 0) {
        global.line = startLine;
      }
      current = section;
      continue;
    }

    const eq = trimmed.indexOf('=');
    if (eq < 0) throw new ConfigError(`expected "key = value" or "[section]", got: ${trimmed}`, file, startLine);
    const key = normaliseKey(trimmed.slice(0, eq));
    if (key === '') throw new ConfigError('missing key before "="', file, startLine);
    const value = trimmed.slice(eq + 1).trim();
    current.entries.set(key, { key, value, line: startLine });
  }
  return { file, global, sections };
}

function isComment(s: string): boolean {
  const t = s.trimStart();
  return t.startsWith(';') || t.startsWith('#');
}
