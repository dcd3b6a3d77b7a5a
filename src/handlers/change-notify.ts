import { Access, SMB2_HEADER_SIZE } from '../protocol/constants.js';
import { Status, fail } from '../protocol/status.js';
import { Writer } from '../protocol/writer.js';
import { NotifyState, type NotifyRecord } from '../server/state/notify.js';
import type { Reply, Request } from '../server/request.js';

const b = SMB2_HEADER_SIZE;
const WATCH_TREE = 0x0001;

/** CHANGE_NOTIFY ([MS-SMB2] 2.2.35, 3.3.5.19): waits asynchronously for changes under a directory. */
export async function changeNotify(req: Request): Promise<Reply> {
  const r = req.r;
  const flags = r.u16(b + 2);
  const outputLength = r.u32(b + 4);
  const filter = r.u32(b + 24);
  const open = req.open(b + 8);
  if (!open.isDirectory) fail(Status.INVALID_PARAMETER, 'not a directory');
  if (!(open.grantedAccess & Access.FILE_READ_DATA)) fail(Status.ACCESS_DENIED);
  if (outputLength > req.server.maxIoSize) fail(Status.INVALID_PARAMETER);
  if (open.file?.deletePending) fail(Status.DELETE_PENDING);
  const backend = open.tree.share.backend;
  if (!backend?.watch) fail(Status.NOT_SUPPORTED, 'backend cannot watch');
  if (!open.notify) {
    const state = new NotifyState(filter, (flags & WATCH_TREE) !== 0, outputLength);
    open.notify = state;
    state.watch = await backend.watch(open.path, state.recursive, (e) => state.onChange(e), () => state.onOverflow());
  }
  const state = open.notify;
  state.filter = filter;
  // inotify reports what earlier requests did a little later than their answers went out: let the
  // events already queued arrive before looking at what is buffered.
  await new Promise<void>((resolve) => setImmediate(resolve));
  // No room for any change: answered at once, and what was buffered is given up, as smbd does.
  if (outputLength === 0) {
    state.take();
    return { status: Status.NOTIFY_ENUM_DIR, body: emptyBody() };
  }
  let got = state.take();
  if (got === undefined) {
    req.goAsync();
    got = await state.wait(req.signal);
  }
  if (got === 'overflow') return { status: Status.NOTIFY_ENUM_DIR, body: emptyBody() };
  const data = encodeRecords(got);
  // The first request's buffer size bounds all later ones on the handle, as on Windows.
  if (data.length > Math.min(outputLength, state.bufferSize)) return { status: Status.NOTIFY_ENUM_DIR, body: emptyBody() };
  const w = new Writer();
  w.u16(9).u16(b + 8).u32(data.length).put(data.length ? data : Buffer.alloc(1));
  return { body: w.toBuffer() };
}

function emptyBody(): Buffer {
  const w = new Writer();
  return w.u16(9).u16(0).u32(0).u8(0).toBuffer();
}

/** FILE_NOTIFY_INFORMATION records, 4-byte aligned ([MS-FSCC] 2.4.42). */
function encodeRecords(records: NotifyRecord[]): Buffer {
  const parts: Buffer[] = [];
  records.forEach((rec, i) => {
    const name = Buffer.from(rec.name, 'utf16le');
    const size = 12 + name.length;
    const padded = i < records.length - 1 ? (size + 3) & ~3 : size;
    const buf = Buffer.alloc(padded);
    buf.writeUInt32LE(i < records.length - 1 ? padded : 0, 0);
    buf.writeUInt32LE(rec.action, 4);
    buf.writeUInt32LE(name.length, 8);
    name.copy(buf, 12);
    parts.push(buf);
  });
  return Buffer.concat(parts);
}
