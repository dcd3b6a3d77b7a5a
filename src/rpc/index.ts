/** DCE/RPC over SMB named pipes: srvsvc and wkssvc, enough for share listing. */
import { endpointFor } from './endpoints.js';
import type { RpcContext } from './interface.js';
import { RpcPipe } from './pipe.js';

export { RpcPipe } from './pipe.js';
export { RpcFault, type RpcContext, type RpcShare, type RpcInterface, type RpcOperation } from './interface.js';
export { canonicalPipeName } from './endpoints.js';

/** A new pipe instance for `name`, or undefined when no such pipe exists (OBJECT_NAME_NOT_FOUND). */
export function openPipe(name: string, ctx: RpcContext): RpcPipe | undefined {
  return endpointFor(name) ? new RpcPipe(name, ctx) : undefined;
}
