import { Writable, type Readable } from 'node:stream';
import readline from 'node:readline/promises';
import { CliError } from './errors.js';

/** The first line of `input`, without its line ending (for --password-stdin). */
export async function readPasswordFromStream(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  const nl = text.indexOf('\n');
  const line = (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, '');
  if (line === '') throw new CliError('empty password on stdin');
  return line;
}

/** Asks on the terminal without echo; prompts go to `output` (stderr) so stdout stays clean. */
export async function promptPassword(prompt: string, input: Readable & { isTTY?: boolean }, output: NodeJS.WritableStream): Promise<string> {
  if (!input.isTTY) throw new CliError('stdin is not a terminal: pass the password with --password-stdin');
  let muted = false;
  const sink = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) output.write(chunk);
      cb();
    },
  });
  const rl = readline.createInterface({ input, output: sink, terminal: true });
  try {
    const interrupted = new Promise<never>((_, reject) => rl.once('SIGINT', () => reject(new CliError('interrupted', 130))));
    const answer = rl.question(prompt);
    muted = true;
    const value = await Promise.race([answer, interrupted]);
    output.write('\n');
    return value;
  } finally {
    rl.close();
  }
}

/** Asks twice so a typo does not lock the user out. */
export async function promptNewPassword(input: Readable & { isTTY?: boolean }, output: NodeJS.WritableStream): Promise<string> {
  const first = await promptPassword('New password: ', input, output);
  const second = await promptPassword('Retype new password: ', input, output);
  if (first !== second) throw new CliError('passwords do not match');
  if (first === '') throw new CliError('empty password');
  return first;
}
