import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  aesCmac,
  rc4,
  Rc4,
  smb3Kdf,
  deriveSessionKeys,
  createSigner,
  verify,
  encryptMessage,
  decryptMessage,
  parseTransformHeader,
  PreauthHash,
  CipherId,
  SigningAlgorithm,
} from '../../src/crypto/index.js';
import { NtStatusError, Status } from '../../src/protocol/status.js';
import { gcmAvailable, gcmOpen, gcmSeal } from '../../src/native/libcrypto.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ---------------------------------------------------------------- RFC 4493 section 4
test('AES-CMAC: RFC 4493 examples 1-4', () => {
  const key = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
  const m = hex(
    '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51' +
      '30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
  );
  assert.equal(aesCmac(key, Buffer.alloc(0)).toString('hex'), 'bb1d6929e95937287fa37d129b756746');
  assert.equal(aesCmac(key, m.subarray(0, 16)).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
  assert.equal(aesCmac(key, m.subarray(0, 40)).toString('hex'), 'dfa66747de9ae63030ca32611497c827');
  assert.equal(aesCmac(key, m).toString('hex'), '51f0bebf7e3b9d92fc49741779363cfe');
});

test('AES-CMAC: a buffer list gives the same MAC however it is split', () => {
  const key = randomBytes(16);
  const m = randomBytes(1000);
  const whole = aesCmac(key, m);
  for (const cuts of [[1], [15, 16, 17], [16, 32], [999], [3, 500, 997]]) {
    const parts: Buffer[] = [];
    let prev = 0;
    for (const c of cuts) {
      parts.push(m.subarray(prev, c));
      prev = c;
    }
    parts.push(m.subarray(prev));
    assert.deepEqual(aesCmac(key, parts), whole, `cuts ${cuts}`);
  }
  assert.deepEqual(aesCmac(key, [Buffer.alloc(0), m.subarray(0, 32)]), aesCmac(key, m.subarray(0, 32)));
});

// ---------------------------------------------------------------- RC4 (well-known ARCFOUR vectors)
test('RC4: classic test vectors and streaming', () => {
  assert.equal(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex'), 'bbf316e8d940af0ad3');
  assert.equal(rc4(Buffer.from('Wiki'), Buffer.from('pedia')).toString('hex'), '1021bf0420');
  assert.equal(rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn')).toString('hex'), '45a01f645fc35b383552544b9bf5');
  const s = new Rc4(Buffer.from('Secret'));
  const a = s.update(Buffer.from('Attack'));
  const b = s.update(Buffer.from(' at dawn'));
  assert.equal(Buffer.concat([a, b]).toString('hex'), '45a01f645fc35b383552544b9bf5');
});

// ---------------------------------------------------------------- KDF
test('smb3Kdf: matches OpenSSL KBKDF (counter mode, HMAC-SHA256) for L=128 and L=256', () => {
  const k16 = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  assert.equal(
    smb3Kdf(k16, Buffer.from('SMB2AESCMAC\0'), Buffer.from('SmbSign\0'), 128).toString('hex'),
    '6234814cbb8ea9227440ebfeb5eacbe1',
  );
  const k32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(
    smb3Kdf(k32, Buffer.from('SMBS2CCipherKey\0'), Buffer.alloc(64, 0xab), 256).toString('hex'),
    'e913cd34f9cf6aeae4b3d6e7625607f824f29e9e16e388f29e6bd13726b3d617',
  );
});

// Vectors from Microsoft's Open Specifications blog posts "Encryption in SMB 3.0: a protocol perspective"
// and "SMB 3.1.1 Encryption in Windows 10" / "SMB 3.1.1 Pre-authentication integrity in Windows 10".
const SMB300_SESSION_KEY = hex('B4546771B515F766A86735532DD6C4F0');
const SMB311_SESSION_KEY = hex('419FDDF34C1E001909D362AE7FB6AF79');
const SMB311_PREAUTH = hex(
  'B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256BA2EA30E9' +
    '77F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770',
);

test('deriveSessionKeys 3.0: Microsoft blog vectors (client encrypts with ServerIn, server with ServerOut)', () => {
  const keys = deriveSessionKeys(0x0300, SMB300_SESSION_KEY, undefined, CipherId.AES_128_CCM);
  assert.equal(keys.decryptionKey.toString('hex').toUpperCase(), '261B72350558F2E9DCF613070383EDBF');
  assert.equal(keys.encryptionKey.toString('hex').toUpperCase(), '8FE2B57EC34D2DB5B1A9727F526BBDB5');
  assert.equal(keys.signingKey.length, 16);
  assert.equal(keys.applicationKey.length, 16);
});

test('deriveSessionKeys 3.1.1: Microsoft blog vectors', () => {
  const keys = deriveSessionKeys(0x0311, SMB311_SESSION_KEY, SMB311_PREAUTH, CipherId.AES_128_GCM);
  assert.equal(keys.decryptionKey.toString('hex').toUpperCase(), 'A2F5E80E5D59103034F32E52F698E5EC');
  assert.equal(keys.encryptionKey.toString('hex').toUpperCase(), '748C50868C90F302962A5C35F5F9A8BF');
});

test('deriveSessionKeys 2.x: signing key is the session key, no sealing keys', () => {
  const keys = deriveSessionKeys(0x0210, SMB300_SESSION_KEY, undefined, 0);
  assert.deepEqual(keys.signingKey, SMB300_SESSION_KEY);
  assert.equal(keys.encryptionKey.length, 0);
  assert.equal(keys.decryptionKey.length, 0);
});

test('deriveSessionKeys 3.1.1 AES-256: 32-byte cipher keys from the full session key, L=256', () => {
  const full = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const keys = deriveSessionKeys(0x0311, full, Buffer.alloc(64, 0xab), CipherId.AES_256_GCM);
  assert.equal(keys.encryptionKey.toString('hex'), 'e913cd34f9cf6aeae4b3d6e7625607f824f29e9e16e388f29e6bd13726b3d617');
  assert.equal(keys.decryptionKey.length, 32);
  assert.equal(keys.signingKey.length, 16);
  // The signing key only uses the first 16 bytes of the session key.
  const keys16 = deriveSessionKeys(0x0311, full.subarray(0, 16), Buffer.alloc(64, 0xab), CipherId.AES_128_GCM);
  assert.deepEqual(keys.signingKey, keys16.signingKey);
});

// ---------------------------------------------------------------- preauth integrity (blog vector)
test('PreauthHash + SMBSigningKey: SMB 3.1.1 pre-authentication integrity blog vector', () => {
  const msgs = [
    'FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000' +
      '00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32' +
      '6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000' +
      '010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000' +
      '0200060000000000020002000100',
    'FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000' +
      '000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942' +
      'BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001' +
      '80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182' +
      '3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000' +
      '60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51' +
      'FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000' +
      '5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000' +
      '7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000' +
      '3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562' +
      '6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075' +
      '626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4' +
      '83CA5B65385A251117BEB30712E50000020004000000000001000200',
    'FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000' +
      '00000000000000000000000000000000000000000000000019000001010000000000000058004A00' +
      '0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A' +
      '04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000' +
      '000F',
    'FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000' +
      '190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003' +
      '0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038' +
      '00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53' +
      '005500540033003100310002000C0053005500540033003100310001000C00530055005400330031' +
      '00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1' +
      'A1F5ADCBAED00100000000',
    'FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000' +
      '1900000000100000000000000000000000000000000000001900000101000000000000005800CF01' +
      '0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000' +
      '001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000' +
      '001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055' +
      '005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049' +
      '0056004500520033003100310000000000000000000000000000000000000000000000000063078E' +
      'B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000' +
      '0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055' +
      '00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004' +
      '00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B' +
      '8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016' +
      '0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F' +
      '5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000',
  ].map(hex);
  const expected = [
    'DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C47122594CDE0CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426',
    '324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F36011E997E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513',
    'AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5D432F8ED42C55E33197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9',
    '2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B88357' + '40A73760085633364C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387',
    '0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01',
  ];
  const conn = new PreauthHash();
  assert.deepEqual(conn.digest(), Buffer.alloc(64));
  conn.update(msgs[0]!);
  assert.equal(conn.digest().toString('hex').toUpperCase(), expected[0]);
  conn.update([msgs[1]!.subarray(0, 10), msgs[1]!.subarray(10)]);
  assert.equal(conn.digest().toString('hex').toUpperCase(), expected[1]);
  const session = conn.clone();
  for (let i = 2; i < 5; i++) {
    session.update(msgs[i]!);
    assert.equal(session.digest().toString('hex').toUpperCase(), expected[i], `after message ${i}`);
  }
  // The connection's copy is untouched by the session's updates.
  assert.equal(conn.digest().toString('hex').toUpperCase(), expected[1]);
  const keys = deriveSessionKeys(0x0311, hex('270E1BA896585EEB7AF3472D3B4C75A7'), session.digest(), CipherId.AES_128_GCM);
  assert.equal(keys.signingKey.toString('hex').toUpperCase(), '73FE7A9A77BEF0BDE49C650D8CCB5F76');
});

// ---------------------------------------------------------------- sealing (blog vectors)
test('encryptMessage/decryptMessage 3.0 AES-128-CCM: Microsoft blog vectors', () => {
  const keys = deriveSessionKeys(0x0300, SMB300_SESSION_KEY, undefined, CipherId.AES_128_CCM);
  const sessionId = 0x8e40014000011n;
  const plain = hex(
    'FE534D4240000100000000000900400008000000000000000400000000000000' +
      'FFFE0000010000001100001400E4080000000000000000000000000000000000' +
      '3100700017000000000000000000000015010000390000020100000039020000' +
      '00000000000000007000000000000000536D623320656E6372797074696F6E20' +
      '74657374696E67',
  );
  // The client's request, sealed with the client-to-server key (our decryption key).
  const out = encryptMessage(CipherId.AES_128_CCM, keys.decryptionKey, sessionId, plain, { nonceField: hex('66E69A111892584FB5ED524A744DA3EE') });
  const expected = hex(
    'FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A' +
      '744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5' +
      '2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4' +
      '4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5' +
      'AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6' +
      'C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB',
  );
  assert.equal(Buffer.concat(out).toString('hex'), expected.toString('hex'));
  assert.deepEqual(decryptMessage(CipherId.AES_128_CCM, keys.decryptionKey, expected), plain);

  // The server's response, sealed with ServerOut.
  const response = hex(
    'FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014' +
      '00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079' +
      'E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787' +
      '1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1' +
      '77309E5B',
  );
  const opened = decryptMessage(CipherId.AES_128_CCM, keys.encryptionKey, response);
  assert.equal(
    opened.toString('hex').toUpperCase(),
    'FE534D4240000100000000000900210009000000000000000400000000000000' +
      'FFFE0000010000001100001400E4080000000000000000000000000000000000' +
      '11000000170000000000000000000000',
  );
  const th = parseTransformHeader(response);
  assert.equal(th.sessionId, sessionId);
  assert.equal(th.originalMessageSize, 0x50);
  assert.equal(th.flags, 1);
});

test('encryptMessage/decryptMessage 3.1.1 AES-128-GCM: Microsoft blog vectors', () => {
  const keys = deriveSessionKeys(0x0311, SMB311_SESSION_KEY, SMB311_PREAUTH, CipherId.AES_128_GCM);
  const sessionId = 0x100000000025n;
  const plain = hex(
    'FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000' +
      '25000000001000000000000000000000000000000000000031007000170000000000000000000000' +
      '0600000004000000010000000400000000000000000000007000000000000000536D623320656E63' +
      '72797074696F6E2074657374696E67',
  );
  const expected = hex(
    'FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000' +
      '0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02' +
      'D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB4' +
      '4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9' +
      '1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8',
  );
  // Split the plaintext to exercise the streamed GCM path.
  const out = encryptMessage(
    CipherId.AES_128_GCM,
    keys.decryptionKey,
    sessionId,
    [plain.subarray(0, 64), plain.subarray(64, 100), plain.subarray(100)],
    { nonceField: hex('C7D6822D269CAF48904C664C00000000') },
  );
  assert.equal(out[0]!.length, 52);
  assert.equal(Buffer.concat(out).toString('hex'), expected.toString('hex'));

  const response = hex(
    'FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050000000' +
      '00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8' +
      'F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B' +
      '82E03C9E18A050FF0EA1C967',
  );
  assert.equal(
    decryptMessage(CipherId.AES_128_GCM, keys.encryptionKey, response).toString('hex').toUpperCase(),
    'FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000' +
      '25000000001000000000000000000000000000000000000011000000170000000000000000000000',
  );
});

test('sealing round trip for all four ciphers, random nonces, tamper detection', () => {
  for (const cipher of [1, 2, 3, 4]) {
    const key = randomBytes(cipher >= 3 ? 32 : 16);
    const msg = randomBytes(5000);
    const sealed = encryptMessage(cipher, key, 7n, [msg.subarray(0, 100), msg.subarray(100)]);
    const frame = Buffer.concat(sealed);
    const nonce = parseTransformHeader(frame).nonce;
    const nlen = cipher === 1 || cipher === 3 ? 11 : 12;
    assert.deepEqual(nonce.subarray(nlen), Buffer.alloc(16 - nlen), 'unused nonce bytes are zero');
    assert.deepEqual(decryptMessage(cipher, key, frame), msg);
    for (const pos of [5, 25, 45, 100]) {
      const bad = Buffer.from(frame);
      bad[pos]! ^= 1;
      assert.throws(
        () => decryptMessage(cipher, key, bad),
        (e: unknown) => e instanceof NtStatusError && e.status === Status.ACCESS_DENIED,
        `cipher ${cipher} tamper at ${pos}`,
      );
    }
  }
});

test('decryptMessage rejects malformed frames with INVALID_PARAMETER', () => {
  const key = randomBytes(16);
  const frame = Buffer.concat(encryptMessage(2, key, 1n, Buffer.from('hello world')));
  const isInvalid = (e: unknown) => e instanceof NtStatusError && e.status === Status.INVALID_PARAMETER;
  assert.throws(() => decryptMessage(2, key, frame.subarray(0, 30)), isInvalid);
  assert.throws(() => decryptMessage(2, key, frame.subarray(0, frame.length - 1)), isInvalid);
  const badProto = Buffer.from(frame);
  badProto[0] = 0xfe;
  assert.throws(() => decryptMessage(2, key, badProto), isInvalid);
  const badFlags = Buffer.from(frame);
  badFlags.writeUInt16LE(0, 42);
  assert.throws(() => decryptMessage(2, key, badFlags), isInvalid);
});

// ---------------------------------------------------------------- signing
const SIGN_KEY = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
const SIGN_MSG = Buffer.concat([hex('fe534d42'), Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7) & 255))]);

