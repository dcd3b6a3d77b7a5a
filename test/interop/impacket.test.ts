// Smoke test with impacket's SMB client (a third, independent implementation), and the
// share-boundary check with raw ".." paths that smbclient would clean before sending.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startSmb3d, type Smb3dHandle } from '../harness/server.js';
import { runPython, skipUnless } from '../harness/peers.js';
import { describeRun } from '../harness/proc.js';

// argv: port user password share dialect local_src remote_name local_back
const ROUNDTRIP = String.raw`
import json, sys
from impacket.smbconnection import SMBConnection, SessionError
from impacket import smb3structs

port, user, password, share, dialect, src, remote, back = sys.argv[1:9]
out = {}
conn = SMBConnection('127.0.0.1', '127.0.0.1', sess_port=int(port), timeout=30,
                     preferredDialect=getattr(smb3structs, dialect))
conn.login(user, password)
out['dialect'] = conn.getDialect()
out['shares'] = [s['shi1_netname'][:-1] for s in conn.listShares()]
with open(src, 'rb') as f:
    conn.putFile(share, remote, f.read)
with open(back, 'wb') as f:
    conn.getFile(share, remote, f.write)
out['listed'] = [e.get_longname() for e in conn.listPath(share, '*')]
conn.deleteFile(share, remote)
conn.logoff()
print(json.dumps(out))
`;

// argv: port user password share path local_out
const ESCAPE = String.raw`
import json, sys
from impacket.smbconnection import SMBConnection, SessionError
from impacket import smb3structs, nt_errors

port, user, password, share, target, local = sys.argv[1:7]
conn = SMBConnection('127.0.0.1', '127.0.0.1', sess_port=int(port), timeout=30,
                     preferredDialect=smb3structs.SMB2_DIALECT_30)
conn.login(user, password)
try:
    with open(local, 'wb') as f:
        conn.getFile(share, target, f.write)
    print(json.dumps({'ok': True}))
except SessionError as e:
    code = e.getErrorCode()
    print(json.dumps({'ok': False, 'status': nt_errors.ERROR_MESSAGES.get(code, ('0x%08x' % code,))[0]}))
`;

const DIALECTS = [
  ['SMB2_DIALECT_002', 0x0202],
  ['SMB2_DIALECT_21', 0x0210],
  ['SMB2_DIALECT_30', 0x0300],
] as const;

describe('impacket against smb3d', { skip: skipUnless('impacket') }, () => {
  let srv: Smb3dHandle;

  before(async () => {
    srv = await startSmb3d();
    await mkdir(path.join(srv.shareDir, 'sub'));
  });

  after(async () => {
    const exited = srv?.exited();
    await srv?.stop();
    assert.equal(exited, undefined, 'smb3d exited during the tests');
  });

  for (const [dialect, code] of DIALECTS) {
    it(`${dialect}: login, listShares, putFile/getFile`, async () => {
      const src = path.join(srv.tmp, `${dialect}.src`);
      const back = path.join(srv.tmp, `${dialect}.back`);
      const data = randomBytes(150_000);
      await writeFile(src, data);
      const r = await runPython(ROUNDTRIP, [String(srv.port), srv.user, srv.password, 'share', dialect, src, `${dialect}.bin`, back]);
      assert.equal(r.code, 0, describeRun(`impacket ${dialect}`, r));
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { dialect: number; shares: string[]; listed: string[] };
      assert.equal(out.dialect, code, `negotiated 0x${out.dialect.toString(16)}`);
      assert.ok(out.shares.includes('share'), `listShares: ${JSON.stringify(out.shares)}`);
      assert.ok(out.shares.includes('IPC$'), `listShares: ${JSON.stringify(out.shares)}`);
      assert.ok(out.listed.includes(`${dialect}.bin`), `listPath: ${JSON.stringify(out.listed)}`);
      assert.ok((await readFile(back)).equals(data), 'file read back differs');
      assert.ok(!existsSync(path.join(srv.shareDir, `${dialect}.bin`)), 'deleteFile left the file');
    });
  }

  // Sent verbatim (impacket does not clean paths), unlike smbclient.
  const escapes = ['..\\..\\etc\\passwd', '..\\etc\\passwd', 'sub\\..\\..\\etc\\passwd', '\\..\\etc\\passwd', '/etc/passwd'];
  for (const target of escapes) {
    it(`getFile ${JSON.stringify(target)} does not leave the share`, async (t: TestContext) => {
      const local = path.join(srv.tmp, 'escaped');
      const r = await runPython(ESCAPE, [String(srv.port), srv.user, srv.password, 'share', target, local]);
      assert.equal(r.code, 0, describeRun('impacket escape', r));
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; status?: string };
      assert.equal(out.ok, false, `the server returned a file for ${target}`);
      t.diagnostic(`${target}: ${out.status}`);
      assert.ok(
        ['STATUS_OBJECT_PATH_SYNTAX_BAD', 'STATUS_OBJECT_NAME_INVALID', 'STATUS_ACCESS_DENIED', 'STATUS_OBJECT_PATH_NOT_FOUND', 'STATUS_OBJECT_NAME_NOT_FOUND', 'STATUS_INVALID_PARAMETER'].includes(out.status ?? ''),
        `unexpected status ${out.status}`,
      );
      const got = existsSync(local) ? await readFile(local, 'utf8') : '';
      assert.doesNotMatch(got, /root:/, '/etc/passwd content was received');
    });
  }
});
