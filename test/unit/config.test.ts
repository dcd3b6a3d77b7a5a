import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseSmbConf } from '../../src/config/smbconf.js';
import { buildServerOptions, loadConfigFile, ConfigError } from '../../src/config/load.js';
import { parseInterfaces } from '../../src/config/interfaces.js';
import { parseBool, parseEncrypt, parseProtocol, parseSigning, parseUserList } from '../../src/config/values.js';
import { validateShareName } from '../../src/config/share-name.js';
import { defaultPassdbPath } from '../../src/config/paths.js';
import { Dialect } from '../../src/server/options.js';

async function tmpdir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'smb3d-config-'));
}

/** Parses `text` as smb.conf and builds options, so errors carry file and line. */
async function build(text: string, extra: Parameters<typeof buildServerOptions>[0] = {}) {
  return buildServerOptions({ config: parseSmbConf(text, 'smb.conf'), pathEnv: { env: {}, uid: 1000, home: '/home/u' }, ...extra });
}

async function rejectsAt(p: Promise<unknown>, line: number | undefined, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.line, line);
    assert.match(err.message, re);
    return true;
  });
}

test('parser: sections, normalised keys, comments, continuation, quotes, line numbers', () => {
  const text = [
    '; a comment',
    '# another',
    'workgroup = EARLY', // before any header: belongs to [global]
    '[Global]',
    '   Server   String   =  my # server  ',
    '  interfaces = "eth0;if_index=65,speed=1000000000,capability=RSS" \\',
    '     lo',
    '[Data]',
    'path=/srv/data',
    'read only = no',
    'READ ONLY = yes',
    '[global]',
    'smbd:FSCTL_SMBTORTURE = yes',
    '',
  ].join('\n');
  const c = parseSmbConf(text, 'x.conf');
  assert.equal(c.file, 'x.conf');
  assert.equal(c.global.entries.get('workgroup')?.value, 'EARLY');
  assert.equal(c.global.entries.get('workgroup')?.line, 3);
  // '#' inside a value is data, as in Samba; internal key whitespace collapsed.
  assert.deepEqual(c.global.entries.get('server string'), { key: 'server string', value: 'my # server', line: 5 });
  const ifs = c.global.entries.get('interfaces')!;
  assert.equal(ifs.line, 6);
  assert.equal(ifs.value, '"eth0;if_index=65,speed=1000000000,capability=RSS" lo');
  assert.equal(c.global.entries.get('smbd:fsctl_smbtorture')?.value, 'yes');
  assert.equal(c.sections.length, 1);
  const data = c.sections[0]!;
  assert.equal(data.name, 'Data');
  assert.equal(data.line, 8);
  assert.equal(data.entries.get('read only')?.value, 'yes', 'last value wins');
  assert.equal(data.entries.get('read only')?.line, 11);
});

test('parser: syntax errors name the file and line', () => {
  assert.throws(() => parseSmbConf('[global]\nworkgroup = X\njust words\n', 'smb.conf'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, 'smb.conf');
    assert.equal(err.line, 3);
    assert.match(err.message, /^smb\.conf:3: expected "key = value"/);
    return true;
  });
  assert.throws(() => parseSmbConf('\n[broken\n', 'a.conf'), /^ConfigError: a\.conf:2: section header without closing/);
  assert.throws(() => parseSmbConf('[]\n', 'a.conf'), /a\.conf:1: empty section name/);
  assert.throws(() => parseSmbConf(' = x\n', 'a.conf'), /a\.conf:1: missing key/);
});

