import type { Backend } from '../vfs/types.js';
import type { ShareConfig } from './options.js';
import { FileTable } from '../locking/share-modes.js';
import { KeyedMutex } from '../locking/keyed-mutex.js';
import type { Open } from './state/open.js';

/** A share as the server serves it: config, backend, and the table of files open on it. */
export class Share {
  readonly files = new FileTable<Open>();
  /** Serialises CREATE/rename on the same (case-folded) path. */
  readonly pathLocks = new KeyedMutex();
  constructor(
    readonly name: string,
    readonly config: ShareConfig,
    readonly backend: Backend | undefined,
  ) {}

  get isIpc(): boolean {
    return this.backend === undefined;
  }
}
