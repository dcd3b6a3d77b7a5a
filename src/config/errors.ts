/**
 * A configuration problem the operator must fix. `file` and `line` say where,
 * so the message reads like a compiler's: `smb.conf:12: unknown boolean value "maybe" for "read only"`.
 */
export class ConfigError extends Error {
  constructor(
    readonly problem: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file === undefined ? problem : line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * Thrown by value parsers that do not know where the value came from;
 * the caller re-throws it as a ConfigError with file and line.
 */
export class InvalidValue extends Error {
  constructor(
    /** The problem without the hint. */
    readonly detail: string,
    /** What would be accepted; shown after the key name. */
    readonly hint?: string,
  ) {
    super(hint ? `${detail} (${hint})` : detail);
    this.name = 'InvalidValue';
  }
}
