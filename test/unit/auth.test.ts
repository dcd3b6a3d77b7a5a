import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import {
  SpnegoNtlmAcceptor,
  buildNegotiateSecurityBlob,
  buildNegTokenInit,
  buildNegTokenResp,
  parseNegTokenInit,
  parseNegTokenResp,
  encodeMechTypeList,
  NegState,
  OID_NTLMSSP,
  NtlmFlag,
  AvId,
  buildNegotiate,
  buildAuthenticate,
  parseChallenge,
  parseAuthenticate,
  parseAvPairs,
  encodeAvPairs,
  MIC_OFFSET,
  ntHashFromPassword,
  ntowfv2,
  ntProofStr,
  sessionBaseKey,
  buildClientBlob,
  signKey,
  sealKey,
  NtlmSecurityContext,
  type AuthStep,
} from '../../src/auth/index.js';
import { readTlv, encodeOid, decodeOid, expectTlv } from '../../src/auth/der.js';
import { rc4, Rc4 } from '../../src/crypto/rc4.js';
import { Status } from '../../src/protocol/status.js';
import type { UserRecord, UserStore } from '../../src/server/options.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (s: string): Buffer => Buffer.from(s, 'utf16le');

// ---------------------------------------------------------------- [MS-NLMP] 4.2 vectors
// Common values (4.2.1): User "User", UserDom "Domain", Passwd "Password", ServerName "Server",
// RandomSessionKey 55..55, Time 0, ClientChallenge aa..aa, ServerChallenge 0123456789abcdef.
const SERVER_CHALLENGE = hex('0123456789abcdef');
const CLIENT_CHALLENGE = Buffer.alloc(8, 0xaa);
const RANDOM_SESSION_KEY = Buffer.alloc(16, 0x55);

