import type { Connection } from '../connection.js';

/**
 * All connections of one client machine, keyed by ClientGUID ([MS-SMB2] 3.3.1.7 Client).
 * Multichannel stands on this: channels of a session are connections of the same Client.
 */
export class Client {
  readonly connections = new Set<Connection>();
  dialect = 0;
  constructor(readonly guid: string) {}
}
