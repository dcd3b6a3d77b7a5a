// Hostile and broken input on raw sockets: the server answers with an error or closes
// the connection, never hangs on it and never dies; a real client still works afterwards.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSmb3d, type Smb3dHandle } from '../harness/server.js';
import { ntStatuses, requirePeer, runSmbclient } from '../harness/peers.js';
import { describeRun } from '../harness/proc.js';
import {
  RawConnection,
  SMB2_HEADER_SIZE,
  Smb2Command,
  frame,
  parseNegotiateResponse,
  parseSmb2,
  smb1Negotiate,
  smb2Header,
  smb2Negotiate,
} from '../harness/raw.js';

const STATUS_SUCCESS = 0;
const STATUS_INVALID_PARAMETER = 0xc000000d;
const SMB2_FLAGS_SERVER_TO_REDIR = 0x1;
const WAIT_MS = 5_000;

describe('malformed input', () => {
  let srv: Smb3dHandle;
  const open: RawConnection[] = [];

  const connect = async () => {
    const c = await RawConnection.connect(srv.port);
    open.push(c);
    return c;
  };

  /** The connection must end promptly; a server waiting forever on garbage is a bug too. */
  const expectClosed = async (c: RawConnection, what: string) => {
    assert.ok(await c.waitClosed(WAIT_MS), `${what}: the server did not close the connection within ${WAIT_MS} ms`);
  };

  /** Either an SMB2 error response or a closed connection, within the deadline. */
  const expectErrorOrClose = async (c: RawConnection, what: string, status?: number) => {
    const o = await c.outcome(WAIT_MS);
    assert.ok(!o.timedOut, `${what}: no response and no close within ${WAIT_MS} ms`);
    if (o.frame) {
      const m = parseSmb2(o.frame);
      if (status !== undefined) assert.equal(m.status >>> 0, status, `${what}: status 0x${(m.status >>> 0).toString(16)}`);
      else assert.notEqual(m.status, STATUS_SUCCESS, `${what}: answered with STATUS_SUCCESS`);
    }
  };

  before(async () => {
    srv = await startSmb3d();
  });

  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    assert.equal(srv.exited(), undefined, `smb3d exited; log:\n${srv.logs()}`);
    // The server still serves a well-behaved client.
    if (requirePeer('smbclient')) {
      const r = await runSmbclient(['//127.0.0.1/share', '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`, '-c', 'ls']);
      assert.equal(r.code, 0, describeRun('smbclient ls after the malformed input', r));
      assert.deepEqual(ntStatuses(r), [], describeRun('smbclient ls after the malformed input', r));
    } else {
      const c = await connect();
      c.send(smb2Negotiate({ dialects: [0x0202] }));
      const f = await c.nextFrame(WAIT_MS);
      assert.ok(f, 'no NEGOTIATE response after the malformed input');
      c.destroy();
    }
  });

  after(async () => {
    await srv?.stop();
  });

  it('control: a well-formed SMB2 NEGOTIATE is answered', async () => {
    const c = await connect();
    c.send(smb2Negotiate({ dialects: [0x0202, 0x0210] }));
    const f = await c.nextFrame(WAIT_MS);
    assert.ok(f, 'no response');
    const m = parseSmb2(f);
    assert.equal(m.command, Smb2Command.NEGOTIATE);
    assert.equal(m.status, STATUS_SUCCESS);
    assert.ok(m.flags & SMB2_FLAGS_SERVER_TO_REDIR, 'response flag not set');
    const n = parseNegotiateResponse(m.body);
    assert.equal(n.structureSize, 65);
    assert.equal(n.dialect, 0x0210);
  });

  it('a truncated SMB2 header', async () => {
    const c = await connect();
    c.send(frame(smb2Header({ command: Smb2Command.NEGOTIATE }).subarray(0, 20)));
    await expectErrorOrClose(c, 'truncated header');
  });

  it('an SMB2 header cut inside a complete frame, followed by more traffic', async () => {
    const c = await connect();
    c.send(frame(Buffer.concat([smb2Header({ command: Smb2Command.NEGOTIATE }), Buffer.from([36, 0])])));
    await expectErrorOrClose(c, 'NEGOTIATE body of 2 bytes');
  });

  it('a frame length of 0xFFFFFF followed by a few bytes', async () => {
    const c = await connect();
    c.send(Buffer.concat([Buffer.from([0x00, 0xff, 0xff, 0xff]), smb2Header({ command: Smb2Command.NEGOTIATE }).subarray(0, 16)]));
    await expectClosed(c, 'oversized frame');
  });

  for (const first of [0x01, 0x81, 0xff]) {
    it(`a length prefix whose first byte is 0x${first.toString(16)}`, async () => {
      const c = await connect();
      const body = Buffer.concat([smb2Header({ command: Smb2Command.NEGOTIATE }), Buffer.alloc(38)]);
      const prefix = Buffer.from([first, 0, 0, body.length]);
      c.send(Buffer.concat([prefix, body]));
      await expectClosed(c, `prefix byte 0x${first.toString(16)}`);
    });
  }

  it('random bytes inside a well-formed frame', async () => {
    const c = await connect();
    const junk = randomBytes(300);
    junk[0] = 0x42; // not 0xFE/0xFF/0xFD: no protocol id matches
    c.send(frame(junk));
    await expectErrorOrClose(c, 'random frame');
  });

  it('random bytes without framing', async () => {
    const c = await connect();
    const junk = randomBytes(1024);
    junk[0] = 0x42; // a non-zero first byte can never start a direct-TCP frame
    c.send(junk);
    await expectClosed(c, 'random stream');
  });

  it('an SMB1 NEGOTIATE offering only NT LM 0.12 closes the connection', async () => {
    const c = await connect();
    c.send(smb1Negotiate(['PC NETWORK PROGRAM 1.0', 'LANMAN1.0', 'NT LM 0.12']));
    const o = await c.outcome(WAIT_MS);
    assert.ok(!o.timedOut, 'no response and no close');
    if (o.frame) {
      assert.ok(!o.frame.subarray(0, 4).equals(Buffer.from([0xfe, 0x53, 0x4d, 0x42])), 'answered SMB1-only client with SMB2');
      await expectClosed(c, 'SMB1 only');
    }
  });

  it('an SMB1 NEGOTIATE offering SMB 2.002 and SMB 2.??? gets the SMB2 wildcard, then a real negotiate', async () => {
    const c = await connect();
    c.send(smb1Negotiate(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']));
    const f = await c.nextFrame(WAIT_MS);
    assert.ok(f, 'no response to the multi-protocol negotiate');
    assert.ok(f.length >= SMB2_HEADER_SIZE + 65 - 1, `response too short: ${f.length}`);
    const m = parseSmb2(f);
    assert.equal(m.command, Smb2Command.NEGOTIATE);
    assert.equal(m.status, STATUS_SUCCESS);
    assert.equal(m.messageId, 0n);
    const n = parseNegotiateResponse(m.body);
    assert.equal(n.structureSize, 65);
    assert.equal(n.dialect, 0x02ff, `DialectRevision 0x${n.dialect.toString(16)}`);

    // [MS-SMB2] 3.3.5.3.1: the client follows with an SMB2 NEGOTIATE with MessageId 1.
    c.send(smb2Negotiate({ dialects: [0x0202, 0x0210, 0x0300] }, 1n));
    const f2 = await c.nextFrame(WAIT_MS);
    assert.ok(f2, 'no response to the SMB2 NEGOTIATE after the wildcard');
    const m2 = parseSmb2(f2);
    assert.equal(m2.status, STATUS_SUCCESS);
    assert.equal(m2.messageId, 1n);
    assert.equal(parseNegotiateResponse(m2.body).dialect, 0x0300);
  });

  it('an SMB2 NEGOTIATE with DialectCount 0 is STATUS_INVALID_PARAMETER or closed', async () => {
    const c = await connect();
    c.send(smb2Negotiate({ dialects: [] }));
    await expectErrorOrClose(c, 'DialectCount 0', STATUS_INVALID_PARAMETER);
  });

  it('an SMB2 NEGOTIATE whose DialectCount overruns the message is STATUS_INVALID_PARAMETER or closed', async () => {
    const c = await connect();
    c.send(smb2Negotiate({ dialects: [0x0202], dialectCount: 200 }));
    await expectErrorOrClose(c, 'DialectCount 200 with one dialect', STATUS_INVALID_PARAMETER);
  });

  it('an SMB2 NEGOTIATE offering no dialect the server knows is an error or closed', async () => {
    const c = await connect();
    c.send(smb2Negotiate({ dialects: [0x0100, 0x0999] }));
    await expectErrorOrClose(c, 'unknown dialects');
  });

  it('a second NEGOTIATE on a negotiated connection closes it ([MS-SMB2] 3.3.5.3.1)', async () => {
    const c = await connect();
    c.send(smb2Negotiate({ dialects: [0x0210] }));
    const f = await c.nextFrame(WAIT_MS);
    assert.ok(f && parseSmb2(f).status === STATUS_SUCCESS, 'first NEGOTIATE failed');
    c.send(smb2Negotiate({ dialects: [0x0210] }, 1n));
    await expectClosed(c, 'second NEGOTIATE');
  });

  it('SESSION_SETUP before NEGOTIATE is an error or closed', async () => {
    const c = await connect();
    const body = Buffer.alloc(25);
    body.writeUInt16LE(25, 0);
    c.send(frame(Buffer.concat([smb2Header({ command: Smb2Command.SESSION_SETUP, messageId: 0n }), body])));
    await expectErrorOrClose(c, 'SESSION_SETUP first');
  });

  it('a burst of half-sent frames from many connections', async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, () => connect()));
    for (const c of conns) c.send(Buffer.from([0x00, 0x00, 0x01]));
    for (const c of conns) c.destroy();
  });
});
