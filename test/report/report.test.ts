// `ferkit report` on a fixed small set of real FER2013 val faces (the first 5 of each class), for
// the bundled CE model and for a (small, untrained) pattern-map model: the page and every picture
// exist, PNGs decode and are not blank, SVGs are SVG documents, and the page's scores equal values
// computed independently (WAR/UAR by the evaluator's own pass; Davies-Bouldin and
// Calinski-Harabasz by numpy from embeddings of a separate forward pass).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { initEngine, tf } from '../../src/engine/backend.js';
import { readImages } from '../../src/data/registry.js';
import { BASIC7, CANONICAL_CLASSES, type ImageSample } from '../../src/data/types.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import type { FerModel } from '../../src/models/model.js';
import { createConfig } from '../../src/models/config.js';
import { PatternMapModel } from '../../src/models/patternmap/model.js';
import { manualSeed } from '../../src/nn/random.js';
import { BatchBuilder } from '../../src/data/batches.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { reportOnSamples, type ReportSummary } from '../../src/report/report.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const PY = '/usr/bin/python3';
const NUMPY_SCORES = `
import json, sys
import numpy as np
d = json.load(sys.stdin); X = np.array(d['x'], dtype=np.float64).reshape(len(d['y']), -1); y = np.array(d['y'])
ks = np.unique(y); c = np.array([X[y == k].mean(0) for k in ks])
s = np.array([np.linalg.norm(X[y == k] - c[i], axis=1).mean() for i, k in enumerate(ks)])
db = np.mean([max((s[i] + s[j]) / np.linalg.norm(c[i] - c[j]) for j in range(len(ks)) if j != i) for i in range(len(ks))])
m = X.mean(0); n, k = len(X), len(ks)
B = sum((y == q).sum() * np.sum((X[y == q].mean(0) - m) ** 2) for q in ks)
W = sum(np.sum((X[y == q] - X[y == q].mean(0)) ** 2) for q in ks)
print(json.dumps({'db': float(db), 'ch': float(B / (k - 1) / (W / (n - k)))}))
`;
const numpyOk = existsSync(PY) && spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

let samples: ImageSample[];
before(async () => {
  await initEngine('wasm');
  const ds = await readImages('folder', sharedData('fer2013'), { split: 'val' });
  samples = BASIC7.flatMap((c) => ds.items.filter((s) => CANONICAL_CLASSES[s.label] === c).slice(0, 5));
});

/** The page's number in the element with this id. */
function pageValue(html: string, id: string): number {
  const m = new RegExp(`id="${id}">([0-9.]+)(%?)<`).exec(html);
  assert.ok(m, `page has #${id}`);
  return Number(m[1]) / (m[2] ? 100 : 1);
}

