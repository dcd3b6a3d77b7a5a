/**
 * SET_INFO on streams and EAs: FileFullEaInformation, and FileRenameInformation of a stream
 * (`:new[:$DATA]`, within its file, as NTFS allows).
 */
import { Status, fail } from '../protocol/status.js';
import { StreamHandle } from '../vfs/stream-handle.js';
import { parseStreamSpec, sameStreamName } from '../vfs/stream-names.js';
import type { Open } from '../server/state/open.js';
import { streamFileKey } from '../server/stream-files.js';
import { decodeEaList, eaUnsupported, writeEas } from './ea.js';
import { findStream } from './stream-create.js';

export async function setEas(open: Open, data: Buffer): Promise<void> {
  const eas = decodeEaList(data);
  const store = open.handle?.extras?.();
  if (!store) fail(Status.EAS_NOT_SUPPORTED);
  try {
    writeEas(store, eas);
  } catch (err) {
    throw eaUnsupported(err);
  }
}

/**
 * Renames a stream within its file. Replacing another stream needs ReplaceIfExists and works only
 * while that stream is empty and closed (INVALID_PARAMETER / SHARING_VIOLATION otherwise, as
 * smb2.streams.names shows Windows answering). A stream renamed to the default data stream
 * (`::$DATA`) gives the file its data; the open then reads the now-empty name.
 */
export async function renameStream(open: Open, newName: string, replace: boolean): Promise<void> {
  const handle = open.handle;
  if (open.stream === undefined || !(handle instanceof StreamHandle)) fail(Status.INVALID_PARAMETER, 'only a stream can take a stream name');
  // A path (file:stream) names another file: the stream open keeps its file from being renamed.
  if (!newName.startsWith(':')) fail(Status.SHARING_VIOLATION, 'stream renamed to a path');
  const target = parseStreamSpec(newName.slice(1));
  const share = open.tree.share;
  const file = open.file;
  if (!file) fail(Status.INVALID_HANDLE);
  const otherOpens = [...file.opens].some((o) => o !== open && !o.closed);
  if (otherOpens) fail(Status.SHARING_VIOLATION, 'the stream has other opens');
  const store = handle.extras();
  const value = store.get('stream', open.stream) ?? Buffer.alloc(0);
  if (target === undefined) {
    const backend = share.backend!;
    const baseStat = await handle.baseStat();
    if (baseStat.size > 0n && !replace) fail(Status.OBJECT_NAME_COLLISION, 'the file has data');
    const data = await backend.open(open.path, { read: true, write: true });
    try {
      await data.truncate(0n);
      if (value.length) await data.write(value, 0n);
    } finally {
      await data.close();
    }
    store.remove('stream', open.stream);
    return;
  }
  const existing = findStream(store, target);
  if (existing !== undefined && !sameStreamName(existing, open.stream)) {
    if (!replace) fail(Status.OBJECT_NAME_COLLISION);
    if (share.files.get(streamFileKey(baseKeyOf(file.key), existing))) fail(Status.SHARING_VIOLATION, 'target stream is open');
    if ((store.get('stream', existing)?.length ?? 0) > 0) fail(Status.INVALID_PARAMETER, 'target stream has data');
    store.remove('stream', existing);
  }
  if (target !== open.stream) {
    store.set('stream', target, value);
    store.remove('stream', open.stream);
  }
  const baseKey = baseKeyOf(file.key);
  share.files.release(file, open);
  const moved = share.files.acquire(streamFileKey(baseKey, target), file.path);
  moved.opens.add(open);
  open.file = moved;
  open.stream = target;
  handle.name = target;
}

function baseKeyOf(streamKey: string): string {
  const i = streamKey.indexOf(':');
  return i < 0 ? streamKey : streamKey.slice(0, i);
}
