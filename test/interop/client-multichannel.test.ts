// Our client against smb3d over several real links (the multi-link lab, test/harness/lab.ts):
// the server listens on each link's address and advertises them; the client, in its own network
// namespace, binds a channel per link and moves a 32 MiB file both ways. Proof is taken from the
// outside: the server's log, the file on the server's disk, and every link's byte counters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLab, netnsUnavailable, type Lab } from '../harness/lab.js';
import { startSmb3d, type Smb3dHandle } from '../harness/server.js';
import { smbdAvailable, type SmbdHandle } from '../harness/smbd.js';
import { runClient, runClientLive, smb3dWrites, smbdWrites, startSmb3dInLab, startSmbdInLab, SMBD_LAB_PORT } from '../harness/mc-run.js';
import type { McClientArgs } from '../harness/mc-client.js';
import type { McCreateArgs, McCreateResult } from '../harness/mc-create.js';

const LINKS = 4;
const SIZE_MIB = 32;
// Slow enough that the links, not the 2-core machine, are the limit (our client reads at only
// ~100 MB/s through the lab when unlimited), fast enough that 1 channel takes ~1.4 s for 32 MiB.
const RATE_MBIT = 200;

describe('client multichannel over a 4-link lab', { skip: netnsUnavailable() }, () => {
  let lab: Lab;
  let server: Smb3dHandle;
  before(async () => {
    lab = await createLab({ links: LINKS, rateMbit: RATE_MBIT, label: 'climc' });
    server = await startSmb3d({
      netns: lab.server.name,
      config: `interfaces = ${lab.links.map((l) => l.serverIf).join(' ')}\n`,
      args: ['--port', '445', ...lab.links.flatMap((l) => ['--listen', l.serverAddr])],
    });
  });
  after(async () => {
    await server?.stop();
    await lab?.destroy();
  });

  const args = (channels: number, file: string): McClientArgs => ({
    host: lab.links[0]!.serverAddr,
    port: 445,
    share: 'share',
    user: server.user,
    password: server.password,
    channels,
    sizeMiB: SIZE_MIB,
    path: file,
  });

  it(`binds ${LINKS} channels and moves ${SIZE_MIB} MiB over every link`, async () => {
    const before = await Promise.all(lab.links.map((l) => lab.txBytes(l.k)));
    const boundBefore = (server.logs().match(/channel bound to session/g) ?? []).length;
    const r = await runClient(lab, args(LINKS, 'mc.bin'));
    assert.deepEqual(r.failed, []);
    assert.deepEqual(r.channels.map((c) => c.address).sort(), lab.links.map((l) => l.serverAddr).sort());
    assert.equal((server.logs().match(/channel bound to session/g) ?? []).length - boundBefore, LINKS - 1, 'server log: channels bound');
    assert.equal(r.read, r.written, 'read back what was written');
    const onDisk = createHash('sha256').update(await readFile(path.join(server.shareDir, 'mc.bin'))).digest('hex');
    assert.equal(onDisk, r.written, 'the file on the server is what the client wrote');
    const after = await Promise.all(lab.links.map((l) => lab.txBytes(l.k)));
    const share = (SIZE_MIB * 1024 * 1024) / LINKS / 2;
    lab.links.forEach((l, i) => {
      const up = after[i]!.client - before[i]!.client;
      const down = after[i]!.server - before[i]!.server;
      // Each link carries about a quarter of each direction; half of that is a loose floor.
      assert.ok(up > share && down > share, `link ${l.k}: client sent ${up} bytes, server sent ${down}`);
    });
    console.log(`# ${LINKS} channels at ${RATE_MBIT} Mbit/s each: write ${r.writeMs} ms, read ${r.readMs} ms`);
  });

  it('one channel is limited to one link (the comparison that shows the spread pays)', async () => {
    const one = await runClient(lab, args(1, 'one.bin'));
    assert.equal(one.read, one.written);
    assert.equal(one.channels.length, 1);
    const many = await runClient(lab, args(LINKS, 'many.bin'));
    console.log(`# 1 channel: write ${one.writeMs} ms, read ${one.readMs} ms; ${LINKS} channels: write ${many.writeMs} ms, read ${many.readMs} ms`);
    // Four links at the same rate should take well under half the time of one.
    assert.ok(many.readMs * 2 < one.readMs, `read: ${many.readMs} ms with ${LINKS} channels vs ${one.readMs} ms with 1`);
    assert.ok(many.writeMs * 2 < one.writeMs, `write: ${many.writeMs} ms with ${LINKS} channels vs ${one.writeMs} ms with 1`);
  });
});

