/** A failure the user caused and can fix; main prints `smb3d: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    /** Print the command's usage after the message. */
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
