import { Status, fail } from '../protocol/status.js';
import type { Reply, Request } from '../server/request.js';

/** LOCK: byte-range locks arrive with the file-semantics work; refuse honestly until then. */
export function lock(req: Request): Reply {
  req.open(64 + 8);
  fail(Status.NOT_SUPPORTED, 'byte-range locks are not implemented yet');
}
