import type { RpcContext } from '../rpc/index.js';
import type { ServerContext } from './context.js';

const STYPE_DISKTREE = 0;
const STYPE_IPC_HIDDEN = 0x80000003;

/** What the RPC services (srvsvc, wkssvc) may know about this server. */
export function rpcContext(server: ServerContext): RpcContext {
  return {
    serverName: server.serverName,
    domain: server.workgroup,
    listShares: () => {
      const out = [...server.shares.values()]
        .filter((s) => !s.isIpc && s.config.browseable)
        .map((s) => ({ name: s.name, type: STYPE_DISKTREE, comment: s.config.comment ?? '' }));
      out.push({ name: 'IPC$', type: STYPE_IPC_HIDDEN, comment: 'IPC Service' });
      return out;
    },
  };
}
