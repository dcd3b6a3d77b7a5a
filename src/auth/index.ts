export { SpnegoNtlmAcceptor, type AuthStep, type AuthIdentity, type AcceptorOptions } from './acceptor.js';
export {
  buildNegotiateSecurityBlob,
  buildNegTokenInit,
  buildNegTokenResp,
  parseNegTokenInit,
  parseNegTokenResp,
  encodeMechTypeList,
  NegState,
  OID_NTLMSSP,
  OID_SPNEGO,
  type NegTokenInit,
  type NegTokenResp,
} from './spnego.js';
export { NtlmFlag, AvId } from './ntlm-flags.js';
export * from './ntlm-messages.js';
export {
  ntHashFromPassword,
  ntowfv2,
  ntProofStr,
  sessionBaseKey,
  buildClientBlob,
  fileTime,
  hmacMd5,
  signKey,
  sealKey,
} from './ntlm-crypto.js';
export { NtlmSecurityContext } from './ntlm-security.js';
export { SpnegoNtlmInitiator, type InitiatorOptions } from './initiator.js';
