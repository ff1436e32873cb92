// CK+48 comparison for the IAL method (issue 5): the small configuration (IAL_SMALL: 3-frame 48x48
// grey sequences) trained with ferkit's trainer on subject-independent folds, GCA + IAL against the
// baseline (no attention, no IAL, hence no aux heads), same budget, same seeds. Every fold's test
// subjects are never seen in its training. Reports per fold and mean ± sd of the last epoch's
// WAR/UAR (honest) and of the best epoch's (the reference's model selection on the test set,
// optimistic). `ferkit train` has no fold option, hence this script. --only picks arms (default:
// gca+ial and baseline).
//   node --import tsx scripts/train-ial-ckplus.ts [--root DIR] [--folds 5] [--run-folds 5]
//        [--epochs 20] [--batch 16] [--lr 0.002] [--out runs/ial-ckplus] [--workers 1]
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/backend.js';
import { readDataset } from '../src/data/registry.js';
import { subjectFolds } from '../src/data/folds.js';
import { CANONICAL_CLASSES } from '../src/data/types.js';
import { IAL_SMALL, ialConfig } from '../src/models/ial/method.js';
import { loadSampleStore } from '../src/data/sample-store.js';
import { train } from '../src/train/trainer.js';

const { values: a } = parseArgs({
  options: {
    root: { type: 'string', default: '../shared/data/ckplus48' },
    folds: { type: 'string', default: '5' },
    'run-folds': { type: 'string' },
    epochs: { type: 'string', default: '20' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.002' },
    'weight-decay': { type: 'string', default: '0.05' },
    out: { type: 'string', default: 'runs/ial-ckplus' },
    workers: { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    only: { type: 'string' },
  },
});

/** The two arms: what shapes the model and what the objective adds. */
const ARMS: Record<string, { methodOptions: Record<string, unknown>; objective: Record<string, unknown> }> = {
  'gca+ial': { methodOptions: { attention: 'gca' }, objective: {} },
  baseline: { methodOptions: { attention: 'none' }, objective: { ial: false } },
  // The two halves, for an ablation (--only gca,ial).
  gca: { methodOptions: { attention: 'gca' }, objective: { ial: false } },
  ial: { methodOptions: { attention: 'none' }, objective: {} },
};

await initEngine();
const ds = await readDataset('ckplus-clips', a.root!);
const k = Number(a.folds);
const split = subjectFolds(ds.items, k, Number(a.seed));
const present = [...new Set(ds.items.map((s) => s.label))].sort((x, y) => x - y);
const classes = present.map((c) => CANONICAL_CLASSES[c]);
const toModel = new Map(present.map((c, i) => [c, i]));
const runFolds = Number(a['run-folds'] ?? k);
const arms = a.only ? a.only.split(',') : ['gca+ial', 'baseline'];
console.log(`CK+48 clips: ${ds.items.length} sequences, ${new Set(ds.items.map((s) => s.subject)).size} subjects, classes ${classes.join(', ')}; ${k} subject-independent folds, running ${runFolds}`);

interface Row {
  arm: string;
  fold: number;
  last: { war: number; uar: number };
  best: { epoch: number; war: number; uar: number };
  seconds: number;
  clipsPerSec: number;
}
const rows: Row[] = [];
for (let f = 0; f < runFolds; f++) {
  const fold = split.folds[f];
  const pick = (idx: number[]) => idx.map((i) => ds.items[i]);
  const labels = (idx: number[]) => Int32Array.from(idx, (i) => toModel.get(ds.items[i].label)!);
  for (const arm of arms) {
    const spec = ARMS[arm];
    if (!spec) throw new Error(`unknown arm ${arm}; known: ${Object.keys(ARMS).join(', ')}`);
    const config = {
      ...ialConfig(classes, IAL_SMALL, { methodOptions: spec.methodOptions }),
      info: { dataset: 'ckplus48 (clips)', fold: `${f + 1}/${k} subject-independent (subjectFolds seed ${a.seed})`, testSubjects: [...new Set(pick(fold.test).map((s) => s.subject))].sort(), arm, objective: spec.objective },
    };
    const store = await loadSampleStore(pick(fold.train), config.input);
    const testStore = await loadSampleStore(pick(fold.test), config.input);
    const t0 = Date.now();
    const r = await train({
      config,
      objective: spec.objective,
      train: { store, labels: labels(fold.train) },
      val: { store: testStore, labels: labels(fold.test) },
      outDir: join(a.out!, arm, `fold${f + 1}`),
      epochs: Number(a.epochs),
      batchSize: Number(a.batch),
      optimizer: { name: 'adamw', lr: Number(a.lr), weightDecay: Number(a['weight-decay']) },
      schedule: { name: 'cosine', warmupEpochs: 1 },
      workers: Number(a.workers),
      seed: Number(a.seed),
      trainAugment: IAL_SMALL.trainAugment,
      log: (line) => console.log(`  [${arm} fold ${f + 1}] ${line}`),
    });
    const last = r.history[r.history.length - 1].val!;
    const seconds = (Date.now() - t0) / 1000;
    const trainSeconds = r.history.reduce((s, e) => s + e.seconds, 0);
    rows.push({ arm, fold: f + 1, last: { war: last.war, uar: last.uar }, best: r.best!, seconds, clipsPerSec: (fold.train.length - (fold.train.length % Number(a.batch))) * r.history.length / trainSeconds });
    console.log(`${arm} fold ${f + 1}: last WAR ${(last.war * 100).toFixed(2)} UAR ${(last.uar * 100).toFixed(2)}; best (epoch ${r.best!.epoch}) WAR ${(r.best!.war * 100).toFixed(2)} UAR ${(r.best!.uar * 100).toFixed(2)}; ${seconds.toFixed(0)} s`);
  }
}

const stat = (xs: number[]) => {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(m * 100).toFixed(2)} ± ${(sd * 100).toFixed(2)}`;
};
console.log(`\n| arm | folds | last-epoch WAR | last-epoch UAR | best-epoch WAR | best-epoch UAR | train clips/s |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const arm of arms) {
  const rs = rows.filter((r) => r.arm === arm);
  const speed = rs.reduce((s, r) => s + r.clipsPerSec, 0) / rs.length;
  console.log(`| ${arm} | ${rs.length} | ${stat(rs.map((r) => r.last.war))} | ${stat(rs.map((r) => r.last.uar))} | ${stat(rs.map((r) => r.best.war))} | ${stat(rs.map((r) => r.best.uar))} | ${speed.toFixed(1)} |`);
}
await writeFile(join(a.out!, 'summary.json'), JSON.stringify({ args: a, classes, rows }, null, 2) + '\n');
