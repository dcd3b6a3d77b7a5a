import pino from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

/**
 * JSON lines (pino's format) to stdout by default. Synchronous writes, so the
 * last lines before an exit are not lost and test harnesses see "listening" at once.
 */
export function createLogger(level: string, opts: { destination?: number } = {}): pino.Logger {
  if (!isLogLevel(level)) throw new Error(`unknown log level "${level}" (use ${LOG_LEVELS.join(', ')})`);
  return pino({ level }, pino.destination({ dest: opts.destination ?? 1, sync: true }));
}
