import { InvalidValue } from './errors.js';

const FORBIDDEN = /[\\/[\]:|<>+=;,*?"\x00-\x1f]/;

/** Share names as Windows accepts them ([MS-SRVS] NetrShareAdd): at most 80 characters, none of \/[]:|<>+=;,*?". */
export function validateShareName(name: string): void {
  if (name === '') throw new InvalidValue('empty share name');
  if (name.length > 80) throw new InvalidValue(`share name "${name}" is longer than 80 characters`);
  const bad = FORBIDDEN.exec(name);
  if (bad) throw new InvalidValue(`share name "${name}" contains "${bad[0]}"`);
  if (name.toLowerCase() === 'ipc$') throw new InvalidValue('share name IPC$ is reserved');
}
