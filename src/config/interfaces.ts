import { InvalidValue } from './errors.js';
import type { InterfaceSpec } from '../server/options.js';

/**
 * Parses Samba's `interfaces` list: items separated by spaces or commas; an item
 * is an interface name, an address or address/mask, optionally followed by
 * `;key=value,key=value` with keys if_index, speed and capability (RSS or RDMA).
 * Items carrying options are quoted, because the options themselves use commas:
 *   interfaces = "eth0;if_index=65,speed=1000000000,capability=RSS" lo
 * Unquoted, Samba's tokenizer would split at those commas; we glue such
 * `key=value` fragments back onto the item before them, since an interface
 * name never contains "=".
 */
export function parseInterfaces(value: string): InterfaceSpec[] {
  const items: string[] = [];
  for (const token of tokenize(value)) {
    const prev = items.length - 1;
    if (token.includes('=') && !token.includes(';') && prev >= 0 && items[prev]!.includes(';')) {
      items[prev] += ',' + token;
    } else {
      items.push(token);
    }
  }
  return items.map(parseItem);
}

function tokenize(value: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let quoted = false;
  let hadQuote = false;
  const flush = () => {
    if (cur !== '' || hadQuote) tokens.push(cur.trim());
    cur = '';
    hadQuote = false;
  };
  for (const ch of value) {
    if (ch === '"') {
      quoted = !quoted;
      hadQuote = true;
    } else if (!quoted && (ch === ',' || /\s/.test(ch))) {
      flush();
    } else {
      cur += ch;
    }
  }
  if (quoted) throw new InvalidValue(`unbalanced quote in interfaces "${value}"`);
  flush();
  return tokens.filter((t) => t !== '');
}

function parseItem(item: string): InterfaceSpec {
  const semi = item.indexOf(';');
  const name = (semi < 0 ? item : item.slice(0, semi)).trim();
  if (name === '') throw new InvalidValue(`interface item "${item}" has no name or address`);
  const spec: InterfaceSpec = { name };
  if (semi < 0) return spec;
  for (const opt of item.slice(semi + 1).split(',')) {
    const o = opt.trim();
    if (o === '') continue;
    const eq = o.indexOf('=');
    if (eq < 0) throw new InvalidValue(`interface option "${o}" of "${name}" is not key=value`);
    const key = o.slice(0, eq).trim().toLowerCase();
    const val = o.slice(eq + 1).trim();
    switch (key) {
      case 'if_index': {
        if (!/^\d+$/.test(val) || Number(val) < 1 || Number(val) > 0xffffffff) {
          throw new InvalidValue(`if_index "${val}" of "${name}" must be an integer 1-4294967295`);
        }
        spec.ifIndex = Number(val);
        break;
      }
      case 'speed':
        spec.speed = parseSpeed(val, name);
        break;
      case 'capability': {
        const cap = val.toUpperCase();
        if (cap !== 'RSS' && cap !== 'RDMA') {
          throw new InvalidValue(`capability "${val}" of "${name}" must be RSS or RDMA`);
        }
        spec.capabilities ??= [];
        if (!spec.capabilities.includes(cap)) spec.capabilities.push(cap);
        break;
      }
      default:
        throw new InvalidValue(`unknown interface option "${key}" of "${name}" (use if_index, speed, capability)`);
    }
  }
  return spec;
}

const SPEED_SUFFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** Link speed in bits per second; a K/M/G/T suffix is accepted as a convenience. */
function parseSpeed(val: string, name: string): number {
  const m = /^(\d+)([kmgt]?)$/i.exec(val);
  const n = m ? Number(m[1]) * SPEED_SUFFIX[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidValue(`speed "${val}" of "${name}" must be a positive integer (bits/s)`);
  return n;
}
