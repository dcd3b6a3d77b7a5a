// The multi-link lab itself (test/harness/lab.ts): each link carries traffic between its two
// addresses only, a rate limit holds, and a cut really stops packets until it is restored.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLab, netnsUnavailable, type Lab } from '../harness/lab.js';
import { runProcess, describeRun } from '../harness/proc.js';

// A sink that accepts on every address of the server namespace and answers each connection with
// the number of bytes it received, once the sender half-closes.
const SINK = `require('net').createServer((s) => { let n = 0; s.on('data', (d) => (n += d.length)); s.on('end', () => s.end(String(n))); }).listen(7777, () => console.log('ready'));`;

// Sends argv[2] bytes to argv[1]:7777 and prints "<received-by-peer> <ms>", or "timeout".
const SEND = `const net = require('net'); const [host, n] = [process.argv[1], Number(process.argv[2])]; const t0 = Date.now();
const s = net.connect({ host, port: 7777 }); let out = ''; const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, 3000);
s.on('connect', () => s.end(Buffer.alloc(n))); s.on('data', (d) => (out += d)); s.on('end', () => { clearTimeout(t); console.log(out + ' ' + (Date.now() - t0)); });`;

describe('multi-link lab', { skip: netnsUnavailable() }, () => {
  let lab: Lab;
  let sink: ChildProcess;
  before(async () => {
    lab = await createLab({ links: 2, rateMbit: 100, label: 'labtest' });
    sink = spawn('ip', ['netns', 'exec', lab.server.name, process.execPath, '-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => sink.stdout!.once('data', () => resolve()));
  });
  after(async () => {
    sink?.kill();
    await lab?.destroy();
  });

  const send = async (addr: string, bytes: number) => {
    const r = await runProcess('ip', ['netns', 'exec', lab.client.name, process.execPath, '-e', SEND, addr, String(bytes)], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, describeRun('sender', r));
    return r.stdout.trim();
  };

  it('carries a link\'s traffic on that link only, at its rate limit', async () => {
    const before1 = await lab.txBytes(1);
    const before2 = await lab.txBytes(2);
    const [got, ms] = (await send(lab.links[0]!.serverAddr, 2_500_000)).split(' ').map(Number) as [number, number];
    assert.equal(got, 2_500_000);
    const after1 = await lab.txBytes(1);
    const after2 = await lab.txBytes(2);
    assert.ok(after1.client - before1.client >= 2_500_000, `link 1 client tx grew by ${after1.client - before1.client}`);
    assert.ok(after2.client - before2.client < 10_000, `link 2 client tx grew by ${after2.client - before2.client}`);
    // 20 Mbit at 100 Mbit/s is 200 ms; well under that means tbf is not in the path.
    assert.ok(ms >= 150, `2.5 MB took ${ms} ms over a 100 Mbit/s link`);
  });

  it('cut(k) drops the link until restore(k)', async () => {
    await lab.cut(2);
    assert.equal(await send(lab.links[1]!.serverAddr, 1000), 'timeout');
    assert.match(await send(lab.links[0]!.serverAddr, 1000), /^1000 /, 'link 1 still works while link 2 is cut');
    await lab.restore(2);
    assert.match(await send(lab.links[1]!.serverAddr, 1000), /^1000 /);
  });

  it("cut(k, 'replies') lets requests in but drops what the server sends", async () => {
    await lab.cut(2, 'replies');
    const before = await lab.txBytes(2);
    assert.equal(await send(lab.links[1]!.serverAddr, 1000), 'timeout');
    // The client's SYNs go out on link 2 and nothing drops them coming in; the server's answers
    // never reach its device (ARP, which nftables' inet family does not see, may).
    const after = await lab.txBytes(2);
    assert.ok(after.client - before.client >= 60, `the client sent ${after.client - before.client} bytes on link 2`);
    assert.ok(after.server - before.server < 200, `the server sent ${after.server - before.server} bytes on link 2`);
    await lab.restore(2);
    assert.match(await send(lab.links[1]!.serverAddr, 1000), /^1000 /);
  });
});
