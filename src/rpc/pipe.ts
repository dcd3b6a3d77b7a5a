/**
 * A named pipe endpoint speaking connection-oriented DCE/RPC ([C706] 12, [MS-RPCE] 3.3)
 * over ncacn_np. Pure: the SMB layer feeds WRITE data in and takes READ data
 * out. Output is kept as messages, one PDU fragment each, because Windows opens RPC pipes in
 * message mode: a read never spans two fragments, and a short read leaves the rest of the
 * fragment for the next one (the SMB layer answers STATUS_BUFFER_OVERFLOW meanwhile).
 */
import { NtStatusError, Status, fail } from '../protocol/status.js';
import {
  BindNakReason,
  BindTimeFeature,
  ContextResult,
  FaultCode,
  MAX_REQUEST_STUB,
  MIN_NEGOTIATED_FRAG,
  PacketType,
  PfcFlags,
  ProviderReason,
  RESPONSE_HEADER_SIZE,
  SMB_TRANSPORT_MAX_FRAG,
} from './constants.js';
import { endpointFor } from './endpoints.js';
import { RpcFault, type RpcContext, type RpcInterface } from './interface.js';
import { NdrReader, NdrWriter } from './ndr.js';
import {
  decodeBind,
  decodeRequest,
  encodeBindAck,
  encodeBindNak,
  encodeFault,
  encodeResponse,
  peekHeader,
  type ContextResultItem,
  type PduHeader,
  type PresentationContext,
} from './pdu.js';
import { NDR20, NULL_SYNTAX, bindTimeFeatures, sameSyntax } from './syntax.js';

/**
 * Bind-time features we acknowledge. Security context multiplexing is meaningless without
 * RPC-level auth; keeping the connection on orphan is what we do anyway (an orphaned call
 * is simply dropped).
 */
const SUPPORTED_FEATURES = BindTimeFeature.KEEP_CONNECTION_ON_ORPHAN;

/** Assoc group id handed out when the client asks for a new group; groups are per pipe here. */
const NEW_ASSOC_GROUP_ID = 0x000053f0;

interface IncomingCall {
  callId: number;
  contextId: number;
  opnum: number;
  littleEndian: boolean;
  supportedRepresentation: boolean;
  chunks: Buffer[];
  size: number;
}

const EMPTY = Buffer.alloc(0);

export class RpcPipe {
  readonly pipeName: string;
  private readonly interfaces: readonly RpcInterface[];
  private readonly secondaryAddress: string;
  private inbox: Buffer = EMPTY;
  private readonly outbox: Buffer[] = [];
  private outOffset = 0;
  private bound = false;
  private maxXmitFrag = SMB_TRANSPORT_MAX_FRAG;
  private maxRecvFrag = SMB_TRANSPORT_MAX_FRAG;
  private assocGroupId = 0;
  private readonly contexts = new Map<number, RpcInterface>();
  private call: IncomingCall | undefined;

  constructor(
    pipeName: string,
    private readonly ctx: RpcContext,
  ) {
    const endpoint = endpointFor(pipeName);
    if (!endpoint) fail(Status.OBJECT_NAME_NOT_FOUND, `no pipe ${pipeName}`);
    this.pipeName = endpoint.name;
    this.interfaces = endpoint.interfaces;
    this.secondaryAddress = `\\PIPE\\${endpoint.name}`;
  }

  /** Feeds bytes written to the pipe; complete PDUs are processed and their replies queued. */
  write(data: Buffer): void {
    this.inbox = this.inbox.length === 0 ? Buffer.from(data) : Buffer.concat([this.inbox, data]);
    for (;;) {
      let header: PduHeader | undefined;
      try {
        header = peekHeader(this.inbox);
      } catch {
        // No trustworthy frame boundary: answer once and drop everything buffered.
        this.protocolError(this.inbox.length >= 16 ? this.inbox.readUInt32LE(12) : 0);
        return;
      }
      if (!header || this.inbox.length < header.fragLength) return;
      const pdu = this.inbox.subarray(0, header.fragLength);
      this.inbox = this.inbox.subarray(header.fragLength);
      if (this.inbox.length === 0) this.inbox = EMPTY;
      this.handle(pdu, header);
    }
  }

  /** Up to `maxLength` bytes of the current reply message; empty when nothing is pending. */
  read(maxLength: number): Buffer {
    return this.readMessage(maxLength).data;
  }

  /** Like read(); `more` tells that the current message did not fit (STATUS_BUFFER_OVERFLOW). */
  readMessage(maxLength: number): { data: Buffer; more: boolean } {
    const message = this.outbox[0];
    if (!message || maxLength <= 0) return { data: EMPTY, more: message !== undefined };
    const end = Math.min(message.length, this.outOffset + maxLength);
    const data = message.subarray(this.outOffset, end);
    if (end === message.length) {
      this.outbox.shift();
      this.outOffset = 0;
      return { data, more: false };
    }
    this.outOffset = end;
    return { data, more: true };
  }