async function checkFiles(dir: string, s: ReportSummary): Promise<void> {
  assert.ok(existsSync(join(dir, 'index.html')));
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  for (const f of s.files) {
    assert.ok(html.includes(`src="${f}"`), `page shows ${f}`);
    if (f.endsWith('.png')) {
      const { data, info } = await sharp(join(dir, f)).raw().toBuffer({ resolveWithObject: true });
      assert.ok(info.width > 8 && info.height > 8, `${f} size`);
      let lo = 255;
      let hi = 0;
      for (const v of data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.ok(hi - lo > 30, `${f} is not blank (range ${lo}..${hi})`);
    } else {
      const svg = readFileSync(join(dir, f), 'utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>$/s, `${f} is an SVG document`);
      const meta = await sharp(Buffer.from(svg)).metadata();
      assert.ok((meta.width ?? 0) > 100, `${f} rasterises`);
    }
  }
}

async function embeddingsOf(model: FerModel): Promise<Float32Array> {
  const store = await loadSampleStore(samples, model.config.input);
  const { x, shape } = new BatchBuilder(store, model.config.input).build(samples.map((_, i) => i));
  return tf.tidy(() => model.forward(tf.tensor(x, shape), false).embedding!.dataSync() as Float32Array).slice();
}

async function checkScores(model: FerModel, dir: string, s: ReportSummary): Promise<void> {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const ev = await evaluate(model, samples);
  assert.equal(s.n, 35);
  assert.ok(Math.abs(pageValue(html, 'war') - ev.war) < 1e-4, `WAR ${pageValue(html, 'war')} vs ${ev.war}`);
  assert.ok(Math.abs(pageValue(html, 'uar') - ev.uar) < 1e-4, `UAR ${pageValue(html, 'uar')} vs ${ev.uar}`);
  assert.ok(Math.abs(pageValue(html, 'ece') - ev.ece) < 1e-5, `ECE ${pageValue(html, 'ece')} vs ${ev.ece}`);
  if (!numpyOk) return; // the numpy check needs /usr/bin/python3 with numpy
  const emb = await embeddingsOf(model);
  const y = samples.map((sm) => model.config.classes.indexOf(CANONICAL_CLASSES[sm.label]));
  const r = spawnSync(PY, ['-c', NUMPY_SCORES], { input: JSON.stringify({ x: Array.from(emb), y }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as { db: number; ch: number };
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-9, Math.abs(b));
  assert.ok(rel(pageValue(html, 'db'), want.db) < 1e-4, `DB page ${pageValue(html, 'db')} numpy ${want.db}`);
  assert.ok(rel(pageValue(html, 'ch'), want.ch) < 1e-4, `CH page ${pageValue(html, 'ch')} numpy ${want.ch}`);
}

describe('ferkit report', () => {
  it('bundled CE model: accuracy, embedding, calibration sections; scores match independent values', async () => {
    const model = await loadModel(bundledModelDir());
    const dir = tempDir('report-ce');
    const s = await reportOnSamples(model, samples, { outDir: dir, maxPoints: 35 });
    assert.deepEqual(s.sections, ['accuracy', 'embedding', 'reliability']);
    assert.deepEqual([...s.files].sort(), ['confusion.svg', 'embedding-umap.svg', 'recall.svg', 'reliability.svg']);
    await checkFiles(dir, s);
    await checkScores(model, dir, s);
    model.dispose();
  });

  it('pattern-map model: adds masks over faces and pattern maps per face and per class', async () => {
    const config = createConfig('patternmap', {
      classes: [...BASIC7],
      backboneOptions: { widthMultiplier: 1, stages: [[4, 4], [6, 6], [8, 8]] },
      methodOptions: { embeddingDim: 12, encoderHidden: 10, classifierHidden: 8, decoderChannels: [8, 6, 4, 3, 2, 2, 1] },
      size: 28,
    });
    const model = new PatternMapModel(config, manualSeed(3));
    model.eval();
    const dir = tempDir('report-pm');
    const s = await reportOnSamples(model, samples, { outDir: dir, maxPoints: 35, examplesPerClass: 2 });
    assert.deepEqual(s.sections, ['accuracy', 'embedding', 'reliability', 'patternmap']);
    for (const f of ['masks.png', 'masks-class-mean.png', 'raw-masks-class-mean.png', 'pattern-maps.png', 'pattern-maps-class-mean.png']) assert.ok(s.files.includes(f), f);
    // Stretched pictures hide a flat mask: the page also gives each class mean's value range, in [0, 1] (sigmoids).
    const page = readFileSync(join(dir, 'index.html'), 'utf8');
    const ranges = [...page.matchAll(/<td>(\d\.\d{3}) – (\d\.\d{3})<\/td>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(ranges.length, 2 * 7, 'refined and raw mask ranges for the 7 classes');
    for (const [lo, hi] of ranges) assert.ok(lo >= 0 && lo <= hi && hi <= 1, `range ${lo} – ${hi}`);
    // 7 rows of 2 faces, each tile 28x28 enlarged 2x with 2-pixel gaps and a 4-pixel class band.
    const meta = await sharp(join(dir, 'masks.png')).metadata();
    assert.deepEqual([meta.width, meta.height], [2 * (56 + 2) + 2, 7 * (56 + 4 + 2) + 2]);
    await checkFiles(dir, s);
    await checkScores(model, dir, s);
    model.dispose();
  });
});
