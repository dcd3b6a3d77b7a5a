/** What an RPC interface (srvsvc, wkssvc) implements, and what it may know about the server. */
import type { NdrReader, NdrWriter } from './ndr.js';
import type { SyntaxId } from './syntax.js';

export interface RpcShare {
  name: string;
  /** STYPE_DISKTREE=0, STYPE_IPC=3, | 0x80000000 (STYPE_SPECIAL) for hidden administrative shares. */
  type: number;
  comment: string;
}

export interface RpcContext {
  serverName: string;
  domain: string;
  listShares(): RpcShare[];
}

/**
 * One operation: reads its [in] parameters from `input` and writes its [out] parameters
 * and return value to `output`. NtStatusError from `input` becomes a bad-stub-data fault.
 */
export type RpcOperation = (input: NdrReader, output: NdrWriter, ctx: RpcContext) => void;

export interface RpcInterface {
  name: string;
  syntax: SyntaxId;
  operations: ReadonlyMap<number, RpcOperation>;
}

/** Thrown by an operation to answer with a FAULT PDU instead of a RESPONSE. */
export class RpcFault extends Error {
  constructor(
    readonly code: number,
    readonly didNotExecute = false,
  ) {
    super(`rpc fault 0x${code.toString(16).padStart(8, '0')}`);
    this.name = 'RpcFault';
  }
}