test('values: booleans, encryption, signing, protocols', () => {
  for (const v of ['yes', 'True', '1', 'ON']) assert.equal(parseBool(v), true);
  for (const v of ['no', 'FALSE', '0', 'off']) assert.equal(parseBool(v), false);
  assert.throws(() => parseBool('maybe'), /unknown boolean value "maybe"/);

  assert.equal(parseEncrypt('default'), 'if_required');
  assert.equal(parseEncrypt('enabled'), 'if_required');
  assert.equal(parseEncrypt('auto'), 'if_required');
  assert.equal(parseEncrypt('disabled'), 'off');
  assert.equal(parseEncrypt('No'), 'off');
  assert.equal(parseEncrypt('desired'), 'desired');
  assert.equal(parseEncrypt('mandatory'), 'required');
  assert.equal(parseEncrypt('force'), 'required');
  assert.throws(() => parseEncrypt('sometimes'));

  assert.equal(parseSigning('default'), 'auto');
  assert.equal(parseSigning('auto'), 'auto');
  assert.equal(parseSigning('mandatory'), 'mandatory');
  assert.equal(parseSigning('required'), 'mandatory');
  assert.equal(parseSigning('disabled'), 'disabled');
  assert.equal(parseSigning('off'), 'disabled');
  assert.throws(() => parseSigning('perhaps'));

  assert.equal(parseProtocol('SMB2_02'), Dialect.SMB2_02);
  assert.equal(parseProtocol('smb2_10'), Dialect.SMB2_10);
  assert.equal(parseProtocol('SMB2'), Dialect.SMB2_10);
  assert.equal(parseProtocol('SMB3_00'), Dialect.SMB3_00);
  assert.equal(parseProtocol('SMB3_02'), Dialect.SMB3_02);
  assert.equal(parseProtocol('SMB3_11'), Dialect.SMB3_11);
  assert.equal(parseProtocol('SMB3'), Dialect.SMB3_11);
  assert.throws(() => parseProtocol('NT1'), /not supported/);
  assert.throws(() => parseProtocol('LANMAN2'), /not supported/);
  assert.throws(() => parseProtocol('SMB4'), /unknown protocol/);
});

test('interfaces: Samba syntax with options, quotes and plain names', () => {
  assert.deepEqual(parseInterfaces('"eth0;if_index=65,speed=1000000000,capability=RSS"'), [
    { name: 'eth0', ifIndex: 65, speed: 1000000000, capabilities: ['RSS'] },
  ]);
  assert.deepEqual(parseInterfaces('"192.168.1.2;speed=1000000000" lo'), [
    { name: '192.168.1.2', speed: 1000000000 },
    { name: 'lo' },
  ]);
  assert.deepEqual(parseInterfaces('eth0, eth1 10.0.0.1/24'), [{ name: 'eth0' }, { name: 'eth1' }, { name: '10.0.0.1/24' }]);
  assert.deepEqual(parseInterfaces('"eth2;capability=RSS,capability=rdma,speed=10G"'), [
    { name: 'eth2', capabilities: ['RSS', 'RDMA'], speed: 10_000_000_000 },
  ]);
  // Unquoted, the comma splits the item; the key=value fragment goes back to its item.
  assert.deepEqual(parseInterfaces('eth0;if_index=3,speed=100 eth1'), [{ name: 'eth0', ifIndex: 3, speed: 100 }, { name: 'eth1' }]);
  assert.throws(() => parseInterfaces('"eth0;capability=FAST"'), /capability "FAST"/);
  assert.throws(() => parseInterfaces('"eth0;speed=-1"'), /speed/);
  assert.throws(() => parseInterfaces('"eth0;if_index=0"'), /if_index/);
  assert.throws(() => parseInterfaces('"eth0;colour=blue"'), /unknown interface option "colour"/);
  assert.throws(() => parseInterfaces('"eth0'), /unbalanced quote/);
});

test('share names follow Windows rules', () => {
  validateShareName('data$');
  validateShareName('x'.repeat(80));
  assert.throws(() => validateShareName('x'.repeat(81)), /80/);
  for (const bad of ['a/b', 'a\\b', 'a:b', 'a*b', 'a"b', 'a,b', 'a=b']) assert.throws(() => validateShareName(bad), /contains/);
  assert.throws(() => validateShareName('ipc$'), /reserved/);
});

