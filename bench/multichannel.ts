// Our client's multichannel aggregate in the multi-link lab (test/harness/lab.ts), against smb3d:
// 1 channel and N channels over N links rate-limited with tc tbf, write and read of one file,
// median of --rounds alternating rounds, and the aggregate as a share of the sum of link rates.
//
//   npx tsc -p tsconfig.json && node --import tsx bench/multichannel.ts [--links 4] [--rate 200]
//        [--size 32] [--rounds 5] [--markdown out.md]
//
// Root only (network namespaces). Samba's smbd is not measured here yet.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLab } from '../test/harness/lab.js';
import { REPO_ROOT, startSmb3d } from '../test/harness/server.js';
import { runProcess, describeRun } from '../test/harness/proc.js';
import type { McClientArgs, McClientResult } from '../test/harness/mc-client.js';

const { values } = parseArgs({
  options: {
    links: { type: 'string', default: '4' },
    rate: { type: 'string', default: '200' },
    size: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '5' },
    markdown: { type: 'string' },
  },
});
const links = Number(values.links);
const rate = Number(values.rate);
const sizeMiB = Number(values.size);
const rounds = Number(values.rounds);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (ms: number) => (sizeMiB * 1024 * 1024 * 8) / (ms / 1000) / 1e6;

const lab = await createLab({ links, rateMbit: rate || undefined, label: 'bench' });
const server = await startSmb3d({
  netns: lab.server.name,
  config: `interfaces = ${lab.links.map((l) => l.serverIf).join(' ')}\n`,
  args: ['--port', '445', ...lab.links.flatMap((l) => ['--listen', l.serverAddr])],
}).catch(async (e: unknown) => {
  await lab.destroy();
  throw e;
});
const runs: Record<string, { write: number[]; read: number[] }> = { '1': { write: [], read: [] }, [links]: { write: [], read: [] } };
try {
  for (let round = 0; round < rounds; round++) {
    for (const channels of [1, links]) {
      const a: McClientArgs = { host: lab.links[0]!.serverAddr, port: 445, share: 'share', user: server.user, password: server.password, channels, sizeMiB, path: `bench-${channels}.bin` };
      const r = await runProcess('ip', ['netns', 'exec', lab.client.name, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'test/harness/mc-client.ts'), JSON.stringify(a)], { cwd: REPO_ROOT, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(describeRun('mc-client', r));
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as McClientResult;
      if (res.read !== res.written) throw new Error('SHA-256 mismatch');
      runs[channels]!.write.push(res.writeMs);
      runs[channels]!.read.push(res.readMs);
      console.error(`round ${round + 1}: ${channels} channel(s): write ${res.writeMs} ms, read ${res.readMs} ms`);
    }
  }
} finally {
  await server.stop();
  await lab.destroy();
}

const sum = rate * links;
const rows = [`| channels | write Mbit/s | read Mbit/s | write, share of ${rate ? `${links}×${rate} Mbit/s` : "the links (unlimited)"} | read, share |`, '| ---: | ---: | ---: | ---: | ---: |'];
for (const [ch, r] of Object.entries(runs)) {
  const w = mbps(median(r.write));
  const rd = mbps(median(r.read));
  rows.push(`| ${ch} | ${w.toFixed(0)} | ${rd.toFixed(0)} | ${rate ? `${((100 * w) / sum).toFixed(0)}%` : '-'} | ${rate ? `${((100 * rd) / sum).toFixed(0)}%` : '-'} |`);
}
const table = `${sizeMiB} MiB file, ${links} links at ${rate || 'unlimited'} Mbit/s each, median of ${rounds} rounds (payload bits over wall time)\n\n${rows.join('\n')}\n`;
console.log(table);
if (values.markdown) await writeFile(values.markdown, table);
