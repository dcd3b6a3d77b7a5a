import type net from 'node:net';
import type { Logger } from 'pino';
import { createServer, type SmbServer } from '../index.js';
import { PassDb } from '../auth/passdb.js';
import { buildServerOptions, loadConfigFile } from '../config/load.js';
import type { PathEnv } from '../config/paths.js';
import { createLogger } from '../log.js';
import { CliError } from './errors.js';

export interface ServeArgs {
  shares: string[];
  config?: string;
  port?: number;
  listen: string[];
  passdb?: string;
  logLevel: string;
}

export interface RunningServer {
  server: SmbServer;
  logger: Logger;
  port: number;
  addresses: net.AddressInfo[];
}

/**
 * Loads the configuration, opens the passdb and binds. Every problem the operator
 * can fix surfaces as a ConfigError or CliError with a one-line message.
 */
export interface ServeDeps {
  logger?: Logger;
  pathEnv?: PathEnv;
  /**
   * When set, SIGINT/SIGTERM close the server and call this with the exit code.
   * Installed before binding: a harness may signal as soon as it reads "listening".
   */
  exitOnSignal?: (code: number) => void;
}

export async function startServe(args: ServeArgs, deps: ServeDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger(args.logLevel);
  const config = args.config === undefined ? undefined : await loadConfigFile(args.config);
  const built = await buildServerOptions({
    config,
    shares: args.shares,
    port: args.port,
    listen: args.listen.length ? args.listen : undefined,
    passdb: args.passdb,
    pathEnv: deps.pathEnv,
  });
  if (built.options.shares.length === 0) {
    throw new CliError('no shares to serve: give --share NAME=PATH, or --config FILE with a [share] section');
  }
  for (const w of built.warnings) logger.warn(w);

  const users = await PassDb.open(built.passdbPath, { warn: (m) => logger.warn(m) });
  if (users.list().length === 0) {
    logger.warn({ passdb: built.passdbPath }, 'no users in the passdb: add one with `smb3d user add NAME`');
  }

  const port = built.options.port ?? 445;
  const server = createServer({ ...built.options, users, logger });
  if (deps.exitOnSignal) installSignalHandlers({ server, logger }, deps.exitOnSignal);
  try {
    await server.listen();
  } catch (err) {
    await server.close().catch(() => {});
    const msg = listenErrorMessage(err, port);
    if (msg) throw new CliError(msg);
    throw err;
  }
  const addresses = server.addresses();
  const boundPort = addresses[0]?.port ?? port;
  logger.info(
    { addresses: addresses.map((a) => ({ address: a.address, port: a.port })), port: boundPort, shares: built.options.shares.map((s) => s.name), passdb: built.passdbPath },
    'listening',
  );
  return { server, logger, port: boundPort, addresses };
}

/** A one-line explanation with the remedy for the usual bind failures; undefined for others. */
export function listenErrorMessage(err: unknown, port: number): string | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string };
  switch (e?.code) {
    case 'EADDRINUSE':
      return port === 445
        ? 'port 445 is in use (is smbd running? stop it or use --port 4445)'
        : `port ${port} is in use: stop whatever listens there or choose another --port`;
    case 'EACCES':
      return port > 0 && port < 1024
        ? `binding port ${port} needs root or CAP_NET_BIND_SERVICE: run as root, \`setcap cap_net_bind_service=+ep $(which node)\`, or use --port 4445`
        : `permission denied binding port ${port}`;
    case 'EADDRNOTAVAIL':
      return `address ${e.address ?? '?'} is not on this host: check --listen or "interfaces"`;
    default:
      return undefined;
  }
}

/**
 * First SIGINT/SIGTERM: graceful close then exit 0. A second one exits at once,
 * for when in-flight requests hang the close. Returns a function removing the handlers.
 */
export function installSignalHandlers(
  running: { server: SmbServer; logger: Logger },
  exit: (code: number) => void = (c) => process.exit(c),
): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      running.logger.warn({ signal }, 'second signal: exiting now');
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    stopping = true;
    running.logger.info({ signal }, 'shutting down');
    running.server.close().then(
      () => {
        running.logger.info('stopped');
        exit(0);
      },
      (err: unknown) => {
        running.logger.error({ err }, 'error while shutting down');
        exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