test('MS-NLMP 4.2.2.1.2 NT hash of "Password"', async () => {
  assert.equal((await ntHashFromPassword('Password')).toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
});

test('MS-NLMP 4.2.4 NTLMv2: NTOWFv2, NTProofStr, SessionBaseKey, EncryptedRandomSessionKey', async () => {
  const nt = await ntHashFromPassword('Password');
  const responseKey = ntowfv2(nt, 'User', 'Domain');
  assert.equal(responseKey.toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
  const avPairs = encodeAvPairs([
    { id: AvId.NB_DOMAIN_NAME, value: u16('Domain') },
    { id: AvId.NB_COMPUTER_NAME, value: u16('Server') },
  ]);
  const blob = buildClientBlob(Buffer.alloc(8), CLIENT_CHALLENGE, avPairs);
  const proof = ntProofStr(responseKey, SERVER_CHALLENGE, blob);
  assert.equal(proof.toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
  const base = sessionBaseKey(responseKey, proof);
  assert.equal(base.toString('hex'), '8de40ccadbc14a82f15cb0ad0de95ca3');
  assert.equal(rc4(base, RANDOM_SESSION_KEY).toString('hex'), 'c5dad2544fc9799094ce1ce90bc9d03e');
  // LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge (4.2.4.2.1).
  const lmv2 = createHmac('md5', responseKey).update(SERVER_CHALLENGE).update(CLIENT_CHALLENGE).digest();
  assert.equal(lmv2.toString('hex'), '86c35097ac9cec102554764a57cccc19');
});

test('MS-NLMP 4.2.4.4 keys and GSS_WrapEx: sealing key, signing key, sealed data and signature', () => {
  const flags = 0xe2888235; // the AUTHENTICATE flags of 4.2.4.3: KEY_EXCH, 128, ESS, SIGN, SEAL...
  assert.equal(sealKey(RANDOM_SESSION_KEY, flags, 'client').toString('hex'), '59f600973cc4960a25480a7c196e4c58');
  const sk = signKey(RANDOM_SESSION_KEY, 'client');
  assert.equal(sk.toString('hex'), '4788dc861b4782f35d43fd98fe1a2d39');
  const plaintext = u16('Plaintext');
  const checksum = createHmac('md5', sk).update(Buffer.alloc(4)).update(plaintext).digest().subarray(0, 8);
  assert.equal(checksum.toString('hex'), '70352851f2564309');
  // GSS_WrapEx seals the data, then the checksum, with one continuing RC4 stream.
  const handle = new Rc4(sealKey(RANDOM_SESSION_KEY, flags, 'client'));
  assert.equal(handle.update(plaintext).toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f');
  assert.equal(handle.update(checksum).toString('hex'), '7fb38ec5c55d4976');
});

test('NtlmSecurityContext: client signature verifies on the server and vice versa', () => {
  const key = randomBytes(16);
  const flags = NtlmFlag.KEY_EXCH | NtlmFlag.N128 | NtlmFlag.EXTENDED_SESSIONSECURITY | NtlmFlag.SIGN;
  const client = new NtlmSecurityContext(key, flags, 'client');
  const server = new NtlmSecurityContext(key, flags, 'server');
  const m1 = Buffer.from('first');
  const s1 = client.sign(m1);
  assert.equal(s1.readUInt32LE(0), 1);
  assert.equal(s1.readUInt32LE(12), 0, 'sequence number 0');
  assert.equal(server.verify(m1, s1), true);
  const s2 = server.sign(m1);
  assert.notDeepEqual(s2, s1, 'directions use different keys');
  assert.equal(client.verify(m1, s2), true);
  const s3 = client.sign(Buffer.from('second'));
  assert.equal(s3.readUInt32LE(12), 1);
  const tampered = Buffer.from(s3);
  tampered[5]! ^= 1;
  assert.equal(server.verify(Buffer.from('second'), tampered), false);
});

// ---------------------------------------------------------------- acceptor with the 4.2.4.3 AUTHENTICATE message
class MapStore implements UserStore {
  constructor(private readonly users: Map<string, UserRecord>) {}
  async get(name: string) {
    return this.users.get(name.toLowerCase());
  }
}

async function store(entries: Record<string, string>): Promise<UserStore> {
  const m = new Map<string, UserRecord>();
  for (const [name, pw] of Object.entries(entries)) m.set(name.toLowerCase(), { name, ntHash: await ntHashFromPassword(pw) });
  return new MapStore(m);
}

test('acceptor: MS-NLMP 4.2.4.3 AUTHENTICATE_MESSAGE yields RandomSessionKey via KEY_EXCH (raw NTLMSSP)', async () => {
  const acceptor = new SpnegoNtlmAcceptor({
    users: await store({ User: 'Password' }),
    serverName: 'Server',
    domain: 'Domain',
    allowGuest: false,
    serverChallenge: SERVER_CHALLENGE,
  });
  const s1 = await acceptor.step(buildNegotiate(0xe2088235 | NtlmFlag.REQUEST_TARGET));
  assert.equal(s1.status, Status.MORE_PROCESSING_REQUIRED);
  const ch = parseChallenge(s1.outputToken);
  assert.deepEqual(ch.serverChallenge, SERVER_CHALLENGE);
  const auth = hex(
    '4e544c4d5353500003000000180018006c00000054005400840000000c000c00' +
      '480000000800080054000000100010005c00000010001000d8000000358288e2' +
      '0501280a0000000f44006f006d00610069006e00550073006500720043004f00' +
      '4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa' +
      'aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000' +
      '00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00' +
      '01000c005300650072007600650072000000000000000000c5dad2544fc97990' +
      '94ce1ce90bc9d03e',
  );
  const parsed = parseAuthenticate(auth);
  assert.equal(parsed.user, 'User');
  assert.equal(parsed.domain, 'Domain');
  assert.equal(parsed.workstation, 'COMPUTER');
  assert.equal(parsed.ntResponse.length, 84);
  const s2 = await acceptor.step(auth);
  assert.equal(s2.status, Status.SUCCESS);
  assert.equal(s2.outputToken.length, 0, 'raw NTLMSSP gets a raw (empty) answer');
  assert.ok(s2.identity);
  assert.equal(s2.identity.user, 'User');
  assert.equal(s2.identity.isGuest, false);
  assert.equal(s2.identity.sessionKey.toString('hex'), RANDOM_SESSION_KEY.toString('hex'));
});

// ---------------------------------------------------------------- a tiny NTLM client
interface ClientOpts {
  user: string;
  password: string;
  domain: string;
  spnego?: boolean;
  keyExch?: boolean;
  mic?: boolean;
  mechListMic?: boolean;
  ntlmv1?: boolean;
  anonymous?: boolean;
  corruptMic?: boolean;
  corruptMechListMic?: boolean;
}

const CLIENT_FLAGS =
  NtlmFlag.UNICODE |
  NtlmFlag.REQUEST_TARGET |
  NtlmFlag.SIGN |
  NtlmFlag.NTLM |
  NtlmFlag.ALWAYS_SIGN |
  NtlmFlag.EXTENDED_SESSIONSECURITY |
  NtlmFlag.VERSION |
  NtlmFlag.N128 |
  NtlmFlag.N56;

class TestClient {
  negotiateMsg!: Buffer;
  exportedKey = Buffer.alloc(0);
  security?: NtlmSecurityContext;
  readonly mechTypes = [OID_NTLMSSP];
  constructor(private readonly o: ClientOpts) {}

  get flags(): number {
    return (CLIENT_FLAGS | (this.o.keyExch === false ? 0 : NtlmFlag.KEY_EXCH)) >>> 0;
  }

  first(): Buffer {
    this.negotiateMsg = buildNegotiate(this.flags);
    return this.o.spnego === false ? this.negotiateMsg : buildNegTokenInit(this.mechTypes, this.negotiateMsg);
  }

  async second(token: Buffer): Promise<Buffer> {
    let challengeMsg = token;
    if (this.o.spnego !== false) {
      const resp = parseNegTokenResp(token);
      assert.equal(resp.negState, NegState.ACCEPT_INCOMPLETE);
      assert.equal(resp.supportedMech, OID_NTLMSSP);
      challengeMsg = resp.responseToken!;
    }
    const ch = parseChallenge(challengeMsg);
    const flags = (this.flags & ch.flags) >>> 0;
    const pairs = parseAvPairs(ch.targetInfo);
    const timestamp = pairs.find((p) => p.id === AvId.TIMESTAMP)?.value ?? Buffer.alloc(8);
    let lm: Buffer;
    let ntResp: Buffer;
    let base = Buffer.alloc(16);
    if (this.o.anonymous) {
      lm = Buffer.alloc(1);
      ntResp = Buffer.alloc(0);
    } else if (this.o.ntlmv1) {
      lm = randomBytes(24);
      ntResp = randomBytes(24);
    } else {
      const key = ntowfv2(await ntHashFromPassword(this.o.password), this.o.user, this.o.domain);
      const clientPairs = [...pairs];
      if (this.o.mic !== false) {
        const f = Buffer.alloc(4);
        f.writeUInt32LE(2);
        clientPairs.push({ id: AvId.FLAGS, value: f });
      }
      const blob = buildClientBlob(timestamp, randomBytes(8), encodeAvPairs(clientPairs));
      const proof = ntProofStr(key, ch.serverChallenge, blob);
      ntResp = Buffer.concat([proof, blob]);
      lm = Buffer.alloc(24);
      base = sessionBaseKey(key, proof);
    }
    let encKey = Buffer.alloc(0);
    this.exportedKey = base;
    if (flags & NtlmFlag.KEY_EXCH && !this.o.anonymous) {
      const random = randomBytes(16);
      encKey = rc4(base, random);
      this.exportedKey = random;
    }
    const withMic = this.o.mic !== false && !this.o.anonymous && !this.o.ntlmv1;
    const auth = buildAuthenticate({
      flags,
      lmResponse: lm,
      ntResponse: ntResp,
      domain: this.o.domain,
      user: this.o.anonymous ? '' : this.o.user,
      workstation: 'CLIENT',
      encryptedRandomSessionKey: encKey,
      withMic,
    });
    if (withMic) {
      const mic = createHmac('md5', this.exportedKey).update(this.negotiateMsg).update(challengeMsg).update(auth).digest();
      if (this.o.corruptMic) mic[0]! ^= 1;
      mic.copy(auth, MIC_OFFSET);
    }
    if (this.o.spnego === false) return auth;
    let mechListMIC: Buffer | undefined;
    if (this.o.mechListMic !== false && !this.o.anonymous && !this.o.ntlmv1) {
      this.security = new NtlmSecurityContext(this.exportedKey, flags, 'client');
      mechListMIC = this.security.sign(encodeMechTypeList(this.mechTypes));
      if (this.o.corruptMechListMic) mechListMIC[6]! ^= 1;
    }
    return buildNegTokenResp({ responseToken: auth, mechListMIC });
  }
}

async function run(client: TestClient, acceptor: SpnegoNtlmAcceptor): Promise<AuthStep> {
  const s1 = await acceptor.step(client.first());
  assert.equal(s1.status, Status.MORE_PROCESSING_REQUIRED);
  return acceptor.step(await client.second(s1.outputToken));
}

async function acceptorFor(allowGuest = false) {
  return new SpnegoNtlmAcceptor({
    users: await store({ alice: 'Secret123', Bob: 'hunter2' }),
    serverName: 'SMB3D',
    domain: 'WORKGROUP',
    allowGuest,
  });
}

test('round trip: SPNEGO + NTLMv2 + KEY_EXCH + MIC + mechListMIC, both sides agree on the session key', async () => {
  const client = new TestClient({ user: 'alice', password: 'Secret123', domain: 'WORKGROUP' });
  const res = await run(client, await acceptorFor());
  assert.equal(res.status, Status.SUCCESS);
  assert.ok(res.identity);
  assert.equal(res.identity.user, 'alice');
  assert.equal(res.identity.isAnonymous, false);
  assert.equal(res.identity.isGuest, false);
  assert.deepEqual(res.identity.sessionKey, client.exportedKey);
  assert.equal(res.identity.sessionKey.length, 16);
  // The accept-completed answer carries the server's mechListMIC, which the client must be able to verify.
  const final = parseNegTokenResp(res.outputToken);
  assert.equal(final.negState, NegState.ACCEPT_COMPLETED);
  assert.ok(final.mechListMIC, 'server mechListMIC present');
  assert.equal(client.security!.verify(encodeMechTypeList(client.mechTypes), final.mechListMIC), true);
});

test('round trip: user name case, other domain as typed, empty domain, no KEY_EXCH', async () => {
  for (const o of [
    { user: 'ALICE', domain: 'SOMEWHERE' },
    { user: 'alice', domain: '' },
    { user: 'bob', domain: 'workgroup', keyExch: false },
  ]) {
    const client = new TestClient({ password: o.user.toLowerCase() === 'bob' ? 'hunter2' : 'Secret123', ...o });
    const res = await run(client, await acceptorFor());
    assert.equal(res.status, Status.SUCCESS, JSON.stringify(o));
    assert.deepEqual(res.identity!.sessionKey, client.exportedKey);
  }
});

test('a client that sends no mechListMIC and no NTLM MIC gets no mechListMIC back', async () => {
  const client = new TestClient({ user: 'alice', password: 'Secret123', domain: 'W', mic: false, mechListMic: false });
  const res = await run(client, await acceptorFor());
  assert.equal(res.status, Status.SUCCESS);
  assert.equal(parseNegTokenResp(res.outputToken).mechListMIC, undefined);
});

test('raw NTLMSSP round trip is answered raw', async () => {
  const client = new TestClient({ user: 'alice', password: 'Secret123', domain: 'W', spnego: false });
  const res = await run(client, await acceptorFor());
  assert.equal(res.status, Status.SUCCESS);
  assert.equal(res.outputToken.length, 0);
  assert.deepEqual(res.identity!.sessionKey, client.exportedKey);
});

test('wrong password -> LOGON_FAILURE, even with map to guest', async () => {
  for (const guest of [false, true]) {
    const res = await run(new TestClient({ user: 'alice', password: 'nope', domain: 'W' }), await acceptorFor(guest));
    assert.equal(res.status, Status.LOGON_FAILURE);
    assert.equal(res.identity, undefined);
  }
});

test('unknown user -> LOGON_FAILURE, or guest with allowGuest', async () => {
  const r1 = await run(new TestClient({ user: 'mallory', password: 'x', domain: 'W' }), await acceptorFor(false));
  assert.equal(r1.status, Status.LOGON_FAILURE);
  const r2 = await run(new TestClient({ user: 'mallory', password: 'x', domain: 'W' }), await acceptorFor(true));
  assert.equal(r2.status, Status.SUCCESS);
  assert.equal(r2.identity!.isGuest, true);
  assert.equal(r2.identity!.sessionKey.length, 0);
  assert.equal(parseNegTokenResp(r2.outputToken).mechListMIC, undefined, 'no key, no mechListMIC');
});

test('NTLMv1 response -> LOGON_FAILURE', async () => {
  const res = await run(new TestClient({ user: 'alice', password: 'Secret123', domain: 'W', ntlmv1: true }), await acceptorFor());
  assert.equal(res.status, Status.LOGON_FAILURE);
});

test('anonymous logon -> SUCCESS, isAnonymous, empty session key', async () => {
  const res = await run(new TestClient({ user: '', password: '', domain: '', anonymous: true }), await acceptorFor());
  assert.equal(res.status, Status.SUCCESS);
  assert.equal(res.identity!.isAnonymous, true);
  assert.equal(res.identity!.sessionKey.length, 0);
});

test('a bad NTLM MIC -> INVALID_PARAMETER; a bad mechListMIC -> LOGON_FAILURE', async () => {
  const r1 = await run(new TestClient({ user: 'alice', password: 'Secret123', domain: 'W', corruptMic: true }), await acceptorFor());
  assert.equal(r1.status, Status.INVALID_PARAMETER);
  const r2 = await run(
    new TestClient({ user: 'alice', password: 'Secret123', domain: 'W', corruptMechListMic: true }),
    await acceptorFor(),
  );
  assert.equal(r2.status, Status.LOGON_FAILURE);
});

test('malformed tokens give INVALID_PARAMETER, never an exception', async () => {
  for (const tok of [hex('60'), hex('6003060100'), hex('a1'), Buffer.from('NTLMSSP\0\x03\0\0\0'), randomBytes(40), hex('a003300100')]) {
    const a = await acceptorFor();
    const r = await a.step(tok);
    assert.ok([Status.INVALID_PARAMETER, Status.LOGON_FAILURE].includes(r.status as never), `token ${tok.toString('hex')}`);
  }
  // A truncated AUTHENTICATE after a valid first leg.
  const a = await acceptorFor();
  const c = new TestClient({ user: 'alice', password: 'Secret123', domain: 'W' });
  await a.step(c.first());
  const r = await a.step(buildNegTokenResp({ responseToken: Buffer.from('NTLMSSP\0\x03\0\0\0\xff\xff\xff\xff', 'latin1') }));
  assert.equal(r.status, Status.INVALID_PARAMETER);
  // Steps after completion are refused.
  assert.equal((await a.step(Buffer.alloc(10))).status, Status.INVALID_PARAMETER);
});

test('empty first token gets our NegTokenInit; non-preferred NTLMSSP gets a mech-only reply', async () => {
  const a = await acceptorFor();
  const r = await a.step(Buffer.alloc(0));
  assert.equal(r.status, Status.MORE_PROCESSING_REQUIRED);
  assert.deepEqual(r.outputToken, buildNegotiateSecurityBlob());

  const krb5 = '1.2.840.113554.1.2.2';
  const b = await acceptorFor();
  const r1 = await b.step(buildNegTokenInit([krb5, OID_NTLMSSP], randomBytes(30)));
  assert.equal(r1.status, Status.MORE_PROCESSING_REQUIRED);
  const resp = parseNegTokenResp(r1.outputToken);
  assert.equal(resp.supportedMech, OID_NTLMSSP);
  assert.equal(resp.responseToken, undefined);
  // The client then starts NTLMSSP inside a NegTokenResp.
  const neg = buildNegotiate(CLIENT_FLAGS);
  const r2 = await b.step(buildNegTokenResp({ responseToken: neg }));
  assert.equal(r2.status, Status.MORE_PROCESSING_REQUIRED);
  assert.ok(parseChallenge(parseNegTokenResp(r2.outputToken).responseToken!));

  const c = await acceptorFor();
  const rj = await c.step(buildNegTokenInit([krb5], randomBytes(10)));
  assert.equal(rj.status, Status.LOGON_FAILURE);
});

// ---------------------------------------------------------------- SPNEGO / DER encodings
test('buildNegotiateSecurityBlob: the NegTokenInit2 bytes Windows and Samba send', () => {
  assert.equal(
    buildNegotiateSecurityBlob().toString('hex'),
    '604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa32a3028a0261b24' +
      Buffer.from('not_defined_in_RFC4178@please_ignore').toString('hex'),
  );
  assert.deepEqual(parseNegTokenInit(buildNegotiateSecurityBlob()).mechTypes, [OID_NTLMSSP]);
});

test('SPNEGO parses real Windows tokens (from the SMB 3.1.1 preauth blog capture)', () => {
  const init = parseNegTokenInit(
    hex('604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000000F'),
  );
  assert.deepEqual(init.mechTypes, [OID_NTLMSSP]);
  assert.equal(init.mechTypesDer.toString('hex'), '300c060a2b06010401823702020a');
  assert.equal(init.mechToken!.readUInt32LE(12), 0xe2088297);
  const resp = parseNegTokenResp(
    hex(
      'A181B03081ADA0030A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038' +
        '00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53' +
        '005500540033003100310002000C0053005500540033003100310001000C00530055005400330031' +
        '00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1' +
        'A1F5ADCBAED00100000000',
    ),
  );
  assert.equal(resp.negState, NegState.ACCEPT_INCOMPLETE);
  assert.equal(resp.supportedMech, OID_NTLMSSP);
  const ch = parseChallenge(resp.responseToken!);
  assert.equal(ch.targetName, 'SUT311');
  assert.deepEqual(
    parseAvPairs(ch.targetInfo).map((p) => p.id),
    [AvId.NB_DOMAIN_NAME, AvId.NB_COMPUTER_NAME, AvId.DNS_DOMAIN_NAME, AvId.DNS_COMPUTER_NAME, AvId.TIMESTAMP],
  );
});

test('DER: OIDs round trip, long lengths, bounds checks', () => {
  for (const oid of [OID_NTLMSSP, '1.3.6.1.5.5.2', '1.2.840.113554.1.2.2', '2.999.1']) {
    assert.equal(decodeOid(expectTlv(encodeOid(oid), 0x06).value), oid);
  }
  const long = buildNegTokenResp({ responseToken: Buffer.alloc(70000, 1) });
  assert.equal(parseNegTokenResp(long).responseToken!.length, 70000);
  assert.throws(() => readTlv(hex('3005010203'), 0), /DER/);
  assert.throws(() => readTlv(hex('3080'), 0), /DER/);
  assert.throws(() => readTlv(hex('1f0101'), 0), /DER/);
});
