// The interop harness judges the server, so its own parsing is tested here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, judge, parseExpected, parseTortureOutput, suiteOf } from '../harness/torture.js';
import { frame, parseNegotiateResponse, parseSmb2, smb1Negotiate, smb2Negotiate } from '../harness/raw.js';

// Shape copied from a real smbtorture 4.17 run (--fullname).
const SAMPLE = `smbtorture 4.17.12-Debian
Using seed 1795469269
time: 2026-11-23 21:27:49.079056
progress: 5
test: smb2.read.eof
time: 2026-11-23 21:27:49.079464
success: smb2.read.eof
test: smb2.read.position
failure: smb2.read.position [
../../source4/torture/smb2/read.c:120: status was NT_STATUS_OK, expected NT_STATUS_END_OF_FILE
second line
]
test: smb2.read.bug14607
skip: smb2.read.bug14607 [
../../source4/torture/smb2/read.c:394: server doesn't support FSCTL
]
test: smb2.read.dir
error: smb2.read.dir [
connection lost
]
test: smb2.read.access
`;

describe('parseTortureOutput', () => {
  const r = parseTortureOutput(SAMPLE);
  const by = new Map(r.map((x) => [x.name, x]));

  it('reads each outcome and the bracketed reason', () => {
    assert.equal(by.get('smb2.read.eof')?.outcome, 'success');
    assert.equal(by.get('smb2.read.position')?.outcome, 'failure');
    assert.match(by.get('smb2.read.position')!.reason, /expected NT_STATUS_END_OF_FILE\nsecond line$/);
    assert.equal(by.get('smb2.read.bug14607')?.outcome, 'skip');
    assert.equal(by.get('smb2.read.dir')?.outcome, 'error');
  });

  it('a started test without a result is notrun', () => {
    assert.equal(by.get('smb2.read.access')?.outcome, 'notrun');
    assert.equal(r.length, 5);
  });

  it('one-line skip reasons', () => {
    const x = parseTortureOutput('test: a.b.c\nskip: a.b.c [no support]\n');
    assert.deepEqual(x, [{ name: 'a.b.c', outcome: 'skip', reason: 'no support' }]);
  });
});

describe('expected list', () => {
  it('drops comments and blank lines', () => {
    assert.deepEqual(parseExpected('# head\n\nsmb2.connect  # trailing\n  smb2.read.*\n'), ['smb2.connect', 'smb2.read.*']);
  });

  it('globs match across dots, nothing else is special', () => {
    assert.ok(globToRegExp('smb2.read.*').test('smb2.read.eof'));
    assert.ok(!globToRegExp('smb2.read.*').test('smb2Xread.eof'));
    assert.ok(!globToRegExp('smb2.read').test('smb2.read.eof'));
  });

  it('suiteOf takes two dotted parts', () => {
    assert.equal(suiteOf('smb2.lock.rw-none'), 'smb2.lock');
    assert.equal(suiteOf('smb2.connect'), 'smb2.connect');
    assert.equal(suiteOf('smb2.*'), undefined);
    assert.equal(suiteOf('base'), undefined);
  });

  it('judge: exact names must pass, globs must match and all pass, unlisted passes reported', () => {
    const results = parseTortureOutput(SAMPLE);
    const v = judge(['smb2.read.eof', 'smb2.read.position', 'smb2.nothere', 'smb2.read.b*', 'smb2.zzz.*'], results);
    assert.deepEqual(
      v.missing.map((m) => m.split(':')[0]),
      ['smb2.read.position', 'smb2.nothere', 'smb2.read.bug14607 (from smb2.read.b*)', 'smb2.zzz.*'],
    );
    assert.deepEqual(judge([], results).unlisted, ['smb2.read.eof']);
    assert.deepEqual(judge(['smb2.read.*'], results).unlisted, []);
  });
});

describe('raw packets', () => {
  it('frame: zero byte then 24-bit big-endian length', () => {
    assert.deepEqual([...frame(Buffer.alloc(0x0102))].slice(0, 4), [0, 0, 1, 2]);
    assert.throws(() => frame(Buffer.alloc(0x1000000)));
  });

  it('SMB2 NEGOTIATE: header, StructureSize 36, dialects', () => {
    const b = smb2Negotiate({ dialects: [0x0202, 0x0300] }, 7n);
    assert.equal(b.readUInt32BE(0), b.length - 4);
    const m = parseSmb2(b.subarray(4));
    assert.equal(m.command, 0);
    assert.equal(m.messageId, 7n);
    assert.equal(b.readUInt16LE(4 + 4), 64); // header StructureSize
    assert.equal(m.body.readUInt16LE(0), 36);
    assert.equal(m.body.readUInt16LE(2), 2);
    assert.equal(m.body.readUInt16LE(36), 0x0202);
    assert.equal(m.body.readUInt16LE(38), 0x0300);
  });

  it('SMB1 NEGOTIATE: protocol id, command 0x72, dialect strings', () => {
    const b = smb1Negotiate(['NT LM 0.12', 'SMB 2.???']);
    assert.deepEqual([...b.subarray(4, 9)], [0xff, 0x53, 0x4d, 0x42, 0x72]);
    assert.equal(b[4 + 32], 0); // WordCount
    const byteCount = b.readUInt16LE(4 + 33);
    assert.equal(b.subarray(4 + 35).toString('latin1'), '\x02NT LM 0.12\0\x02SMB 2.???\0');
    assert.equal(byteCount, b.length - 4 - 35);
  });

  it('NEGOTIATE response parser reads DialectRevision at body offset 4', () => {
    const body = Buffer.alloc(65);
    body.writeUInt16LE(65, 0);
    body.writeUInt16LE(0x02ff, 4);
    assert.equal(parseNegotiateResponse(body).dialect, 0x02ff);
    assert.throws(() => parseNegotiateResponse(Buffer.alloc(10)));
  });
});