test('AES-GMAC signer: matches OpenSSL GMAC with the [MS-SMB2] 3.1.4.1 nonce layout', () => {
  const s = createSigner(SigningAlgorithm.AES_GMAC, SIGN_KEY);
  const id = 0x1122334455667788n;
  // Values computed with `openssl mac -cipher AES-128-GCM GMAC`, IV = MessageId LE || flags word LE.
  assert.equal(
    s.sign(SIGN_MSG, { messageId: id, isResponse: true, isCancel: false }).toString('hex'),
    '6762027b19cb3053760c51e5b2b250c8',
  );
  assert.equal(
    s.sign([SIGN_MSG.subarray(0, 64), SIGN_MSG.subarray(64)], { messageId: id, isResponse: true, isCancel: true }).toString('hex'),
    '7f8e67509efcd8603dbd139b4c40fbdc',
  );
  const req = s.sign(SIGN_MSG, { messageId: id, isResponse: false, isCancel: false });
  assert.notDeepEqual(req, s.sign(SIGN_MSG, { messageId: id, isResponse: true, isCancel: false }));
});

test('AES-CMAC signer matches OpenSSL CMAC; HMAC-SHA256 signer truncates to 16 bytes', () => {
  const opts = { messageId: 1n, isResponse: false, isCancel: false };
  assert.equal(createSigner(SigningAlgorithm.AES_CMAC, SIGN_KEY).sign(SIGN_MSG, opts).toString('hex'), '28313d4e9c38ffc108fd2e8e36936343');
  const h = createSigner(SigningAlgorithm.HMAC_SHA256, SIGN_KEY).sign(SIGN_MSG, opts);
  assert.equal(h.length, 16);
  assert.deepEqual(h, createHmac('sha256', SIGN_KEY).update(SIGN_MSG).digest().subarray(0, 16));
});