  pendingBytes(): number {
    let total = 0;
    for (const message of this.outbox) total += message.length;
    return total - this.outOffset;
  }

  /** FSCTL_PIPE_TRANSCEIVE: one write, then one message read. */
  transact(input: Buffer, maxOutput: number): { data: Buffer; more: boolean } {
    this.write(input);
    return this.readMessage(maxOutput);
  }

  private handle(pdu: Buffer, h: PduHeader): void {
    try {
      switch (h.type) {
        case PacketType.BIND:
          return this.onBind(pdu, h);
        case PacketType.ALTER_CONTEXT:
          return this.onAlterContext(pdu, h);
        case PacketType.REQUEST:
          return this.onRequest(pdu, h);
        case PacketType.CO_CANCEL:
          // Calls complete before the next PDU is read: there is never anything to cancel.
          return;
        case PacketType.ORPHANED:
          if (this.call?.callId === h.callId) this.call = undefined;
          return;
        default:
          return this.protocolError(h.callId);
      }
    } catch {
      this.protocolError(h.callId);
    }
  }

  private onBind(pdu: Buffer, h: PduHeader): void {
    // A second BIND on an established association is a protocol error ([C706] 12.6.4.3).
    if (this.bound) return this.protocolError(h.callId);
    if (h.versionMinor > 1) return this.queue(encodeBindNak(h.callId, BindNakReason.PROTOCOL_VERSION_NOT_SUPPORTED));
    if (h.authLength !== 0) return this.queue(encodeBindNak(h.callId, BindNakReason.AUTHENTICATION_TYPE_NOT_RECOGNIZED));
    const body = decodeBind(pdu, h);
    if (body.contexts.length === 0) return this.queue(encodeBindNak(h.callId, BindNakReason.PROTOCOL_VERSION_NOT_SUPPORTED));
    if (body.contexts.some((c) => c.transfers.length === 0)) return this.queue(encodeBindNak(h.callId, BindNakReason.NOT_SPECIFIED));

    const results = this.negotiate(body.contexts, true);
    if (!results) return this.queue(encodeBindNak(h.callId, BindNakReason.NOT_SPECIFIED));

    const requested = Math.max(MIN_NEGOTIATED_FRAG, Math.min(body.maxXmitFrag, body.maxRecvFrag));
    const size = Math.min(requested, SMB_TRANSPORT_MAX_FRAG) & 0xfff8;
    this.maxXmitFrag = size;
    this.maxRecvFrag = size;
    this.assocGroupId = body.assocGroupId || NEW_ASSOC_GROUP_ID;
    this.bound = true;
    this.queue(
      encodeBindAck(PacketType.BIND_ACK, h.callId, {
        maxXmitFrag: size,
        maxRecvFrag: size,
        assocGroupId: this.assocGroupId,
        secondaryAddress: this.secondaryAddress,
        results,
      }),
    );
  }

  private onAlterContext(pdu: Buffer, h: PduHeader): void {
    if (!this.bound || h.authLength !== 0) return this.protocolError(h.callId);
    const body = decodeBind(pdu, h);
    if (body.contexts.length === 0 || body.contexts.some((c) => c.transfers.length === 0)) {
      return this.protocolError(h.callId);
    }
    const results = this.negotiate(body.contexts, false);
    if (!results) return this.protocolError(h.callId);
    this.queue(
      encodeBindAck(PacketType.ALTER_CONTEXT_RESP, h.callId, {
        maxXmitFrag: this.maxXmitFrag,
        maxRecvFrag: this.maxRecvFrag,
        assocGroupId: this.assocGroupId,
        secondaryAddress: '',
        results,
      }),
    );
  }

