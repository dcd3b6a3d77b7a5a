/**
 * QUERY_INFO answers that read a file's streams and EAs: FileStreamInformation, FileEaInformation
 * (and the EaSize of FileAllInformation), FileFullEaInformation. A stream open answers for its file.
 */
import { SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import type { StreamListEntry } from '../protocol/fscc/file-info.js';
import { StreamHandle } from '../vfs/stream-handle.js';
import { listedStreamName } from '../vfs/stream-names.js';
import type { ExtraStore, FileStat } from '../vfs/types.js';
import type { Open } from '../server/state/open.js';
import type { Request } from '../server/request.js';
import { decodeGetEaList, eaSizeOf, eaUnsupported, queryFullEas } from './ea.js';

const ALLOCATION_UNIT = 4096n;
const b = SMB2_HEADER_SIZE;

function storeOf(open: Open): ExtraStore | undefined {
  try {
    return open.handle?.extras?.();
  } catch {
    return undefined;
  }
}

/** EaSize of the open's file; 0 where the backend keeps no EAs. */
export function eaSizeOfOpen(open: Open): number {
  const store = storeOf(open);
  if (!store) return 0;
  try {
    return eaSizeOf(store);
  } catch {
    return 0;
  }
}

/** The streams FileStreamInformation lists: '::$DATA' for a file (not a directory), then the named ones. */
export async function streamsOf(open: Open): Promise<StreamListEntry[]> {
  const handle = open.handle;
  if (!handle) return [];
  const st: FileStat = handle instanceof StreamHandle ? await handle.baseStat() : await handle.stat();
  const out: StreamListEntry[] = [];
  if (!st.isDirectory) out.push({ name: listedStreamName(undefined), size: st.size, allocationSize: st.allocationSize });
  const store = storeOf(open);
  if (!store) return out;
  let named;
  try {
    named = store.list('stream');
  } catch {
    // A file system without xattrs (a mount inside the share) has the unnamed stream only.
    return out;
  }
  for (const e of named) {
    const size = BigInt(e.size);
    out.push({ name: listedStreamName(e.name), size, allocationSize: ((size + ALLOCATION_UNIT - 1n) / ALLOCATION_UNIT) * ALLOCATION_UNIT });
  }
  return out;
}

/** FileFullEaInformation, with the request's FILE_GET_EA_INFORMATION list when it has one. */
export function queryEas(req: Request, open: Open, outputLength: number): { data: Buffer; status: number } {
  const store = storeOf(open);
  if (!store) fail(Status.EAS_NOT_SUPPORTED);
  const inputOffset = req.r.u16(b + 8);
  const inputLength = req.r.u32(b + 12);
  const wanted = inputLength > 0 ? decodeGetEaList(req.r.bytes(inputOffset, inputLength)) : undefined;
  try {
    return queryFullEas(store, outputLength, wanted);
  } catch (err) {
    throw eaUnsupported(err);
  }
}
