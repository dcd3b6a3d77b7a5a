import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess, type ProcResult, type RunOptions } from './proc.js';

export type Peer = 'smbclient' | 'smbtorture' | 'impacket';

/** Debian's impacket is installed for the system interpreter, not for a pyenv python3 on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const cache = new Map<Peer, boolean>();

function onPath(prog: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, prog), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

function probe(name: Peer): boolean {
  if (name === 'impacket') {
    const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import impacket.smbconnection'], { stdio: 'ignore', timeout: 30_000 });
    return r.status === 0;
  }
  return onPath(name);
}

/**
 * True when the peer can be run. Under CI a missing peer is a failure (scripts/install-peers.sh
 * should have installed it), elsewhere the caller skips its tests.
 */
export function requirePeer(name: Peer): boolean {
  let ok = cache.get(name);
  if (ok === undefined) {
    ok = probe(name);
    cache.set(name, ok);
  }
  if (!ok && process.env.CI === 'true') {
    throw new Error(`${name} is not installed but CI=true: run scripts/install-peers.sh as root`);
  }
  return ok;
}

/** Reason string for `{ skip }` options, or false when the peer is present. */
export function skipUnless(name: Peer): string | false {
  return requirePeer(name) ? false : `${name} not installed`;
}

// An empty smb.conf so the machine's /etc/samba/smb.conf cannot change what the peers do.
let emptyConf: string | undefined;
export function emptySmbConf(): string {
  if (!emptyConf) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smb3d-peer-'));
    emptyConf = path.join(dir, 'smb.conf');
    writeFileSync(emptyConf, '[global]\n');
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return emptyConf;
}

export function runSmbclient(args: string[], opts: RunOptions = {}): Promise<ProcResult> {
  return runProcess('smbclient', ['-s', emptySmbConf(), ...args], { timeoutMs: 120_000, ...opts });
}

export function runSmbtorture(args: string[], opts: RunOptions = {}): Promise<ProcResult> {
  return runProcess('smbtorture', ['-s', emptySmbConf(), ...args], { timeoutMs: 300_000, ...opts });
}

export function runPython(script: string, args: string[], opts: RunOptions = {}): Promise<ProcResult> {
  return runProcess(SYSTEM_PYTHON, ['-c', script, ...args], { timeoutMs: 120_000, ...opts });
}

/** `--option` pair pinning both ends of the client's protocol range to one dialect. */
export function pinProtocol(dialect: string): string[] {
  return [`--option=client min protocol=${dialect}`, `--option=client max protocol=${dialect}`];
}

/** Every NT_STATUS_ name a peer printed. */
export function ntStatuses(r: ProcResult): string[] {
  return [...`${r.stdout}\n${r.stderr}`.matchAll(/NT_STATUS_[A-Z0-9_]+/g)].map((m) => m[0]);
}

export type { ProcResult };
