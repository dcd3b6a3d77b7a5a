import { NtStatusError, Status } from '../protocol/status.js';
import { ctx, decodeOid, encodeOid, encodeTlv, expectTlv, readAll, readTlv, Tag, type Tlv } from './der.js';

/** SPNEGO token formats (RFC 4178 4.2, [MS-SPNG] 2.2). */

export const OID_SPNEGO = '1.3.6.1.5.5.2';
export const OID_NTLMSSP = '1.3.6.1.4.1.311.2.2.10';

export const NegState = {
  ACCEPT_COMPLETED: 0,
  ACCEPT_INCOMPLETE: 1,
  REJECT: 2,
  REQUEST_MIC: 3,
} as const;

export interface NegTokenInit {
  mechTypes: string[];
  /** DER of the MechTypeList exactly as received: what the mechListMIC covers. */
  mechTypesDer: Buffer;
  mechToken?: Buffer;
  mechListMIC?: Buffer;
}

export interface NegTokenResp {
  negState?: number;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

function bad(msg: string): never {
  throw new NtStatusError(Status.INVALID_PARAMETER, `SPNEGO: ${msg}`);
}

/** Members of a constructed SEQUENCE, keyed by their context tag number. */
function contextFields(seq: Tlv): Map<number, Tlv> {
  if (seq.tag !== Tag.SEQUENCE) bad('expected SEQUENCE');
  const fields = new Map<number, Tlv>();
  for (const f of readAll(seq.value)) {
    if ((f.tag & 0xe0) !== 0xa0) bad('expected context tag');
    fields.set(f.tag & 0x1f, f);
  }
  return fields;
}

function innerOctets(field: Tlv | undefined): Buffer | undefined {
  if (!field) return undefined;
  return expectTlv(field.value, Tag.OCTET_STRING).value;
}

export function isNegTokenInit(token: Buffer): boolean {
  return token.length > 0 && (token[0] === Tag.APPLICATION_0 || token[0] === ctx(0));
}

export function isNegTokenResp(token: Buffer): boolean {
  return token.length > 0 && token[0] === ctx(1);
}

/** Parse an initiator's NegTokenInit, with or without the GSS-API [APPLICATION 0] framing. */
export function parseNegTokenInit(token: Buffer): NegTokenInit {
  let body = token;
  if (token[0] === Tag.APPLICATION_0) {
    const app = expectTlv(token, Tag.APPLICATION_0);
    const { tlv: oid, next } = readTlv(app.value, 0);
    if (oid.tag !== Tag.OID || decodeOid(oid.value) !== OID_SPNEGO) bad('not an SPNEGO token');
    body = app.value.subarray(next);
  }
  const choice = expectTlv(body, ctx(0));
  const fields = contextFields(expectTlv(choice.value, Tag.SEQUENCE));
  const mt = fields.get(0);
  if (!mt) bad('NegTokenInit without mechTypes');
  const list = expectTlv(mt.value, Tag.SEQUENCE);
  const mechTypes = readAll(list.value).map((t) => {
    if (t.tag !== Tag.OID) bad('mechTypes holds a non-OID');
    return decodeOid(t.value);
  });
  // [3] is mechListMIC in RFC 4178's NegTokenInit but negHints in [MS-SPNG]'s NegTokenInit2 (whose MIC is [4]).
  const f3 = fields.get(3);
  const mic3 = f3 && f3.value[0] === Tag.OCTET_STRING ? innerOctets(f3) : undefined;
  return { mechTypes, mechTypesDer: list.raw, mechToken: innerOctets(fields.get(2)), mechListMIC: mic3 ?? innerOctets(fields.get(4)) };
}

export function parseNegTokenResp(token: Buffer): NegTokenResp {
  const choice = expectTlv(token, ctx(1));
  const fields = contextFields(expectTlv(choice.value, Tag.SEQUENCE));
  const out: NegTokenResp = {};
  const st = fields.get(0);
  if (st) {
    const e = expectTlv(st.value, Tag.ENUMERATED);
    if (e.value.length !== 1) bad('bad negState');
    out.negState = e.value[0]!;
  }
  const sm = fields.get(1);
  if (sm) out.supportedMech = decodeOid(expectTlv(sm.value, Tag.OID).value);
  out.responseToken = innerOctets(fields.get(2));
  out.mechListMIC = innerOctets(fields.get(3));
  return out;
}

export function buildNegTokenResp(resp: NegTokenResp): Buffer {
  const members: Buffer[] = [];
  if (resp.negState !== undefined) members.push(encodeTlv(ctx(0), encodeTlv(Tag.ENUMERATED, Buffer.of(resp.negState))));
  if (resp.supportedMech) members.push(encodeTlv(ctx(1), encodeOid(resp.supportedMech)));
  if (resp.responseToken) members.push(encodeTlv(ctx(2), encodeTlv(Tag.OCTET_STRING, resp.responseToken)));
  if (resp.mechListMIC) members.push(encodeTlv(ctx(3), encodeTlv(Tag.OCTET_STRING, resp.mechListMIC)));
  return encodeTlv(ctx(1), encodeTlv(Tag.SEQUENCE, ...members));
}

/** An initiator's NegTokenInit (used by the test client and by src/client). */
export function buildNegTokenInit(mechTypes: string[], mechToken?: Buffer, mechListMIC?: Buffer): Buffer {
  const members = [encodeTlv(ctx(0), encodeTlv(Tag.SEQUENCE, ...mechTypes.map(encodeOid)))];
  if (mechToken) members.push(encodeTlv(ctx(2), encodeTlv(Tag.OCTET_STRING, mechToken)));
  if (mechListMIC) members.push(encodeTlv(ctx(3), encodeTlv(Tag.OCTET_STRING, mechListMIC)));
  return encodeTlv(Tag.APPLICATION_0, encodeOid(OID_SPNEGO), encodeTlv(ctx(0), encodeTlv(Tag.SEQUENCE, ...members)));
}

/** The DER MechTypeList for a list of OIDs, as the mechListMIC covers it. */
export function encodeMechTypeList(mechTypes: string[]): Buffer {
  return encodeTlv(Tag.SEQUENCE, ...mechTypes.map(encodeOid));
}

/**
 * The security blob of the SMB2 NEGOTIATE response: a NegTokenInit2 ([MS-SPNG] 2.2.1) offering NTLMSSP,
 * with the negHints principal "not_defined_in_RFC4178@please_ignore" that Windows and Samba send.
 */
export function buildNegotiateSecurityBlob(): Buffer {
  const hintName = encodeTlv(ctx(0), encodeTlv(Tag.GENERAL_STRING, Buffer.from('not_defined_in_RFC4178@please_ignore', 'latin1')));
  const negTokenInit = encodeTlv(
    Tag.SEQUENCE,
    encodeTlv(ctx(0), encodeMechTypeList([OID_NTLMSSP])),
    encodeTlv(ctx(3), encodeTlv(Tag.SEQUENCE, hintName)),
  );
  return encodeTlv(Tag.APPLICATION_0, encodeOid(OID_SPNEGO), encodeTlv(ctx(0), negTokenInit));
}