test('verify: accepts the right signature, rejects a wrong or short one', () => {
  for (const alg of [0, 1, 2]) {
    const s = createSigner(alg, SIGN_KEY);
    const opts = { messageId: 42n, isResponse: false, isCancel: false };
    const sig = s.sign(SIGN_MSG, opts);
    assert.equal(verify(s, SIGN_MSG, opts, sig), true);
    const bad = Buffer.from(sig);
    bad[0]! ^= 0x80;
    assert.equal(verify(s, SIGN_MSG, opts, bad), false);
    assert.equal(verify(s, SIGN_MSG, opts, sig.subarray(0, 8)), false);
  }
  assert.throws(() => createSigner(9, SIGN_KEY), NtStatusError);
});

test('GMAC equals GCM tag over the concatenated message (cross-check of multi-part AAD)', () => {
  const s = createSigner(SigningAlgorithm.AES_GMAC, SIGN_KEY);
  const parts = [randomBytes(64), randomBytes(3), randomBytes(1000)];
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(9n);
  const c = createCipheriv('aes-128-gcm', SIGN_KEY, nonce);
  c.setAAD(Buffer.concat(parts));
  c.final();
  assert.deepEqual(s.sign(parts, { messageId: 9n, isResponse: false, isCancel: false }), c.getAuthTag());
});

