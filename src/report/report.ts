// `ferkit report`: a model over a labelled set → report/index.html with its pictures beside it:
// confusion matrix, per-class recall, UMAP of the embeddings coloured by class with Davies-Bouldin
// and Calinski-Harabasz scores (computed on the full embeddings, not the 2-D layout), reliability
// diagram; plus, when the model's outputs carry them, ARBEx primary vs corrected distributions and
// confidences, pattern-map masks over faces and pattern maps (per face and averaged per class),
// and GCA channel weights per frame. Sections are a registry: each draws what its outputs hold.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UMAP } from 'umap-js';
import { Rng } from '../util/rng.js';
import { writeImage } from '../data/image.js';
import { calinskiHarabasz, daviesBouldin } from '../eval/cluster-scores.js';
import { calibration, classificationReport, type ClassificationReport } from '../eval/metrics.js';
import type { FerModel } from '../models/model.js';
import { Registry } from '../registry.js';
import { BatchBuilder } from '../data/batches.js';
import { loadSampleStore } from '../data/sample-store.js';
import { CANONICAL_CLASSES, type ClipSample, type ImageSample } from '../data/types.js';
import { collect, type Collected } from './collect.js';
import { grid, greyRaster, overlayMask, upsample } from './pictures.js';
import { barsSvg, classColor, confusionSvg, heatmapSvg, histogramSvg, reliabilitySvg, scatterSvg } from './svg.js';

export interface ReportOptions {
  outDir: string;
  /** Title line (model folder, data set). */
  title?: string;
  examplesPerClass?: number;
  /** At most this many points in the 2-D embedding plot (a seeded subsample). */
  maxPoints?: number;
  seed?: number;
}

export interface ReportSummary {
  n: number;
  war: number;
  uar: number;
  ece: number;
  daviesBouldin?: number;
  calinskiHarabasz?: number;
  files: string[];
  sections: string[];
}

interface Ctx {
  model: FerModel;
  data: Collected;
  report: ClassificationReport;
  preds: Int32Array;
  o: Required<ReportOptions>;
  summary: ReportSummary;
  /** Writes a picture beside the page and returns its file name. */
  svg(name: string, svg: string): Promise<string>;
  png(name: string, r: Parameters<typeof writeImage>[0]): Promise<string>;
}

/** A report section: HTML (with its pictures written), or undefined when it does not apply. */
type Section = (c: Ctx) => Promise<string | undefined>;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const img = (file: string, alt: string) => `<img src="${file}" alt="${esc(alt)}">`;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

const sections = new Registry<Section>('report section');
/** Page order; sections registered elsewhere follow, by name. */
const SECTION_ORDER = ['accuracy', 'embedding', 'reliability', 'arbex', 'patternmap', 'gca'];

sections.register({
  name: 'accuracy',
  description: 'confusion matrix and per-class recall',
  create: async (c) => {
    const classes = c.model.config.classes;
    const conf = await c.svg('confusion.svg', confusionSvg(c.report.confusion, classes));
    const rec = await c.svg('recall.svg', barsSvg(classes, c.report.recall, 'Per-class recall', 'recall'));
    return `<h2>Accuracy</h2><p>WAR <b id="war">${pct(c.summary.war)}</b>, UAR <b id="uar">${pct(c.summary.uar)}</b>, macro-F1 ${c.report.macroF1.toFixed(4)} over ${c.summary.n} samples.</p>${img(conf, 'confusion matrix')}${img(rec, 'per-class recall')}`;
  },
});