describe('client multichannel failover: links cut with nftables mid-transfer', { skip: netnsUnavailable() }, () => {
  let lab: Lab;
  let server: Smb3dHandle;
  before(async () => {
    lab = await createLab({ links: LINKS, rateMbit: 100, label: 'climcfo' });
    server = await startSmb3dInLab(lab);
  });
  after(async () => {
    await server?.stop();
    await lab?.destroy();
  });

  const scenario = async (file: string, cuts: Record<string, number>, what: 'both' | 'replies' = 'both', chunkKiB?: number) => {
    const r = await runClientLive(
      lab,
      {
        host: lab.links[0]!.serverAddr,
        port: 445,
        share: 'share',
        user: server.user,
        password: server.password,
        channels: LINKS,
        sizeMiB: SIZE_MIB,
        path: file,
        markAt: 0.25,
        waitChannelsMs: 15_000,
        chunkKiB,
      },
      async (line) => {
        if (cuts[line]) await lab.cut(cuts[line]!, what);
        if (line === 'io done') for (const k of Object.values(cuts)) await lab.restore(k);
      },
    );
    console.log(`# failover ${JSON.stringify(cuts)}: ${JSON.stringify({ ...r, channels: undefined, written: undefined, read: undefined })}`);
    assert.equal(r.read, r.written, 'read back what was written');
    const onDisk = createHash('sha256').update(await readFile(path.join(server.shareDir, file))).digest('hex');
    assert.equal(onDisk, r.written, 'the file on the server is what the client wrote');
    assert.deepEqual(
      r.losses.map((l) => [l.address, l.sequence]),
      Object.values(cuts).map((k, i) => [lab.links[k - 1]!.serverAddr, i + 1]),
    );
    assert.ok(r.replays > 0, 'outstanding requests were replayed');
    // The stall a lost link costs is the watchdog's 1 s plus the replay; the bar is 2 s.
    assert.ok(r.writeMaxGapMs <= 2000 && r.readMaxGapMs <= 2000, `stall: write ${r.writeMaxGapMs} ms, read ${r.readMaxGapMs} ms`);
    assert.equal(r.aliveAtEnd, LINKS, 'the lost links were bound again once restored');
    // The server's own count: every byte written once, however many WRITEs were replayed.
    const w = smb3dWrites(server, file);
    console.log(`# the server's WRITEs for ${file}: ${JSON.stringify(w)}`);
    assert.equal(w.bytes, SIZE_MIB * 1024 * 1024, `bytes the server wrote: ${JSON.stringify(w)}`);
    return w;
  };

  it('binds its extra channels all at once: three links that are down cost one connect timeout, not three', async () => {
    for (const k of [2, 3, 4]) await lab.cut(k);
    try {
      const r = await runClient(lab, { host: lab.links[0]!.serverAddr, port: 445, share: 'share', user: server.user, password: server.password, channels: LINKS, sizeMiB: 1, path: 'down3.bin' });
      assert.equal(r.failed.length, 3, r.failed.join('; '));
      assert.ok(r.failed.every((f) => /timed out after 3000 ms/.test(f)), r.failed.join('; '));
      // One after another they would take 9 s; together, one 3 s connect timeout.
      assert.ok(r.bindMs < 6000, `binding took ${r.bindMs} ms`);
      assert.equal(r.read, r.written);
    } finally {
      for (const k of [2, 3, 4]) await lab.restore(k);
    }
  });

  it('loses link 2 during the write and link 3 during the read; the data survives, the links are rebound', async () => {
    await scenario('failover.bin', { 'mark write': 2, 'mark read': 3 });
  });

  it('loses link 1, the one the session was set up on, during the write', async () => {
    await scenario('failover-first.bin', { 'mark write': 1 });
  });

  it('link 2 drops only the server\'s replies during the write: WRITEs that ran are not run again when replayed', async () => {
    // 64 KiB WRITEs: what the client had sent when the replies stopped holds whole requests,
    // which the server runs and answers into the void; with 1 MiB ones it rarely does.
    const w = await scenario('failover-replies.bin', { 'mark write': 2 }, 'replies', 64);
    assert.ok(w.replaysSkipped > 0, `replays of WRITEs that had run were recognized: ${JSON.stringify(w)}`);
  });
});

// A CREATE whose answer is lost (the link drops the server's replies) is replayed on another
// channel with its durable v2 CreateGuid; disposition CREATE would fail with
// STATUS_OBJECT_NAME_COLLISION if the server ran it again instead of recognizing the replay.
describe('client multichannel: a CREATE replayed after its replies were lost', { skip: netnsUnavailable() }, () => {
  let lab: Lab;
  const servers: Array<{ name: string; port: number; user: string; password: string; shareDir: string; stop(): Promise<void> }> = [];
  before(async () => {
    lab = await createLab({ links: 2, rateMbit: 100, label: 'climccr' });
    servers.push({ name: 'smb3d', port: 445, ...pick(await startSmb3dInLab(lab)) });
    if (smbdAvailable()) servers.push({ name: 'smbd', port: SMBD_LAB_PORT, ...pick(await startSmbdInLab(lab)) });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await lab?.destroy();
  });
  const pick = (s: Smb3dHandle | SmbdHandle) => ({ user: s.user, password: s.password, shareDir: s.shareDir, stop: () => s.stop() });

  for (const name of ['smb3d', 'smbd']) {
    it(`against ${name}`, { skip: name === 'smbd' && !smbdAvailable() ? 'Samba smbd not installed' : false }, async () => {
      const s = servers.find((x) => x.name === name)!;
      const file = `created-once-${name}.bin`;
      const a: McCreateArgs = { host: lab.links[0]!.serverAddr, port: s.port, share: 'share', user: s.user, password: s.password, channels: 2, path: file, content: 'once' };
      const r = await runClientLive<McCreateResult>(
        lab,
        a,
        async (line) => {
          if (line === 'mark create') await lab.cut(1, 'replies');
          if (line === 'io done') await lab.restore(1);
        },
        60_000,
        'mc-create.ts',
      );
      console.log(`# CREATE replay against ${name}: ${JSON.stringify(r)}`);
      assert.equal(r.createdOn, lab.links[0]!.serverAddr);
      assert.equal(r.error, undefined, 'the replayed CREATE got the original open');
      assert.deepEqual(r.losses.map((l) => l.address), [lab.links[0]!.serverAddr]);
      assert.ok(r.replays >= 1, 'the CREATE was replayed');
      assert.equal((await readFile(path.join(s.shareDir, file))).toString(), 'once');
    });
  }
});
