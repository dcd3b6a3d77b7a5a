import { NtStatusError, statusName } from '../protocol/status.js';
import { COMMAND_NAMES } from '../protocol/constants.js';

/** A request the server answered with an error NTSTATUS (or that failed locally with one). */
export class SmbError extends NtStatusError {
  readonly statusName: string;
  constructor(status: number, command?: number, detail?: string) {
    const what = command === undefined ? '' : `${COMMAND_NAMES[command] ?? command}`;
    super(status, [what, detail].filter(Boolean).join(' ') || undefined);
    this.name = 'SmbError';
    this.statusName = statusName(status);
  }
}
