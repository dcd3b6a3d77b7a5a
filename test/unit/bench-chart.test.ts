// bench/chart.ts: the benchmark report's SVG (bench/all.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { benchSections, chartSvg } from '../../bench/chart.js';
import type { MultichannelFigures, RunFigures } from '../../bench/figures.js';

const figure = (key: string, label: string, ratio: number | null, target: number): RunFigures['figures'][number] => ({
  key,
  label,
  unit: 'MB/s',
  smb3d: 100,
  smbd: ratio ? 100 / ratio : 0,
  spreadSmb3d: 1,
  spreadSmbd: 1,
  ratio,
  roundRatios: [ratio],
  target,
  met: ratio !== null && ratio >= target,
});

const run: RunFigures = {
  header: 'smb3d vs smbd',
  notes: [],
  figures: [
    figure('get', 'get, plain', 0.99, 1.1),
    figure('get-signed', 'get, signed', 1.43, 1.2),
    figure('small-create', 'create+write+close, 1000 × 4 KiB', 7.5, 1.0),
    figure('put', 'put <plain> & "quoted"', null, 1.3),
  ],
};

const mc: MultichannelFigures = {
  header: '3 links',
  links: 3,
  rateMbit: 200,
  aggregate: [
    { server: 'smb3d', channels: 1, putMbit: 200, getMbit: 205, putShare: 33, getShare: 34, target: null },
    { server: 'smb3d', channels: 3, putMbit: 560, getMbit: 570, putShare: 93, getShare: 95, target: 90 },
  ],
  failover: [],
};

/** Start tags minus end tags of `name`, self-closing ones not counted. */
function unbalanced(svg: string, name: string): number {
  const open = [...svg.matchAll(new RegExp(`<${name}[\\s>]`, 'g'))].filter((m) => !selfClosed(svg, m.index!)).length;
  const close = (svg.match(new RegExp(`</${name}>`, 'g')) ?? []).length;
  return open - close;
}
const selfClosed = (svg: string, at: number) => svg.slice(at, svg.indexOf('>', at) + 1).endsWith('/>');

describe('bench chart', () => {
  const svg = chartSvg('smb3d benchmark', benchSections(run, mc), '2 cores; e0cf402');

  it('is one well-formed svg element without NaN', () => {
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), svg.slice(0, 80));
    assert.equal(svg.trimEnd().split('</svg>').length, 2, 'one </svg>, at the end');
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    for (const tag of ['svg', 'text', 'rect', 'title', 'line']) assert.equal(unbalanced(svg, tag), 0, `<${tag}> balanced`);
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
    // No attribute twice in one tag (an XML error).
    for (const tag of svg.match(/<[a-z][^>]*>/g)!) {
      const names = [...tag.matchAll(/\s([\w-]+)="/g)].map((m) => m[1]);
      assert.equal(new Set(names).size, names.length, tag);
    }
  });

  it('has a bar per figure and per multichannel share, each labelled', () => {
    const bars = svg.match(/<rect class="bar"/g) ?? [];
    assert.equal(bars.length, run.figures.length + 2 * mc.aggregate.length);
    for (const label of ['get, plain', 'get, signed', 'create+write+close, 1000 × 4 KiB', 'smb3d, 3 ch, put', 'smb3d, 1 ch, get']) {
      assert.ok(svg.includes(`>${label}</text>`), `label ${label}`);
    }
    // Labels are escaped; a figure with no ratio has an empty bar and says so.
    assert.ok(svg.includes('put &lt;plain&gt; &amp; &quot;quoted&quot;'));
    assert.ok(svg.includes('>n/a</text>'));
    assert.ok(svg.includes('>0.99×</text>') && svg.includes('>7.50×</text>') && svg.includes('>95%</text>'));
  });

  it('marks the 1.0× line once and each target with a tick', () => {
    assert.equal((svg.match(/class="parity"/g) ?? []).length, 1);
    // Four run.ts targets, and the 90% of the two 3-channel shares; 1 channel has none.
    assert.equal((svg.match(/class="target"/g) ?? []).length, run.figures.length + 2);
  });

  it('keeps bars inside the plot: a ratio beyond the axis is cut at its edge', () => {
    const bars = [...svg.matchAll(/class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]) + Number(m[2]));
    // The figures' values are written right of the plot.
    const valueX = Number(/<text x="([\d.]+)"[^>]*>7\.50×<\/text>/.exec(svg)![1]);
    assert.ok(bars.every((end) => end > 0 && end < valueX), `${bars} vs ${valueX}`);
    assert.equal(Math.max(...bars), bars[2], 'the 7.5× bar reaches the edge');
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    assert.ok(valueX < width);
  });

  it('leaves out the shares when the links had no rate, and copes with nothing measured', () => {
    const noRate = chartSvg('t', benchSections(run, { ...mc, rateMbit: 0, aggregate: mc.aggregate.map((a) => ({ ...a, putShare: null, getShare: null, target: null })) }));
    assert.equal((noRate.match(/<rect class="bar"/g) ?? []).length, run.figures.length);
    const empty = chartSvg('t', benchSections());
    assert.equal((empty.match(/<rect class="bar"/g) ?? []).length, 0);
    assert.doesNotMatch(empty, /NaN/);
  });
});
