// Report charts as standalone SVG strings (no DOM): d3-scale for the axes' mappings and
// d3-scale-chromatic for colours; each function returns one complete <svg> document.
import { scaleBand, scaleLinear } from 'd3-scale';
import { interpolateBlues, interpolateViridis, schemeTableau10 } from 'd3-scale-chromatic';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (v: number) => (Math.round(v * 100) / 100).toString();

export const classColor = (i: number): string => schemeTableau10[i % schemeTableau10.length];

function doc(width: number, height: number, body: string, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">` +
    `<rect width="${width}" height="${height}" fill="white"/><text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>${body}</svg>`
  );
}

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${f(x)}" y="${f(y)}" ${attrs}>${esc(s)}</text>`;
}

/** Row-normalised confusion matrix (rows: true class) with counts in the cells. */
export function confusionSvg(confusion: number[][], classes: string[], title = 'Confusion matrix (rows: true, normalised)'): string {
  const cell = 44;
  const left = 80;
  const top = 40;
  const k = classes.length;
  let body = '';
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((c, j) => {
      const p = total > 0 ? c / total : 0;
      body += `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${interpolateBlues(p)}" stroke="#ccc"/>`;
      body += text(left + j * cell + cell / 2, top + i * cell + cell / 2 + 4, String(c), `text-anchor="middle" fill="${p > 0.5 ? 'white' : 'black'}"`);
    });
    body += text(left - 4, top + i * cell + cell / 2 + 4, classes[i], 'text-anchor="end"');
  });
  classes.forEach((c, j) => (body += text(left + j * cell + cell / 2, top + k * cell + 14, c.slice(0, 7), 'text-anchor="middle"')));
  body += text(left + (k * cell) / 2, top + k * cell + 30, 'predicted', 'text-anchor="middle"');
  return doc(left + k * cell + 20, top + k * cell + 40, body, title);
}

/** Vertical bars, values in [0, max]. */
export function barsSvg(labels: string[], values: Array<number | null>, title: string, yLabel = '', max = 1): string {
  const w = 60 + labels.length * 56;
  const h = 260;
  const x = scaleBand<number>().domain(labels.map((_, i) => i)).range([50, w - 10]).padding(0.2);
  const y = scaleLinear().domain([0, max]).range([h - 40, 30]);
  let body = `<line x1="50" x2="${w - 10}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`;
  for (const t of y.ticks(5)) body += `<line x1="46" x2="${w - 10}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#eee"/>` + text(44, y(t) + 4, String(t), 'text-anchor="end"');
  labels.forEach((l, i) => {
    const v = values[i];
    if (v !== null) body += `<rect x="${f(x(i)!)}" y="${f(y(v))}" width="${f(x.bandwidth())}" height="${f(y(0) - y(v))}" fill="${classColor(i)}"/>` + text(x(i)! + x.bandwidth() / 2, y(v) - 3, v.toFixed(2), 'text-anchor="middle"');
    else body += text(x(i)! + x.bandwidth() / 2, y(0) - 4, 'n/a', 'text-anchor="middle"');
    body += text(x(i)! + x.bandwidth() / 2, h - 24, l.slice(0, 8), 'text-anchor="middle"');
  });
  if (yLabel) body += text(12, h / 2, yLabel, `transform="rotate(-90 12 ${h / 2})" text-anchor="middle"`);
  return doc(w, h, body, title);
}

/** 2-D scatter coloured by class, with a legend. */
export function scatterSvg(points: Array<[number, number]>, labels: ArrayLike<number>, classes: string[], title: string, subtitle = ''): string {
  const size = 480;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x = scaleLinear().domain([Math.min(...xs), Math.max(...xs)]).range([20, size - 20]);
  const y = scaleLinear().domain([Math.min(...ys), Math.max(...ys)]).range([size - 20, 40]);
  let body = subtitle ? text(size / 2, 32, subtitle, 'text-anchor="middle"') : '';
  points.forEach((p, i) => (body += `<circle cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="2.5" fill="${classColor(labels[i])}" fill-opacity="0.75"/>`));
  classes.forEach((c, i) => (body += `<rect x="${size + 5}" y="${40 + i * 16}" width="10" height="10" fill="${classColor(i)}"/>` + text(size + 19, 49 + i * 16, c)));
  return doc(size + 90, size, body, title);
}