  /**
   * One result per offered context. Like Windows (and Samba), at most one new context is
   * accepted per BIND/ALTER_CONTEXT; further acceptable ones are answered as transfer
   * syntax rejections so the client re-offers them later. Undefined means the offer is
   * malformed (two feature negotiation items, or a context id rebound to another interface).
   */
  private negotiate(offered: PresentationContext[], allowFeatures: boolean): ContextResultItem[] | undefined {
    const results: ContextResultItem[] = [];
    const reject = (reason: number) => results.push({ result: ContextResult.PROVIDER_REJECTION, reason, transfer: NULL_SYNTAX });
    let sawFeatures = false;
    let acceptedNew = false;
    for (const c of offered) {
      const features = allowFeatures ? bindTimeFeatures(c.transfers[0]!) : undefined;
      if (features !== undefined) {
        if (sawFeatures) return undefined;
        sawFeatures = true;
        results.push({ result: ContextResult.NEGOTIATE_ACK, reason: features & SUPPORTED_FEATURES, transfer: NULL_SYNTAX });
        continue;
      }
      const iface = this.interfaces.find((i) => sameSyntax(i.syntax, c.abstract));
      if (!iface) {
        reject(ProviderReason.ABSTRACT_SYNTAX_NOT_SUPPORTED);
        continue;
      }
      const offersNdr = c.transfers.some((t) => sameSyntax(t, NDR20));
      const existing = this.contexts.get(c.contextId);
      if (existing) {
        if (existing !== iface) return undefined;
        if (offersNdr) results.push({ result: ContextResult.ACCEPTANCE, reason: 0, transfer: NDR20 });
        else reject(ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED);
        continue;
      }
      if (!offersNdr || acceptedNew) {
        reject(ProviderReason.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED);
        continue;
      }
      this.contexts.set(c.contextId, iface);
      acceptedNew = true;
      results.push({ result: ContextResult.ACCEPTANCE, reason: 0, transfer: NDR20 });
    }
    return results;
  }

  private onRequest(pdu: Buffer, h: PduHeader): void {
    // No RPC-level security: a verifier could only belong to a context that never existed.
    if (!this.bound || h.authLength !== 0) return this.protocolError(h.callId);
    if (h.fragLength > this.maxRecvFrag) return this.protocolError(h.callId);
    const req = decodeRequest(pdu, h);

    if (h.flags & PfcFlags.FIRST_FRAG) {
      if (this.call) return this.protocolError(h.callId);
      this.call = {
        callId: h.callId,
        contextId: req.contextId,
        opnum: req.opnum,
        littleEndian: h.littleEndian,
        supportedRepresentation: h.charFormat === 0 && h.floatFormat === 0,
        chunks: [],
        size: 0,
      };
    } else if (!this.call || this.call.callId !== h.callId) {
      return this.protocolError(h.callId);
    }
    const call = this.call;
    call.chunks.push(Buffer.from(req.stub));
    call.size += req.stub.length;
    if (call.size > MAX_REQUEST_STUB) {
      this.call = undefined;
      return this.fault(call.callId, call.contextId, FaultCode.NCA_S_FAULT_REMOTE_NO_MEMORY, true);
    }
    if (!(h.flags & PfcFlags.LAST_FRAG)) return;
    this.call = undefined;
    this.execute(call);
  }

  private execute(call: IncomingCall): void {
    if (!call.supportedRepresentation) return this.fault(call.callId, call.contextId, FaultCode.NCA_UNSUPPORTED_TYPE, true);
    const iface = this.contexts.get(call.contextId);
    if (!iface) return this.fault(call.callId, call.contextId, FaultCode.NCA_UNK_IF, true);
    const operation = iface.operations.get(call.opnum);
    if (!operation) return this.fault(call.callId, call.contextId, FaultCode.NCA_OP_RNG_ERROR, true);

    const input = new NdrReader(Buffer.concat(call.chunks), call.littleEndian);
    const output = new NdrWriter();
    try {
      operation(input, output, this.ctx);
    } catch (e) {
      if (e instanceof RpcFault) return this.fault(call.callId, call.contextId, e.code, e.didNotExecute);
      if (e instanceof NtStatusError) return this.fault(call.callId, call.contextId, FaultCode.NDR, true);
      return this.fault(call.callId, call.contextId, FaultCode.NCA_S_FAULT_UNSPEC, false);
    }
    this.respond(call, output.toBuffer());
  }

  /** Splits the reply stub into fragments of at most max_xmit_frag; all but the last carry a multiple of 8 stub bytes. */
  private respond(call: IncomingCall, stub: Buffer): void {
    const chunk = (this.maxXmitFrag - RESPONSE_HEADER_SIZE) & ~7;
    let offset = 0;
    do {
      const end = Math.min(stub.length, offset + chunk);
      let flags = 0;
      if (offset === 0) flags |= PfcFlags.FIRST_FRAG;
      if (end === stub.length) flags |= PfcFlags.LAST_FRAG;
      this.queue(encodeResponse(call.callId, flags, call.contextId, stub.length - offset, stub.subarray(offset, end)));
      offset = end;
    } while (offset < stub.length);
  }

  private fault(callId: number, contextId: number, code: number, didNotExecute: boolean): void {
    this.queue(encodeFault(callId, contextId, code, didNotExecute));
  }

  /**
   * Where a real RPC server faults and disconnects, we fault and forget the association:
   * the SMB open stays usable, but the client has to BIND again.
   */
  private protocolError(callId: number): void {
    this.fault(callId, 0, FaultCode.NCA_PROTO_ERROR, true);
    this.inbox = EMPTY;
    this.bound = false;
    this.contexts.clear();
    this.call = undefined;
  }

  private queue(message: Buffer): void {
    this.outbox.push(message);
  }
}