sections.register({
  name: 'embedding',
  description: 'UMAP of the embeddings by class, Davies-Bouldin and Calinski-Harabasz',
  create: async (c) => {
    const e = c.data.embedding;
    if (!e) return undefined;
    const labels = c.data.labels;
    const present = new Set(labels);
    if (present.size < 2 || present.size >= c.data.n) return undefined;
    const db = daviesBouldin(e.values, Array.from(labels), e.dim);
    const ch = calinskiHarabasz(e.values, Array.from(labels), e.dim);
    c.summary.daviesBouldin = db;
    c.summary.calinskiHarabasz = ch;
    // A seeded subsample for the layout (UMAP's cost grows with n).
    const rng = new Rng(c.o.seed);
    const order = Array.from({ length: c.data.n }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const pick = order.slice(0, c.o.maxPoints).sort((a, b) => a - b);
    const rows = pick.map((i) => Array.from(e.values.subarray(i * e.dim, (i + 1) * e.dim)));
    const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, rows.length - 1), minDist: 0.1, random: () => rng.next() });
    const xy = umap.fit(rows) as Array<[number, number]>;
    const file = await c.svg('embedding-umap.svg', scatterSvg(xy, pick.map((i) => labels[i]), c.model.config.classes, `UMAP of the ${e.dim}-d embeddings`, `Davies-Bouldin ${db.toFixed(4)} (lower is better), Calinski-Harabasz ${ch.toFixed(2)} (higher is better)`));
    return `<h2>Embeddings</h2><p>On the full ${e.dim}-d embeddings of all ${c.data.n} samples: Davies-Bouldin <b id="db">${db.toFixed(6)}</b>, Calinski-Harabasz <b id="ch">${ch.toFixed(6)}</b>. The UMAP layout shows ${pick.length} of them.</p>${img(file, 'UMAP of embeddings')}`;
  },
});

sections.register({
  name: 'reliability',
  description: 'reliability diagram and ECE',
  create: async (c) => {
    const k = c.data.numClasses;
    const rows = Array.from({ length: c.data.n }, (_, i) => Array.from(c.data.probs.subarray(i * k, (i + 1) * k)));
    const { ece, bins } = calibration(rows, c.data.labels);
    const file = await c.svg('reliability.svg', reliabilitySvg(bins, ece));
    return `<h2>Calibration</h2><p>Expected calibration error (15 bins) <b id="ece">${ece.toFixed(6)}</b>.</p>${img(file, 'reliability diagram')}`;
  },
});

sections.register({
  name: 'arbex',
  description: 'primary (head) vs corrected distributions and confidences (ARBEx)',
  create: async (c) => {
    const p = c.data.primaryProbs;
    if (!p || !c.data.confidence) return undefined;
    const k = c.data.numClasses;
    const maxOf = (a: Float32Array) => Float32Array.from({ length: c.data.n }, (_, i) => Math.max(...a.subarray(i * k, (i + 1) * k)));
    const trueOf = (a: Float32Array) => Float32Array.from({ length: c.data.n }, (_, i) => a[i * k + c.data.labels[i]]);
    const f1 = await c.svg('arbex-max-prob.svg', histogramSvg({ primary: maxOf(p), corrected: maxOf(c.data.probs) }, 'Top-class probability: primary head vs corrected'));
    const f2 = await c.svg('arbex-true-prob.svg', histogramSvg({ primary: trueOf(p), corrected: trueOf(c.data.probs) }, 'Probability of the true class: primary vs corrected'));
    const conf: Record<string, Float32Array> = { confidence: c.data.confidence };
    if (c.data.primaryConfidence) conf['head confidence'] = c.data.primaryConfidence;
    const f3 = await c.svg('arbex-confidence.svg', histogramSvg(conf, 'Confidence'));
    return `<h2>Reliability balancing (ARBEx)</h2>${img(f1, 'max probability')}${img(f2, 'true-class probability')}${img(f3, 'confidence histogram')}`;
  },
});

