// The benchmark report's chart (bench/all.ts): a hand-written SVG of horizontal bars, one per
// figure, in sections with their own scale. 'ratio' sections show smb3d/smbd with a line at 1.0×;
// 'percent' sections show a share of 0-100%. A figure's target is a tick across its bar; a bar is
// green where the target is met, orange where not, grey without a target. A figure that could not
// be computed (null) gets an empty bar and "n/a".
import type { MultichannelFigures, RunFigures } from './figures.js';

export interface ChartBar {
  label: string;
  value: number | null;
  target?: number | null;
}

export interface ChartSection {
  title: string;
  scale: 'ratio' | 'percent';
  bars: ChartBar[];
}

const WIDTH = 820;
const LABEL_W = 330;
const PLOT_W = 380;
const ROW = 22;
const BAR = 14;
const font = (size = 12) => `font-family="sans-serif" font-size="${size}"`;

export function chartSvg(title: string, sections: ChartSection[], subtitle?: string): string {
  const out: string[] = [];
  let y = 28;
  out.push(`<text x="10" y="${y}" ${font(15)} font-weight="bold">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="10" y="${(y += 18)}" ${font()} fill="#555">${esc(subtitle)}</text>`);
  for (const s of sections) {
    y += 30;
    out.push(`<text x="10" y="${y}" ${font()} font-weight="bold">${esc(s.title)}</text>`);
    const max = axisMax(s);
    const x = (v: number) => LABEL_W + (Math.min(Math.max(v, 0), max) / max) * PLOT_W;
    const top = y + 8;
    const bottom = top + s.bars.length * ROW;
    // Grid and axis first, under the bars: ticks every half (ratio) or 25% (percent).
    const step = s.scale === 'ratio' ? (max > 4 ? 1 : 0.5) : 25;
    for (let v = 0; v <= max + 1e-9; v += step) {
      out.push(`<line x1="${num(x(v))}" x2="${num(x(v))}" y1="${top}" y2="${bottom + 4}" stroke="#ddd"/>`);
      out.push(`<text x="${num(x(v))}" y="${bottom + 16}" ${font(10)} text-anchor="middle" fill="#555">${s.scale === 'ratio' ? `${v}×` : `${v}%`}</text>`);
    }
    for (const [i, b] of s.bars.entries()) {
      const rowY = top + i * ROW;
      const v = b.value !== null && Number.isFinite(b.value) ? b.value : null;
      const t = b.target !== undefined && b.target !== null && Number.isFinite(b.target) ? b.target : null;
      const fill = v === null || t === null ? '#8a9bb0' : v >= t ? '#3c9a50' : '#e08a2c';
      out.push(`<text x="${LABEL_W - 8}" y="${rowY + BAR}" ${font()} text-anchor="end">${esc(b.label)}</text>`);
      out.push(`<rect class="bar" x="${LABEL_W}" y="${rowY + 3}" width="${num(v === null ? 0 : x(v) - LABEL_W)}" height="${BAR}" fill="${fill}"><title>${esc(`${b.label}: ${fmt(s, v)}${t === null ? '' : `, target ${fmt(s, t)}`}`)}</title></rect>`);
      if (t !== null) out.push(`<line class="target" x1="${num(x(t))}" x2="${num(x(t))}" y1="${rowY}" y2="${rowY + ROW - 2}" stroke="#000" stroke-width="2"/>`);
      out.push(`<text x="${LABEL_W + PLOT_W + 8}" y="${rowY + BAR}" ${font()}>${esc(fmt(s, v))}</text>`);
    }
    // The 1.0× line over them.
    if (s.scale === 'ratio') out.push(`<line class="parity" x1="${num(x(1))}" x2="${num(x(1))}" y1="${top - 4}" y2="${bottom + 4}" stroke="#333" stroke-dasharray="4 3"/>`);
    y = bottom + 16;
  }
  y += 24;
  out.push(`<text x="10" y="${y}" ${font(11)} fill="#555">black tick: target; green: met, orange: not met; dashed line: smb3d as fast as smbd</text>`);
  const height = y + 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

/** The report's sections: bench/run.ts's ratios, then the multichannel shares (when measured with a rate limit). */
export function benchSections(run?: RunFigures, mc?: MultichannelFigures): ChartSection[] {
  const sections: ChartSection[] = [];
  if (run) {
    sections.push({
      title: 'smb3d / smbd, smbclient on loopback (bench/run.ts)',
      scale: 'ratio',
      bars: run.figures.map((f) => ({ label: f.label, value: f.ratio, target: f.target })),
    });
  }
  if (mc && mc.rateMbit) {
    sections.push({
      title: `our client, share of ${mc.links} × ${mc.rateMbit} Mbit/s (bench/multichannel.ts)`,
      scale: 'percent',
      bars: mc.aggregate.flatMap((a) => [
        { label: `${a.server}, ${a.channels} ch, put`, value: a.putShare, target: a.target },
        { label: `${a.server}, ${a.channels} ch, get`, value: a.getShare, target: a.target },
      ]),
    });
  }
  return sections;
}

function axisMax(s: ChartSection): number {
  if (s.scale === 'percent') return 100;
  const seen = s.bars.flatMap((b) => [b.value, b.target]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  // Room for every bar and target up to 5×; beyond that a bar is cut at the edge (its figure is still written).
  return Math.min(5, Math.max(2, Math.ceil(Math.max(0, ...seen) * 2) / 2));
}

function fmt(s: ChartSection, v: number | null): string {
  if (v === null) return 'n/a';
  return s.scale === 'ratio' ? `${v.toFixed(2)}×` : `${v.toFixed(0)}%`;
}

const num = (v: number) => (Number.isFinite(v) ? Number(v.toFixed(1)) : 0);

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
