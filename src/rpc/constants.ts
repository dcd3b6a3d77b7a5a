/** Connection-oriented DCE/RPC constants ([C706] 12.6, [MS-RPCE] 2.2). */

export const PacketType = {
  REQUEST: 0,
  PING: 1,
  RESPONSE: 2,
  FAULT: 3,
  BIND: 11,
  BIND_ACK: 12,
  BIND_NAK: 13,
  ALTER_CONTEXT: 14,
  ALTER_CONTEXT_RESP: 15,
  AUTH3: 16,
  SHUTDOWN: 17,
  CO_CANCEL: 18,
  ORPHANED: 19,
} as const;

export const PfcFlags = {
  FIRST_FRAG: 0x01,
  LAST_FRAG: 0x02,
  PENDING_CANCEL: 0x04,
  CONC_MPX: 0x10,
  DID_NOT_EXECUTE: 0x20,
  MAYBE: 0x40,
  OBJECT_UUID: 0x80,
} as const;

/** Fault status codes ([C706] appendix E, [MS-RPCE] 2.2.2.11 / 3.1.1.5.5). */
export const FaultCode = {
  ACCESS_DENIED: 0x00000005,
  /** RPC_X_BAD_STUB_DATA: stub data could not be unmarshalled. */
  NDR: 0x000006f7,
  NCA_S_FAULT_UNSPEC: 0x1c000012,
  NCA_S_FAULT_REMOTE_NO_MEMORY: 0x1c00001b,
  NCA_OP_RNG_ERROR: 0x1c010002,
  NCA_UNK_IF: 0x1c010003,
  NCA_PROTO_ERROR: 0x1c01000b,
  NCA_UNSUPPORTED_TYPE: 0x1c010017,
} as const;

/** p_cont_def_result_t, with [MS-RPCE] 2.2.2.4's negotiate_ack. */
export const ContextResult = {
  ACCEPTANCE: 0,
  USER_REJECTION: 1,
  PROVIDER_REJECTION: 2,
  NEGOTIATE_ACK: 3,
} as const;

/** p_provider_reason_t. */
export const ProviderReason = {
  NOT_SPECIFIED: 0,
  ABSTRACT_SYNTAX_NOT_SUPPORTED: 1,
  PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED: 2,
  LOCAL_LIMIT_EXCEEDED: 3,
} as const;

/** p_reject_reason_t for BIND_NAK, with [MS-RPCE] 2.2.2.5's additions. */
export const BindNakReason = {
  NOT_SPECIFIED: 0,
  TEMPORARY_CONGESTION: 1,
  LOCAL_LIMIT_EXCEEDED: 2,
  PROTOCOL_VERSION_NOT_SUPPORTED: 4,
  AUTHENTICATION_TYPE_NOT_RECOGNIZED: 8,
} as const;

/** [MS-RPCE] 2.2.2.14 bind time feature bits. */
export const BindTimeFeature = {
  SECURITY_CONTEXT_MULTIPLEXING: 0x01,
  KEEP_CONNECTION_ON_ORPHAN: 0x02,
} as const;

export const COMMON_HEADER_SIZE = 16;
export const REQUEST_HEADER_SIZE = 24;
export const RESPONSE_HEADER_SIZE = 24;
/** [C706] 12.6.2: every implementation must accept fragments this large. */
export const MUST_RECV_FRAG_SIZE = 1432;
/**
 * Fragment size bounds applied at bind. Windows (and Samba, which copies it) answers
 * max(2048, min(client xmit, client recv)) capped at the transport's own limit — 4280
 * over SMB — rounded down to 8.
 */
export const MIN_NEGOTIATED_FRAG = 2048;
export const SMB_TRANSPORT_MAX_FRAG = 4280;
/** Largest reassembled request stub we buffer before refusing the call. */
export const MAX_REQUEST_STUB = 4 * 1024 * 1024;

/** Win32 error codes returned as WERROR by srvsvc/wkssvc. */
export const WError = {
  OK: 0,
  INVALID_PARAMETER: 87,
  INVALID_NAME: 123,
  INVALID_LEVEL: 124,
  NERR_NET_NAME_NOT_FOUND: 2310,
} as const;
