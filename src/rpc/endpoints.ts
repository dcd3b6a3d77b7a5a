/** Which pipe names exist on IPC$ and which RPC interfaces each one serves. */
import type { RpcInterface } from './interface.js';
import { SRVSVC } from './srvsvc.js';
import { WKSSVC } from './wkssvc.js';

export interface PipeEndpoint {
  /** Canonical lower-case name without any `\PIPE\` prefix. */
  name: string;
  interfaces: readonly RpcInterface[];
}

const ENDPOINTS: readonly PipeEndpoint[] = [
  { name: 'srvsvc', interfaces: [SRVSVC] },
  { name: 'wkssvc', interfaces: [WKSSVC] },
];

/** Clients spell the same pipe `srvsvc`, `\srvsvc`, `PIPE\srvsvc` or `\PIPE\SRVSVC`. */
export function canonicalPipeName(name: string): string {
  return name
    .replace(/^[\\/]+/, '')
    .replace(/^pipe[\\/]+/i, '')
    .toLowerCase();
}

export function endpointFor(name: string): PipeEndpoint | undefined {
  const wanted = canonicalPipeName(name);
  return ENDPOINTS.find((e) => e.name === wanted);
}
