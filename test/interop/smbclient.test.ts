// Acceptance tests against Samba's smbclient: every dialect, signing and sealing
// variants, large transfers, and the share-boundary and access rules.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { startSmb3d, type Smb3dHandle } from '../harness/server.js';
import { ntStatuses, pinProtocol, runSmbclient, skipUnless, type ProcResult } from '../harness/peers.js';
import { describeRun } from '../harness/proc.js';

const skip = skipUnless('smbclient');

const DIALECTS = ['SMB2_02', 'SMB2_10', 'SMB3_00', 'SMB3_02', 'SMB3_11'] as const;
const CIPHERS = ['AES-128-CCM', 'AES-128-GCM', 'AES-256-CCM', 'AES-256-GCM'] as const;
const SIGNING = ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'] as const;

interface Client {
  srv: Smb3dHandle;
  local: string;
  run(share: string, commands: string, extra?: string[], timeoutMs?: number): Promise<ProcResult>;
}

function client(getSrv: () => Smb3dHandle, getLocal: () => string): Client {
  return {
    get srv() {
      return getSrv();
    },
    get local() {
      return getLocal();
    },
    run(share, commands, extra = [], timeoutMs = 120_000) {
      const srv = getSrv();
      return runSmbclient(
        [`//127.0.0.1/${share}`, '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`, ...extra, '-c', commands],
        { cwd: getLocal(), timeoutMs },
      );
    },
  };
}

/** smbclient exits 0 when only the last command succeeded, so the printed statuses are checked too. */
function assertClean(r: ProcResult, what: string): void {
  assert.equal(r.code, 0, describeRun(what, r));
  assert.deepEqual(ntStatuses(r), [], describeRun(what, r));
}

function assertStatus(r: ProcResult, allowed: string[], what: string): string {
  const seen = ntStatuses(r);
  const hit = seen.find((s) => allowed.includes(s));
  assert.ok(hit, `expected one of ${allowed.join(', ')}; ${describeRun(what, r)}`);
  return hit;
}

async function sameBytes(a: string, b: string, what: string): Promise<void> {
  assert.ok(existsSync(b), `${what}: ${b} was not written`);
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  assert.equal(y.length, x.length, `${what}: length differs`);
  assert.ok(x.equals(y), `${what}: content differs`);
}

/** put then get a fresh file through the given options; checks both copies byte for byte. */
async function roundtrip(c: Client, label: string, extra: string[], share = 'share', size = 200_000): Promise<void> {
  const src = `${label}.src`;
  const remote = `${label}.bin`;
  const back = `${label}.back`;
  await writeFile(path.join(c.local, src), randomBytes(size));
  const r = await c.run(share, `put ${src} ${remote}; get ${remote} ${back}`, extra);
  assertClean(r, `${label} put/get`);
  await sameBytes(path.join(c.local, src), path.join(c.srv.dirs[share]!, remote), `${label} file on the server`);
  await sameBytes(path.join(c.local, src), path.join(c.local, back), `${label} file read back`);
}

async function randomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  const chunk = 1 << 20;
  for (let done = 0; done < bytes; done += chunk) {
    const b = randomBytes(Math.min(chunk, bytes - done));
    hash.update(b);
    if (!out.write(b)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return hash.digest('hex');
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const b of createReadStream(file)) hash.update(b as Buffer);
  return hash.digest('hex');
}

describe('smbclient against smb3d', { skip }, () => {
  let srv: Smb3dHandle;
  let local: string;
  const c = client(
    () => srv,
    () => local,
  );

  before(async () => {
    srv = await startSmb3d({
      configShares: {
        ro: 'read only = yes',
        enc: 'smb encrypt = required\n  read only = no',
      },
    });
    local = await mkdtemp(path.join(os.tmpdir(), 'smb3d-smbclient-'));
  });

  after(async () => {
    const exited = srv?.exited();
    await srv?.stop();
    if (local) await rm(local, { recursive: true, force: true });
    assert.equal(exited, undefined, 'smb3d exited during the tests');
  });

  it('-L lists the share and IPC$', async () => {
    const r = await runSmbclient(['-L', '//127.0.0.1', '-p', String(srv.port), '-U', `${srv.user}%${srv.password}`]);
    assert.equal(r.code, 0, describeRun('smbclient -L', r));
    assert.match(r.stdout, /^\s*share\s+Disk/m, describeRun('smbclient -L', r));
    assert.match(r.stdout, /^\s*IPC\$\s+IPC/m, describeRun('smbclient -L', r));
    assert.match(r.stdout, /^\s*ro\s+Disk/m, describeRun('smbclient -L', r));
  });

  describe('file operations at each dialect', () => {
    for (const d of DIALECTS) {
      it(d, async () => {
        const src = `${d}.src`;
        await writeFile(path.join(local, src), randomBytes(70_000));
        const cmds = [
          'ls',
          `put ${src} ${d}.bin`,
          `get ${d}.bin ${d}.back`,
          `mkdir ${d}-dir`,
          'ls',
          `rmdir ${d}-dir`,
          `rename ${d}.bin ${d}.renamed`,
          `allinfo ${d}.renamed`,
          'volume',
          `del ${d}.renamed`,
        ].join('; ');
        const r = await c.run('share', cmds, pinProtocol(d));
        assertClean(r, `${d} commands`);
        await sameBytes(path.join(local, src), path.join(local, `${d}.back`), `${d} get`);
        assert.match(r.stdout, new RegExp(`^\\s+${d}-dir\\s+D\\s`, 'm'), describeRun('ls after mkdir', r));
        assert.match(r.stdout, /create_time:/, describeRun('allinfo', r));
        assert.match(r.stdout, /attributes:/, describeRun('allinfo', r));
        assert.match(r.stdout, /Volume: \|share\|/, describeRun('volume', r));
        for (const gone of [`${d}.bin`, `${d}.renamed`, `${d}-dir`]) {
          assert.ok(!existsSync(path.join(srv.shareDir, gone)), `${gone} should not exist on the server any more`);
        }
      });
    }
  });

  describe('signing and encryption', () => {
    const cases: Array<[string, string[]]> = [
      ['sign-SMB3_11', ['--client-protection=sign', ...pinProtocol('SMB3_11')]],
      ['sign-SMB3_02', ['--client-protection=sign', ...pinProtocol('SMB3_02')]],
      ['sign-SMB3_00', ['--client-protection=sign', ...pinProtocol('SMB3_00')]],
      ['sign-SMB2_10', ['--client-protection=sign', ...pinProtocol('SMB2_10')]],
      ['sign-SMB2_02', ['--client-protection=sign', ...pinProtocol('SMB2_02')]],
      ['encrypt-SMB3_11', ['--client-protection=encrypt', ...pinProtocol('SMB3_11')]],
      ['encrypt-SMB3_02', ['--client-protection=encrypt', ...pinProtocol('SMB3_02')]],
      ['encrypt-SMB3_00', ['--client-protection=encrypt', ...pinProtocol('SMB3_00')]],
    ];
    for (const cipher of CIPHERS) {
      cases.push([
        `encrypt-${cipher}`,
        ['--client-protection=encrypt', ...pinProtocol('SMB3_11'), `--option=client smb3 encryption algorithms=${cipher}`],
      ]);
    }
    for (const alg of SIGNING) {
      cases.push([
        `sign-${alg}`,
        ['--client-protection=sign', ...pinProtocol('SMB3_11'), `--option=client smb3 signing algorithms=${alg}`],
      ]);
    }
    for (const [label, extra] of cases) {
      it(`${label}: put/get roundtrip`, () => roundtrip(c, label, extra));
    }
  });

  describe('100 MiB file', () => {
    const SIZE = 100 * 1024 * 1024;
    const variants: Array<[string, string[]]> = [
      ['plain', pinProtocol('SMB3_11')],
      // Unsigned: the server sends READ data from the file with sendfile.
      ['unsigned', ['--client-protection=off', ...pinProtocol('SMB3_11')]],
      ['AES-128-GCM', ['--client-protection=encrypt', ...pinProtocol('SMB3_11'), '--option=client smb3 encryption algorithms=AES-128-GCM']],
    ];
    for (const [label, extra] of variants) {
      it(`put and get, ${label}`, { timeout: 600_000 }, async (t: TestContext) => {
        const name = `big-${label}`;
        const src = path.join(local, `${name}.src`);
        const digest = await randomFile(src, SIZE);
        try {
          let t0 = performance.now();
          const put = await c.run('share', `put ${name}.src ${name}.bin`, extra, 300_000);
          const putMs = performance.now() - t0;
          assertClean(put, `${label} put`);
          t0 = performance.now();
          const get = await c.run('share', `get ${name}.bin ${name}.back`, extra, 300_000);
          const getMs = performance.now() - t0;
          assertClean(get, `${label} get`);
          const mib = SIZE / (1 << 20);
          t.diagnostic(`${label}: put ${putMs.toFixed(0)} ms (${((mib * 1000) / putMs).toFixed(1)} MiB/s), get ${getMs.toFixed(0)} ms (${((mib * 1000) / getMs).toFixed(1)} MiB/s)`);
          assert.equal(await sha256(path.join(srv.shareDir, `${name}.bin`)), digest, 'file on the server differs');
          assert.equal(await sha256(path.join(local, `${name}.back`)), digest, 'file read back differs');
        } finally {
          await Promise.all([
            rm(src, { force: true }),
            rm(path.join(local, `${name}.back`), { force: true }),
            rm(path.join(srv.shareDir, `${name}.bin`), { force: true }),
          ]);
        }
      });
    }
  });

  it('alternate data streams: put/get by file:stream, allinfo lists them, del takes them along', async () => {
    const data = randomBytes(1500);
    await writeFile(path.join(local, 'ads-main.bin'), 'main data');
    await writeFile(path.join(local, 'ads-stream.bin'), data);
    const put = await c.run('share', 'put ads-main.bin ads.txt; put ads-stream.bin "ads.txt:Zone Info"; put ads-main.bin ads.txt:two:$DATA');
    assertClean(put, 'put streams');
    const info = await c.run('share', 'allinfo ads.txt');
    assertClean(info, 'allinfo');
    assert.match(info.stdout, /stream: \[::\$DATA\], 9 bytes/, describeRun('allinfo', info));
    assert.match(info.stdout, /stream: \[:Zone Info:\$DATA\], 1500 bytes/, describeRun('allinfo', info));
    assert.match(info.stdout, /stream: \[:two:\$DATA\], 9 bytes/, describeRun('allinfo', info));
    const get = await c.run('share', 'get "ads.txt:zone info" ads-back.bin');
    assertClean(get, 'get stream');
    await sameBytes(path.join(local, 'ads-stream.bin'), path.join(local, 'ads-back.bin'), 'stream roundtrip');
    assertClean(await c.run('share', 'del ads.txt'), 'del');
    const gone = await c.run('share', 'allinfo ads.txt:two');
    assertStatus(gone, ['NT_STATUS_OBJECT_NAME_NOT_FOUND'], 'stream after del');
  });

  it('a wrong password is NT_STATUS_LOGON_FAILURE', async () => {
    const r = await runSmbclient(['//127.0.0.1/share', '-p', String(srv.port), '-U', `${srv.user}%not-the-password`, '-c', 'ls']);
    assert.notEqual(r.code, 0, describeRun('wrong password', r));
    assertStatus(r, ['NT_STATUS_LOGON_FAILURE'], 'wrong password');
  });

  describe('staying inside the share', () => {
    before(async () => {
      await writeFile(path.join(srv.shareDir, 'real.txt'), 'inside the share\n');
      await symlink('/etc', path.join(srv.shareDir, 'etclink'));
      await symlink('real.txt', path.join(srv.shareDir, 'inside-link.txt'));
      await mkdir(path.join(srv.shareDir, 'sub'));
      await symlink('../real.txt', path.join(srv.shareDir, 'sub', 'up-link.txt'));
    });

    it('get ../../etc/passwd does not leave the share', async () => {
      // smbclient cleans ".." itself and sends \etc\passwd, so the server only has to
      // refuse or not find it; impacket.test.ts sends the raw ".." path.
      const r = await c.run('share', 'get ../../etc/passwd escaped1; get ..\\..\\etc\\passwd escaped2');
      const allowed = [
        'NT_STATUS_OBJECT_PATH_SYNTAX_BAD',
        'NT_STATUS_OBJECT_NAME_INVALID',
        'NT_STATUS_ACCESS_DENIED',
        'NT_STATUS_OBJECT_PATH_NOT_FOUND',
        'NT_STATUS_OBJECT_NAME_NOT_FOUND',
      ];
      assert.equal(ntStatuses(r).filter((s) => allowed.includes(s)).length, 2, describeRun('get ../../etc/passwd', r));
      assert.ok(!existsSync(path.join(local, 'escaped1')), 'escaped1 was downloaded');
      assert.ok(!existsSync(path.join(local, 'escaped2')), 'escaped2 was downloaded');
    });

    it('a symlink to /etc cannot be listed or read through', async () => {
      const r = await c.run('share', 'ls etclink\\*; get etclink/passwd viaLink; get etclink/hostname viaLink2');
      assert.equal(ntStatuses(r).length, 3, `each command should fail; ${describeRun('symlink out', r)}`);
      assert.doesNotMatch(r.stdout, /\bpasswd\b.*\d{4}$/m, describeRun('ls through the link listed /etc', r));
      assert.ok(!existsSync(path.join(local, 'viaLink')), 'passwd was downloaded through the link');
      assert.ok(!existsSync(path.join(local, 'viaLink2')), 'hostname was downloaded through the link');
    });

    it('a symlink to a file inside the share works', async () => {
      const r = await c.run('share', 'get inside-link.txt viaInside; get sub/up-link.txt viaUp');
      assertClean(r, 'symlink inside');
      assert.equal(await readFile(path.join(local, 'viaInside'), 'utf8'), 'inside the share\n');
      assert.equal(await readFile(path.join(local, 'viaUp'), 'utf8'), 'inside the share\n');
    });
  });

  describe('read only = yes', () => {
    before(async () => {
      await writeFile(path.join(srv.dirs.ro!, 'readme.txt'), 'read me\n');
      await writeFile(path.join(local, 'upload.txt'), 'upload\n');
    });

    it('get works', async () => {
      const r = await c.run('ro', 'get readme.txt ro-back.txt');
      assertClean(r, 'get from read-only share');
      assert.equal(await readFile(path.join(local, 'ro-back.txt'), 'utf8'), 'read me\n');
    });

    it('put, mkdir and del are NT_STATUS_ACCESS_DENIED', async () => {
      for (const cmd of ['put upload.txt upload.txt', 'mkdir newdir', 'del readme.txt']) {
        const r = await c.run('ro', cmd);
        assertStatus(r, ['NT_STATUS_ACCESS_DENIED', 'NT_STATUS_MEDIA_WRITE_PROTECTED'], `${cmd} on a read-only share`);
        assert.ok(ntStatuses(r).includes('NT_STATUS_ACCESS_DENIED'), describeRun(cmd, r));
      }
      assert.ok(!existsSync(path.join(srv.dirs.ro!, 'upload.txt')), 'upload.txt was written');
      assert.ok(!existsSync(path.join(srv.dirs.ro!, 'newdir')), 'newdir was created');
      assert.ok(existsSync(path.join(srv.dirs.ro!, 'readme.txt')), 'readme.txt was deleted');
    });
  });

  describe('smb encrypt = required', () => {
    it('an unencrypted SMB3_11 tree connect is NT_STATUS_ACCESS_DENIED', async () => {
      const r = await c.run('enc', 'ls', ['--client-protection=off', ...pinProtocol('SMB3_11')]);
      assert.notEqual(r.code, 0, describeRun('unencrypted', r));
      assert.match(r.stdout + r.stderr, /tree connect failed: NT_STATUS_ACCESS_DENIED/, describeRun('unencrypted', r));
    });

    it('SMB2_10 (no encryption in the dialect) is NT_STATUS_ACCESS_DENIED', async () => {
      const r = await c.run('enc', 'ls', pinProtocol('SMB2_10'));
      assert.notEqual(r.code, 0, describeRun('SMB2_10', r));
      assert.match(r.stdout + r.stderr, /tree connect failed: NT_STATUS_ACCESS_DENIED/, describeRun('SMB2_10', r));
    });

    it('with encryption it works', () => roundtrip(c, 'enc-share', ['--client-protection=encrypt', ...pinProtocol('SMB3_11')], 'enc'));

    it('SMB3_00 with encryption works', () => roundtrip(c, 'enc-share-300', ['--client-protection=encrypt', ...pinProtocol('SMB3_00')], 'enc'));
  });
});

describe('smbclient guest access', { skip }, () => {
  let srv: Smb3dHandle;

  before(async () => {
    srv = await startSmb3d({ config: 'map to guest = bad user\n', configShares: { pub: 'guest ok = yes' } });
    await writeFile(path.join(srv.dirs.pub!, 'public.txt'), 'public\n');
  });

  after(async () => {
    await srv?.stop();
  });

  const guest = (share: string, creds: string[], cmd = 'ls') =>
    runSmbclient([`//127.0.0.1/${share}`, '-p', String(srv.port), ...creds, '-c', cmd]);

  it('smbclient -N can list a guest ok share', async () => {
    const r = await guest('pub', ['-N']);
    assertClean(r, 'guest ls');
    assert.match(r.stdout, /public\.txt/, describeRun('guest ls', r));
  });

  it('an unknown user becomes guest (map to guest = bad user)', async () => {
    const r = await guest('pub', ['-U', 'nosuchuser%whatever']);
    assertClean(r, 'bad user ls');
    assert.match(r.stdout, /public\.txt/, describeRun('bad user ls', r));
  });

  it('a share without guest ok refuses the guest', async () => {
    const r = await guest('share', ['-N']);
    assert.notEqual(r.code, 0, describeRun('guest on share', r));
    assertStatus(r, ['NT_STATUS_ACCESS_DENIED'], 'guest on a non-guest share');
  });

  it('a known user with a wrong password is not mapped to guest', async () => {
    const r = await guest('pub', ['-U', `${srv.user}%wrong`]);
    assert.notEqual(r.code, 0, describeRun('wrong password', r));
    assertStatus(r, ['NT_STATUS_LOGON_FAILURE'], 'wrong password with map to guest = bad user');
  });
});

describe('smbclient and share user lists', { skip }, () => {
  let srv: Smb3dHandle;

  before(async () => {
    srv = await startSmb3d({
      users: { alice: 'Alice-Pass1', bob: 'Bob-Pass1' },
      configShares: { team: 'valid users = ALICE\n  read only = no', noperm: 'invalid users = alice bob' },
    });
  });

  after(async () => {
    await srv?.stop();
  });

  const ls = (share: string, creds: string) => runSmbclient([`//127.0.0.1/${share}`, '-p', String(srv.port), '-U', creds, '-c', 'ls']);

  it('a user in valid users connects (names compare without case)', async () => {
    assertClean(await ls('team', 'alice%Alice-Pass1'), 'alice on team');
  });

  it('a user not in valid users is refused with ACCESS_DENIED, and still reaches other shares', async () => {
    const r = await ls('team', 'bob%Bob-Pass1');
    assert.notEqual(r.code, 0, describeRun('bob on team', r));
    assertStatus(r, ['NT_STATUS_ACCESS_DENIED'], 'bob on team');
    assertClean(await ls('share', 'bob%Bob-Pass1'), 'bob on share');
  });

  it('invalid users are refused', async () => {
    const r = await ls('noperm', 'alice%Alice-Pass1');
    assertStatus(r, ['NT_STATUS_ACCESS_DENIED'], 'alice on noperm');
  });
});