test('GCM seals and opens messages larger than one cipher piece, split anywhere, and still detects tampering', () => {
  for (const cipher of [CipherId.AES_128_GCM, CipherId.AES_256_GCM]) {
    const key = randomBytes(cipher === CipherId.AES_128_GCM ? 16 : 32);
    // Three input pieces of odd sizes, the middle one spanning several 256 KiB cipher pieces.
    const parts = [randomBytes(64 + 3), randomBytes(3 * 256 * 1024 + 12345), randomBytes(70_001)];
    const sealed = Buffer.concat(encryptMessage(cipher, key, 0x1234n, parts));
    const plain = Buffer.concat(parts);
    assert.deepEqual(decryptMessage(cipher, key, sealed), plain);
    // The same plaintext sealed as one piece must open to the same bytes (the split changes nothing).
    assert.deepEqual(decryptMessage(cipher, key, Buffer.concat(encryptMessage(cipher, key, 0x1234n, [plain]))), plain);
    const at = sealed.length - 100_000;
    sealed[at] = sealed[at]! ^ 1;
    assert.throws(() => decryptMessage(cipher, key, sealed), (e: unknown) => e instanceof NtStatusError && e.status === Status.ACCESS_DENIED);
  }
});

test('libcrypto AES-GCM matches node:crypto, in place and into other buffers, and rejects tampering', { skip: !gcmAvailable }, () => {
  for (const keyLen of [16, 32]) {
    const key = randomBytes(keyLen);
    const iv = randomBytes(12);
    const aad = randomBytes(32);
    const plain = randomBytes(300_001);
    const c = createCipheriv(keyLen === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
    c.setAAD(aad);
    const ref = Buffer.concat([c.update(plain), c.final()]);
    const refTag = c.getAuthTag();
    // Two pieces: the first in place, the second into a separate buffer; a split inside a block.
    const a = Buffer.from(plain.subarray(0, 100_003));
    const b = plain.subarray(100_003);
    const bOut = Buffer.alloc(b.length);
    const tag = gcmSeal(key, iv, aad, [
      { input: a, output: a },
      { input: b, output: bOut },
    ]);
    assert.deepEqual(tag, refTag);
    assert.ok(Buffer.concat([a, bOut]).equals(ref));
    assert.ok(b.equals(plain.subarray(100_003)), 'an input with its own output is left alone');
    const opened = Buffer.from(ref);
    assert.equal(gcmOpen(key, iv, aad, tag, opened, opened), true);
    assert.ok(opened.equals(plain));
    for (const flip of ['data', 'tag', 'aad'] as const) {
      const ct = Buffer.from(ref);
      const t = Buffer.from(tag);
      const ad = Buffer.from(aad);
      if (flip === 'data') ct[12345]! ^= 0x40;
      if (flip === 'tag') t[3]! ^= 1;
      if (flip === 'aad') ad[0]! ^= 1;
      assert.equal(gcmOpen(key, iv, ad, t, ct, ct), false, `tampered ${flip}`);
    }
  }
});

test('large GCM messages: sealing overwrites only the buffers given up, in-place opening returns a view', () => {
  for (const cipher of [CipherId.AES_128_GCM, CipherId.AES_256_GCM]) {
    const key = randomBytes(cipher === CipherId.AES_128_GCM ? 16 : 32);
    const header = randomBytes(80);
    const data = randomBytes(1024 * 1024 + 5);
    const plain = Buffer.concat([header, data]);
    const dataCopy = Buffer.from(data);
    const nonceField = randomBytes(16);
    nonceField.fill(0, 12);
    const sealed = encryptMessage(cipher, key, 99n, [header, data], { nonceField, overwrite: new Set([data]) });
    const plainSealed = encryptMessage(cipher, key, 99n, [plain], { nonceField });
    assert.ok(Buffer.concat(sealed).equals(Buffer.concat(plainSealed)), 'same bytes as sealing a copy');
    assert.ok(sealed.includes(data), 'the given-up buffer carries its ciphertext');
    assert.ok(!data.equals(dataCopy));
    assert.ok(header.equals(plain.subarray(0, 80)), 'the other buffer is untouched');
    const frame = Buffer.concat(sealed);
    const opened = decryptMessage(cipher, key, frame, true);
    assert.ok(opened.equals(plain));
    assert.equal(opened.buffer, frame.buffer, 'a view into the frame');
    // Not in place: the frame keeps its ciphertext.
    const frame2 = Buffer.concat(plainSealed);
    assert.ok(decryptMessage(cipher, key, frame2).equals(plain));
    assert.ok(frame2.equals(Buffer.concat(plainSealed)));
    // Tampered ciphertext, header (AAD) or signature: ACCESS_DENIED, in place or not.
    for (const pos of [10, 30, 52 + 500_000]) {
      for (const inPlace of [false, true]) {
        const bad = Buffer.concat(plainSealed);
        bad[pos]! ^= 1;
        assert.throws(
          () => decryptMessage(cipher, key, bad, inPlace),
          (e: unknown) => e instanceof NtStatusError && (e.status === Status.ACCESS_DENIED || e.status === Status.INVALID_PARAMETER),
          `tamper at ${pos}`,
        );
      }
    }
  }
});
