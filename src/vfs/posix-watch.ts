import { watch as fsWatch, lstatSync } from 'node:fs';
import * as nodePath from 'node:path';
import type { ChangeEvent, Watch } from './types.js';

/**
 * inotify through fs.watch. A 'rename' event means an entry appeared or went away: which one is
 * learned by looking. Errors (e.g. the inotify queue overflowing) are reported as an overflow, which
 * CHANGE_NOTIFY answers with STATUS_NOTIFY_ENUM_DIR so the client re-reads the directory.
 */
export function watchDirectory(real: string, recursive: boolean, onChange: (e: ChangeEvent) => void, onOverflow: () => void): Watch {
  const w = fsWatch(real, { recursive, persistent: false }, (event, filename) => {
    if (!filename) {
      onOverflow();
      return;
    }
    const name = filename.toString().split(nodePath.sep).join('/');
    let isDirectory = false;
    let exists = true;
    try {
      isDirectory = lstatSync(nodePath.join(real, name)).isDirectory();
    } catch {
      exists = false;
    }
    const kind: ChangeEvent['kind'] = event === 'rename' ? (exists ? 'added' : 'removed') : 'modified';
    onChange({ kind, name, isDirectory });
  });
  w.on('error', () => onOverflow());
  return { close: () => w.close() };
}