/** Overlaid histograms of values in [0, 1] (one series per name), as step outlines. */
export function histogramSvg(series: Record<string, ArrayLike<number>>, title: string, bins = 20): string {
  const w = 480;
  const h = 260;
  const counts = Object.entries(series).map(([name, v]) => {
    const c = new Array(bins).fill(0);
    for (let i = 0; i < v.length; i++) c[Math.min(bins - 1, Math.max(0, Math.floor(v[i] * bins)))]++;
    return { name, c: c.map((n) => n / Math.max(1, v.length)) };
  });
  const top = Math.max(1e-9, ...counts.flatMap((s) => s.c));
  const x = scaleLinear().domain([0, 1]).range([50, w - 110]);
  const y = scaleLinear().domain([0, top]).range([h - 40, 30]).nice();
  let body = `<line x1="50" x2="${w - 110}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`;
  for (const t of x.ticks(5)) body += text(x(t), h - 24, String(t), 'text-anchor="middle"');
  for (const t of y.ticks(4)) body += text(44, y(t) + 4, String(t), 'text-anchor="end"');
  counts.forEach((s, k) => {
    let d = `M${f(x(0))},${f(y(0))}`;
    s.c.forEach((v, b) => (d += `L${f(x(b / bins))},${f(y(v))}L${f(x((b + 1) / bins))},${f(y(v))}`));
    d += `L${f(x(1))},${f(y(0))}`;
    body += `<path d="${d}" fill="${classColor(k)}" fill-opacity="0.25" stroke="${classColor(k)}" stroke-width="1.5"/>`;
    body += `<rect x="${w - 100}" y="${40 + k * 16}" width="10" height="10" fill="${classColor(k)}"/>` + text(w - 86, 49 + k * 16, s.name);
  });
  body += text((w - 60) / 2, h - 8, 'value (fraction of samples per bin)', 'text-anchor="middle"');
  return doc(w, h, body, title);
}

/** Reliability diagram: accuracy per confidence bin against the diagonal, bar width = bin. */
export function reliabilitySvg(bins: Array<{ lower: number; upper: number; count: number; accuracy: number; confidence: number }>, ece: number): string {
  const s = 320;
  const x = scaleLinear().domain([0, 1]).range([50, s - 10]);
  const y = scaleLinear().domain([0, 1]).range([s - 40, 30]);
  let body = `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4"/>`;
  for (const b of bins) {
    if (b.count === 0) continue;
    body += `<rect x="${f(x(b.lower))}" y="${f(y(b.accuracy))}" width="${f(x(b.upper) - x(b.lower))}" height="${f(y(0) - y(b.accuracy))}" fill="${interpolateViridis(0.3)}" fill-opacity="0.8" stroke="white"/>`;
    body += `<circle cx="${f(x(b.confidence))}" cy="${f(y(b.confidence))}" r="2" fill="red"/>`;
  }
  for (const t of x.ticks(5)) body += text(x(t), s - 24, String(t), 'text-anchor="middle"') + text(44, y(t) + 4, String(t), 'text-anchor="end"');
  body += text(s / 2, s - 8, `confidence (ECE ${ece.toFixed(4)})`, 'text-anchor="middle"');
  return doc(s, s, body, 'Reliability diagram (accuracy per bin)');
}

/** A matrix as a heat map (rows × columns), e.g. GCA channel weights per frame. */
export function heatmapSvg(rows: number[][], title: string, rowLabel = 'row', colLabel = 'column'): string {
  const r = rows.length;
  const c = rows[0]?.length ?? 0;
  const cw = Math.max(2, Math.min(16, Math.floor(640 / Math.max(1, c))));
  const ch = Math.max(6, Math.min(24, Math.floor(320 / Math.max(1, r))));
  const all = rows.flat();
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  let body = '';
  rows.forEach((row, i) => {
    row.forEach((v, j) => (body += `<rect x="${50 + j * cw}" y="${30 + i * ch}" width="${cw}" height="${ch}" fill="${interpolateViridis(hi > lo ? (v - lo) / (hi - lo) : 0.5)}"/>`));
    body += text(46, 30 + i * ch + ch / 2 + 4, String(i), 'text-anchor="end"');
  });
  body += text(50 + (c * cw) / 2, 30 + r * ch + 16, `${colLabel} (colour: ${lo.toFixed(3)} … ${hi.toFixed(3)})`, 'text-anchor="middle"');
  body += text(14, 30 + (r * ch) / 2, rowLabel, `transform="rotate(-90 14 ${30 + (r * ch) / 2})" text-anchor="middle"`);
  return doc(Math.max(300, 60 + c * cw), 60 + r * ch, body, title);
}