test('a good configuration builds ServerOptions', async () => {
  const dir = await tmpdir();
  await mkdir(path.join(dir, 'a'));
  await mkdir(path.join(dir, 'b'));
  const { options, passdbPath, warnings } = await build(
    [
      '[global]',
      '  netbios name = SMB3D',
      '  workgroup = "LAB"',
      '  server string = test server',
      '  server signing = mandatory',
      '  server smb encrypt = desired',
      '  server min protocol = SMB2_10',
      '  server max protocol = SMB3',
      '  smb ports = 4445 139',
      '  interfaces = "eth0;if_index=65,speed=1000000000,capability=RSS" lo',
      '  server multi channel support = no',
      '  map to guest = Bad User',
      '  smb3d:passdb = /etc/smb3d/passdb',
      '  smbd:FSCTL_SMBTORTURE = yes',
      '  smb2 disable oplock break retry = yes',
      '  guest ok = yes',
      '  frobnicate = 7',
      `[A]`,
      `  path = ${path.join(dir, 'a')}`,
      '  comment = first share',
      '  writeable = yes',
      '  browsable = no',
      '  smb encrypt = required',
      `[b]`,
      `  path = "${path.join(dir, 'b')}"`,
      '  public = no',
      '  veto files = /x/',
    ].join('\n'),
  );
  assert.equal(options.serverName, 'SMB3D');
  assert.equal(options.workgroup, 'LAB');
  assert.equal(options.signing, 'mandatory');
  assert.equal(options.encrypt, 'desired');
  assert.equal(options.minProtocol, Dialect.SMB2_10);
  assert.equal(options.maxProtocol, Dialect.SMB3_11);
  assert.equal(options.port, 4445);
  assert.equal(options.multiChannel, false);
  assert.equal(options.mapToGuest, 'bad_user');
  assert.deepEqual(options.interfaces, [{ name: 'eth0', ifIndex: 65, speed: 1000000000, capabilities: ['RSS'] }, { name: 'lo' }]);
  assert.equal(options.listen, undefined);
  assert.equal(options.globals?.['smbd:fsctl_smbtorture'], 'yes');
  assert.equal(options.globals?.['smb2 disable oplock break retry'], 'yes');
  assert.equal(options.globals?.['server string'], 'test server');
  assert.equal(passdbPath, '/etc/smb3d/passdb');
  assert.deepEqual(options.shares, [
    { name: 'A', path: path.join(dir, 'a'), comment: 'first share', readOnly: false, guestOk: true, browseable: false, encrypt: 'required' },
    { name: 'b', path: path.join(dir, 'b'), readOnly: true, guestOk: false, browseable: true, encrypt: 'if_required' },
  ]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /^smb\.conf:17: unknown global option "frobnicate"/);
  assert.match(warnings[1]!, /^smb\.conf:27: unknown option "veto files" in \[b\]/);
});

test('defaults: port 445, multichannel on, --share is read-write, passdb default path', async () => {
  const dir = await tmpdir();
  const { options, passdbPath } = await build('', { shares: [`pub=${dir}`] });
  assert.equal(options.port, 445);
  assert.equal(options.multiChannel, true);
  assert.deepEqual(options.shares, [{ name: 'pub', path: dir, readOnly: false, guestOk: false, browseable: true, encrypt: 'if_required' }]);
  assert.equal(passdbPath, '/home/u/.config/smb3d/passdb');
  const over = await build('smb ports = 4445\nsmb3d:passdb = /a\n', { port: 0, passdb: '/b', listen: ['127.0.0.1'] });
  assert.equal(over.options.port, 0, '--port beats smb ports');
  assert.equal(over.passdbPath, '/b', '--passdb beats smb3d:passdb');
  assert.deepEqual(over.options.listen, ['127.0.0.1']);
});

