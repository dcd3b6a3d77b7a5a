import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { ConfigError } from '../config/errors.js';
import { InvalidValue } from '../config/errors.js';
import { parsePort } from '../config/values.js';
import { isLogLevel, LOG_LEVELS } from '../log.js';
import { CliError } from './errors.js';
import { MAIN_USAGE, SERVE_USAGE, TRANSFER_USAGE, USER_USAGE } from './usage.js';
import { copy } from './copy.js';
import { isSmbUrl } from './smb-url.js';
import { startServe } from './serve.js';
import { resolvePassdbPath, userAdd, userDel, userList } from './user.js';
import { promptNewPassword, promptPassword, readPasswordFromStream } from './password.js';

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

const defaultIO: CliIO = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/**
 * Runs one smb3d command. Resolves to the exit code, or to undefined when a
 * server is now running and the process must stay alive (signals end it).
 */
export async function run(argv: string[], io: CliIO = defaultIO): Promise<number | undefined> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`smb3d: ${err.message}\n`);
      if (err.usage) io.stderr.write(`\n${err.usage}`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`smb3d: ${err.message}\n`);
      return 2;
    }
    if (isParseArgsError(err)) {
      io.stderr.write(`smb3d: ${(err as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`smb3d: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

function isParseArgsError(err: unknown): boolean {
  return typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS');
}

async function dispatch(argv: string[], io: CliIO): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      throw new CliError('no command given', 2, MAIN_USAGE);
    case '-h':
    case '--help':
    case 'help':
      io.stdout.write(MAIN_USAGE);
      return 0;
    case '-V':
    case '--version':
      io.stdout.write(`smb3d ${version()}\n`);
      return 0;
    case 'serve':
      return serveCommand(rest, io);
    case 'user':
      return userCommand(rest, io);
    case 'copy':
    case 'get':
    case 'put':
      return transferCommand(command, rest, io);
    default:
      throw new CliError(`unknown command "${command}"`, 2, MAIN_USAGE);
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    if (isParseArgsError(err)) throw new CliError((err as Error).message, 2, usage);
    throw err;
  }
}

async function serveCommand(args: string[], io: CliIO): Promise<number | undefined> {
  const { values, positionals } = parse(
    args,
    {
      share: { type: 'string', multiple: true },
      config: { type: 'string' },
      port: { type: 'string' },
      listen: { type: 'string', multiple: true },
      passdb: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    SERVE_USAGE,
  );
  if (values.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length) throw new CliError(`unexpected argument "${positionals[0]}"`, 2, SERVE_USAGE);
  let port: number | undefined;
  if (values.port !== undefined) {
    try {
      port = parsePort(values.port);
    } catch (err) {
      if (err instanceof InvalidValue) throw new CliError(`--port: ${err.message}`, 2);
      throw err;
    }
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new CliError(`--log-level: unknown level "${logLevel}" (use ${LOG_LEVELS.join(', ')})`);
  await startServe(
    {
      shares: values.share ?? [],
      config: values.config,
      port,
      listen: values.listen ?? [],
      passdb: values.passdb,
      logLevel,
    },
    { exitOnSignal: (code) => process.exit(code) },
  );
  return undefined;
}

async function userCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      passdb: { type: 'string' },
      config: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    USER_USAGE,
  );
  if (values.help) {
    io.stdout.write(USER_USAGE);
    return 0;
  }
  const [sub, name, ...extra] = positionals;
  if (sub === undefined) throw new CliError('user: missing subcommand (add, del or list)', 2, USER_USAGE);
  const wantsName = sub === 'add' || sub === 'del';
  if (!['add', 'del', 'list'].includes(sub)) throw new CliError(`user: unknown subcommand "${sub}"`, 2, USER_USAGE);
  if (wantsName && name === undefined) throw new CliError(`user ${sub}: missing user name`, 2, USER_USAGE);
  if (extra.length || (!wantsName && name !== undefined)) {
    throw new CliError(`user ${sub}: unexpected argument "${wantsName ? extra[0] : name}"`, 2, USER_USAGE);
  }
  if (values['password-stdin'] && sub !== 'add') throw new CliError('--password-stdin only applies to "user add"', 2, USER_USAGE);
  const passdb = await resolvePassdbPath({ passdb: values.passdb, config: values.config });

  switch (sub) {
    case 'add': {
      const password = values['password-stdin']
        ? await readPasswordFromStream(io.stdin)
        : await promptNewPassword(io.stdin, io.stderr);
      await userAdd(passdb, name!, password, (m) => io.stderr.write(`smb3d: warning: ${m}\n`));
      io.stderr.write(`smb3d: user "${name}" saved in ${passdb}\n`);
      return 0;
    }
    case 'del':
      await userDel(passdb, name!);
      io.stderr.write(`smb3d: user "${name}" removed from ${passdb}\n`);
      return 0;
    default:
      for (const u of await userList(passdb)) io.stdout.write(`${u}\n`);
      return 0;
  }
}

function countOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name}: "${v}" is not a whole number from ${min} to ${max}`, 2, TRANSFER_USAGE);
  return n;
}

async function transferCommand(command: 'copy' | 'get' | 'put', args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      user: { type: 'string', short: 'U' },
      'password-stdin': { type: 'boolean' },
      channels: { type: 'string' },
      resume: { type: 'boolean', short: 'c' },
      retries: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    TRANSFER_USAGE,
  );
  if (values.help) {
    io.stdout.write(TRANSFER_USAGE);
    return 0;
  }
  if (positionals.length !== 2) throw new CliError(`${command}: needs a source and a destination`, 2, TRANSFER_USAGE);
  const [src, dst] = positionals as [string, string];
  if (command === 'get' && !isSmbUrl(src)) throw new CliError('get: the source must be //HOST[:PORT]/SHARE/PATH', 2, TRANSFER_USAGE);
  if (command === 'put' && !isSmbUrl(dst)) throw new CliError('put: the destination must be //HOST[:PORT]/SHARE/PATH', 2, TRANSFER_USAGE);
  if (!values.user) throw new CliError(`${command}: -U USER is required`, 2, TRANSFER_USAGE);
  const channels = countOption('channels', values.channels, 1, 32);
  const retries = countOption('retries', values.retries, 0, 100);
  const [domain, user] = values.user.includes('/') || values.user.includes('\\') ? values.user.split(/[/\\]/, 2) : ['', values.user];
  const password = values['password-stdin'] ? await readPasswordFromStream(io.stdin) : await promptPassword('Password: ', io.stdin, io.stderr);
  await copy(src, dst, { user: user!, domain, password, channels, retries, resume: values.resume }, io.stderr as NodeJS.WritableStream);
  return 0;
}

function version(): string {
  // Two levels below the package root both as src/cli/*.ts and as dist/cli/*.js.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