sections.register({
  name: 'patternmap',
  description: 'masks over faces, pattern maps per face and averaged per class',
  create: async (c) => {
    const d = c.data;
    if (!d.maskShape && !d.mapShape) return undefined;
    const size = c.model.config.input.size;
    const classes = c.model.config.classes;
    const byClass = classes.map((_, l) => d.examples.filter((e) => e.label === l));
    let html = '<h2>Expression masks and pattern maps</h2>';
    if (d.maskShape) {
      const [h, w] = d.maskShape;
      const rows = byClass.map((ex, l) => ({ color: classColor(l), tiles: ex.map((e) => overlayMask(e.face, upsample(e.mask!, h, w, size[0], size[1]), size)) }));
      const f = await c.png('masks.png', grid(rows, 2));
      html += `<p>Refined masks M' (red: more weight, stretched per face) over faces; one row per class (${classes.join(', ')}).</p>${img(f, 'masks over faces')}`;
      const means = async (sums: Float64Array[], file: string, what: string) => {
        const tiles = sums.flatMap((s, l) => (d.classCount[l] ? [overlayMask(new Float32Array(size[0] * size[1]).fill(0.5), upsample(Array.from(s, (v) => v / d.classCount[l]), h, w, size[0], size[1]), size, 0.9)] : []));
        const g = await c.png(file, grid([{ color: '#ffffff', tiles }], 2));
        return `<p>Mean ${what} per class (left to right: ${classes.filter((_, l) => d.classCount[l]).join(', ')}).</p>${img(g, `mean ${what} per class`)}`;
      };
      html += await means(d.classMaskSum!, 'masks-class-mean.png', "refined mask M'");
      if (d.classRawMaskSum) html += await means(d.classRawMaskSum, 'raw-masks-class-mean.png', 'raw mask M (before the EMR refiner)');
      // The pictures are stretched per tile, which hides a flat mask: the values say how much it varies.
      const cells = (sums: Float64Array[] | undefined, l: number) => {
        if (!sums) return '';
        const m = Array.from(sums[l], (v) => v / d.classCount[l]);
        const mean = m.reduce((a, v) => a + v, 0) / m.length;
        return `<td>${mean.toFixed(3)}</td><td>${Math.min(...m).toFixed(3)} – ${Math.max(...m).toFixed(3)}</td>`;
      };
      const stats = classes.flatMap((name, l) => (d.classCount[l] ? [`<tr><td>${name}</td><td>${d.classCount[l]}</td>${cells(d.classMaskSum, l)}${cells(d.classRawMaskSum, l)}</tr>`] : []));
      const head = (what: string) => `<th>${what}: mean</th><th>${what}: range over the ${h}×${w} cells of the class mean</th>`;
      html += `<table><tr><th>class</th><th>faces</th>${head("refined mask M'")}${d.classRawMaskSum ? head('raw mask M') : ''}</tr>${stats.join('')}</table>`;
    }
    if (d.mapShape) {
      const rows = byClass.map((ex, l) => ({ color: classColor(l), tiles: ex.flatMap((e) => [greyRaster(e.face, size), greyRaster(e.patternMap!, d.mapShape!)]) }));
      const f = await c.png('pattern-maps.png', grid(rows, 2));
      const avg = d.classMapSum!.flatMap((s, l) => (d.classCount[l] ? [greyRaster(Array.from(s, (v) => v / d.classCount[l]), d.mapShape!)] : []));
      const g = await c.png('pattern-maps-class-mean.png', grid([{ color: '#ffffff', tiles: avg }], 3));
      html += `<p>Faces and their pattern maps P (pairs: face, map), one row per class.</p>${img(f, 'pattern maps per face')}<p>Mean pattern map per class (left to right: ${classes.filter((_, l) => d.classCount[l]).join(', ')}).</p>${img(g, 'mean pattern maps per class')}`;
    }
    return html;
  },
});