test('default passdb paths', () => {
  assert.equal(defaultPassdbPath({ env: { SMB3D_PASSDB: '/x/p' }, uid: 0 }), '/x/p');
  assert.equal(defaultPassdbPath({ env: {}, uid: 0 }), '/var/lib/smb3d/passdb');
  assert.equal(defaultPassdbPath({ env: {}, uid: 1000, home: '/home/u' }), '/home/u/.config/smb3d/passdb');
  assert.equal(defaultPassdbPath({ env: { XDG_CONFIG_HOME: '/cfg' }, uid: 1000, home: '/home/u' }), '/cfg/smb3d/passdb');
});

test('bind interfaces only listens on the named interfaces', async () => {
  const nics = () => ({
    lo: [{ address: '127.0.0.1', family: 'IPv4', netmask: '255.0.0.0', mac: '', internal: true, cidr: null } as os.NetworkInterfaceInfo],
  });
  const r = await build('interfaces = lo 10.1.2.3/24 nope\nbind interfaces only = yes\n', { networkInterfaces: nics });
  assert.deepEqual(r.options.listen, ['127.0.0.1', '10.1.2.3']);
  assert.match(r.warnings.join('\n'), /interface "nope" not found/);
  await rejectsAt(build('interfaces = nope\nbind interfaces only = yes\n', { networkInterfaces: nics }), 1, /no usable address/);
});

test('every value error names file and line', async () => {
  const dir = await tmpdir();
  const file = path.join(dir, 'f');
  await writeFile(file, '');
  await rejectsAt(build(`[s]\npath = ${dir}\n\nread only = maybe\n`), 4, /^smb\.conf:4: unknown boolean value "maybe" for "read only"$/);
  await rejectsAt(build('server signing = sometimes'), 1, /smb\.conf:1: unknown signing setting "sometimes" for "server signing"/);
  await rejectsAt(build('\nsmb encrypt = perhaps'), 2, /for "smb encrypt"/);
  await rejectsAt(build('server max protocol = NT1'), 1, /"NT1" is not supported/);
  await rejectsAt(build('server min protocol = SMB3\nserver max protocol = SMB2_02'), 1, /above/);
  await rejectsAt(build('smb ports = http'), 1, /invalid port/);
  await rejectsAt(build('a = 1\ninterfaces = "eth0;speed=fast"'), 2, /speed "fast"/);
  await rejectsAt(build('map to guest = always'), 1, /unknown value "always"/);
  await rejectsAt(build('[s]\ncomment = no path\n'), 1, /share \[s\] has no "path"/);
  await rejectsAt(build(`[s]\npath = ${dir}/missing\n`), 2, /does not exist/);
  await rejectsAt(build(`[s]\npath = ${file}\n`), 2, /is not a directory/);
  await rejectsAt(build(`[bad:name]\npath = ${dir}\n`), 1, /contains ":"/);
  await rejectsAt(build(`[IPC$]\npath = ${dir}\n`), 1, /reserved/);
  await rejectsAt(build(`[s]\npath = ${dir}\n`, { shares: [`S=${dir}`] }), undefined, /--share: share "S" defined twice/);
  await rejectsAt(build('', { shares: ['nopath'] }), undefined, /--share: expected NAME=PATH/);
  await rejectsAt(build('', { shares: [`x=${dir}/missing`] }), undefined, /--share: share "x": path .* does not exist/);
});

test('loadConfigFile reads a file and reports a missing one', async () => {
  const dir = await tmpdir();
  const f = path.join(dir, 'smb.conf');
  await writeFile(f, '[global]\nworkgroup = W\n');
  const c = await loadConfigFile(f);
  assert.equal(c.file, f);
  assert.equal(c.global.entries.get('workgroup')?.value, 'W');
  await assert.rejects(loadConfigFile(path.join(dir, 'none.conf')), /none\.conf: cannot read config file: ENOENT/);
});

test('values: user lists for valid users / invalid users', () => {
  assert.deepEqual(parseUserList('alice, bob  "carol"'), ['alice', 'bob', 'carol']);
  assert.deepEqual(parseUserList(''), []);
  assert.throws(() => parseUserList('alice @staff'), /group entries such as "@staff" are not supported/);
});
