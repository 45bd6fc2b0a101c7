/**
 * bench/results/latest.svg: server CPU time per request, by scenario and server. Hand-written
 * SVG, no dependencies: one panel per scenario (each with its own scale, since a pipelined
 * request costs a fraction of a keep-alive one), a bar per server at the median, a whisker
 * from the fastest to the slowest run, and the value printed at the end of the bar.
 */
import type { Cell, Results } from './model.ts';

const COLORS: Record<string, string> = {
  wasmloop: '#6d3fd6',
  'wasmloop-uv': '#b39ddb',
  'wasmloop-sdk': '#2a8bd1',
  c: '#555555',
  node: '#3c873a',
  nginx: '#d9730d',
};
const PANEL_W = 480;
const BAR_H = 18;
const GAP = 6;
const LABEL_W = 150;
const VALUE_W = 70;
const TITLE_H = 22;
const COLS = 2;

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function svgChart(r: Results): string {
  const panels = r.scenarios.filter((s) => s.cells.some((c) => c.summary));
  const maxBars = Math.max(1, ...panels.map((s) => s.cells.length));
  const panelH = TITLE_H + maxBars * (BAR_H + GAP) + 14;
  const rows = Math.ceil(panels.length / COLS);
  const width = COLS * PANEL_W + 20;
  const height = 50 + rows * panelH + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="22" font-size="15" font-weight="bold">Server CPU time per request (µs, lower is better)</text>`,
  );
  out.push(
    `<text x="10" y="40" fill="#666">${esc(`${r.date} (${r.mode}); median of ${r.config.reps} run(s), whisker = min–max; server on CPU 0, load on CPU 1`)}</text>`,
  );
  panels.forEach((s, i) => {
    const x0 = 10 + (i % COLS) * PANEL_W;
    const y0 = 50 + Math.floor(i / COLS) * panelH;
    out.push(`<text x="${x0}" y="${y0 + 15}" font-weight="bold">${esc(s.title)}</text>`);
    // Each panel has its own scale: its slowest run fills the bar space.
    const top = Math.max(...s.cells.map((c) => c.summary?.cpuUsMax ?? 0), 1e-9);
    s.cells.forEach((c, j) => out.push(...bar(c, x0, y0 + TITLE_H + j * (BAR_H + GAP), top)));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** One server's row of a panel at (x0, y): label, bar at the median, whisker, value. */
function bar(c: Cell, x0: number, y: number, top: number): string[] {
  const barMax = PANEL_W - LABEL_W - VALUE_W - 20;
  const out = [
    `<text x="${x0 + LABEL_W - 6}" y="${y + BAR_H - 5}" text-anchor="end">${esc(c.label)}</text>`,
  ];
  const m = c.summary;
  if (!m) {
    out.push(`<text x="${x0 + LABEL_W}" y="${y + BAR_H - 5}" fill="#999">not measured</text>`);
    return out;
  }
  const w = (m.cpuUsPerReq / top) * barMax;
  const color = COLORS[c.server] ?? '#888';
  out.push(
    `<rect x="${x0 + LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>`,
  );
  if (m.runs > 1) {
    const a = x0 + LABEL_W + (m.cpuUsMin / top) * barMax;
    const b = x0 + LABEL_W + (m.cpuUsMax / top) * barMax;
    const yc = y + BAR_H / 2;
    out.push(
      `<path d="M${a.toFixed(1)} ${yc}H${b.toFixed(1)}M${a.toFixed(1)} ${yc - 4}V${yc + 4}M${b.toFixed(1)} ${yc - 4}V${yc + 4}" stroke="#000" stroke-width="1" fill="none"/>`,
    );
  }
  const end = x0 + LABEL_W + Math.max(w, ((m.cpuUsMax ?? 0) / top) * barMax);
  out.push(
    `<text x="${(end + 5).toFixed(1)}" y="${y + BAR_H - 5}">${m.cpuUsPerReq.toFixed(2)}</text>`,
  );
  return out;
}