sections.register({
  name: 'gca',
  description: 'GCA channel weights by frame (models whose outputs carry extras.gcaWeights)',
  create: async (c) => {
    const g = c.data.gca;
    if (!g) return undefined;
    const cols = g.shape.at(-1) ?? 1;
    const mean = Array.from(g.sum, (v) => v / g.count);
    const rows: number[][] = [];
    for (let i = 0; i < mean.length; i += cols) rows.push(mean.slice(i, i + cols));
    const f = await c.svg('gca-weights.svg', heatmapSvg(rows, `Mean GCA channel weights (${g.shape.join('x')} per sample)`, g.shape.length > 1 ? 'frame' : '', 'channel'));
    return `<h2>GCA channel weights</h2>${img(f, 'GCA weights by frame')}`;
  },
});

/** Runs the model over the builder's samples and writes the report; returns the scores. */
async function generateReport(model: FerModel, builder: BatchBuilder, labels: Int32Array, options: ReportOptions): Promise<ReportSummary> {
  const o: Required<ReportOptions> = { title: model.config.method, examplesPerClass: 4, maxPoints: 1500, seed: 0, ...options };
  await mkdir(o.outDir, { recursive: true });
  const data = await collect(model, builder, labels, o.examplesPerClass);
  const k = data.numClasses;
  const preds = Int32Array.from({ length: data.n }, (_, i) => {
    const row = data.probs.subarray(i * k, (i + 1) * k);
    return row.indexOf(Math.max(...row));
  });
  const report = classificationReport(labels, preds, k);
  const rows = Array.from({ length: data.n }, (_, i) => Array.from(data.probs.subarray(i * k, (i + 1) * k)));
  const summary: ReportSummary = { n: data.n, war: report.war, uar: report.uar, ece: calibration(rows, labels).ece, files: [], sections: [] };
  const ctx: Ctx = {
    model,
    data,
    report,
    preds,
    o,
    summary,
    svg: async (name, svg) => {
      await writeFile(join(o.outDir, name), svg);
      summary.files.push(name);
      return name;
    },
    png: async (name, r) => {
      await writeImage(r, join(o.outDir, name));
      summary.files.push(name);
      return name;
    },
  };
  const parts: string[] = [];
  const order = [...SECTION_ORDER.filter((n) => sections.has(n)), ...sections.names().filter((n) => !SECTION_ORDER.includes(n))];
  for (const name of order) {
    const html = await sections.get(name).create(ctx);
    if (html === undefined) continue;
    summary.sections.push(name);
    parts.push(`<section id="section-${name}">${html}</section>`);
  }
  const cfg = model.config;
  const page =
    `<!doctype html><html><head><meta charset="utf-8"><title>ferkit report: ${esc(o.title)}</title>` +
    `<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}img{max-width:100%;margin:6px;border:1px solid #ddd;vertical-align:top}section{border-top:1px solid #ccc;margin-top:1.5em}</style></head><body>` +
    `<h1>ferkit report</h1><p>${esc(o.title)}</p><p>Method <code>${esc(cfg.method)}</code>, backbone <code>${esc(cfg.backbone)}</code>, input ${cfg.input.size.join('x')}x${cfg.input.channels}, classes ${esc(cfg.classes.join(', '))}.</p>` +
    parts.join('\n') +
    `<script type="application/json" id="summary">${JSON.stringify({ ...summary, files: undefined })}</script></body></html>\n`;
  await writeFile(join(o.outDir, 'index.html'), page);
  await writeFile(join(o.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** Report on dataset samples: those of classes the model knows, labelled in its class order. */
export async function reportOnSamples(model: FerModel, items: readonly (ImageSample | ClipSample)[], options: ReportOptions): Promise<ReportSummary> {
  const index = new Map(model.config.classes.map((c, i) => [c, i]));
  const kept = items.filter((s) => index.has(CANONICAL_CLASSES[s.label]));
  if (kept.length === 0) throw new Error(`none of the ${items.length} samples has a class the model knows (${model.config.classes.join(', ')})`);
  const labels = Int32Array.from(kept, (s) => index.get(CANONICAL_CLASSES[s.label])!);
  const store = await loadSampleStore(kept, model.config.input);
  return generateReport(model, new BatchBuilder(store, model.config.input), labels, options);
}
