// k-fold cross-validation with the ordinary trainer: per fold, train on its training part with the
// test part as the per-epoch validation set (as the DFEW protocol and the IAL reference do), then
// score the fold's test part with the last epoch's model (or the best epoch's) and write
// <out>/fold-<k>/result.json. Resumable: a fold with a result is skipped, an interrupted fold
// continues from its checkpoint. The summary (mean ± sd, Table-4 Markdown) covers every fold result
// in <out>. <out>/cv.json pins the settings, so a re-run with other settings fails instead of mixing.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FoldPlan, Sample } from '../data/fold-plan.js';
import { CANONICAL_CLASSES } from '../data/types.js';
import { predictAll, scoreProbs } from '../eval/predict.js';
import { summarize, table4Markdown, type CvSummary, type FoldResult } from '../eval/cv-summary.js';
import { createModel, loadModel, saveModel } from '../models/io.js';
import type { FerModel, ModelConfig } from '../models/model.js';
import { BatchBuilder } from '../data/batches.js';
import { loadTrainingCheckpoint } from './checkpoint.js';
import { loadSampleStore } from '../data/sample-store.js';
import { BEST_DIR, CHECKPOINT_FILE, train, type TrainerOptions } from './trainer.js';

const CV_SETTINGS_FILE = 'cv.json';
const FOLD_RESULT_FILE = 'result.json';
const SUMMARY_JSON = 'summary.json';
const SUMMARY_MD = 'summary.md';
const LAST_DIR = 'last';

export interface CrossValidateOptions {
  plan: FoldPlan;
  /** 1-based folds to run (default: all of the plan's). */
  folds?: number[];
  outDir: string;
  /** The model config for a fold's classes (canonical names, canonical order). */
  config(classes: string[], fold: number): Promise<ModelConfig> | ModelConfig;
  /** Trainer options every fold shares; timeBudgetSec is the budget of the whole run. */
  settings: Omit<TrainerOptions, 'config' | 'train' | 'val' | 'outDir' | 'resume'>;
  /** Score the fold with the last epoch's weights (default, honest) or the best epoch's (selected
   *  on the test fold, as the reference does: optimistic). */
  pick?: 'last' | 'best';
  /** Row label of the Table-4 Markdown. */
  label: string;
  /** What cv.json pins beyond the settings (method, dataset, fold plan, config flags). */
  pinned?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface CrossValidateResult {
  /** False when the time budget ran out (re-run the same command to continue). */
  finished: boolean;
  ran: number[];
  skipped: number[];
  summary?: CvSummary;
}

const foldDir = (out: string, k: number) => join(out, `fold-${k}`);

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, path);
}

/** Writes cv.json on the first run; on later runs the settings must match it. */
async function pinSettings(outDir: string, pinned: Record<string, unknown>): Promise<void> {
  const file = join(outDir, CV_SETTINGS_FILE);
  // JSON round trip: undefined fields drop out as they do in the file.
  const now = JSON.parse(JSON.stringify(pinned)) as Record<string, unknown>;
  if (!existsSync(file)) return writeJson(file, now);
  const before = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const differ = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  if (differ.length) {
    throw new Error(`${file}: this folder holds a run with other settings (${differ.map((k) => `${k}: ${JSON.stringify(before[k])} then, ${JSON.stringify(now[k])} now`).join('; ')}); use another --out or the same settings`);
  }
}

/** Every fold result in `outDir`, by fold. */
async function readFoldResults(outDir: string): Promise<FoldResult[]> {
  const dirs = existsSync(outDir) ? readdirSync(outDir).filter((d) => /^fold-\d+$/.test(d)) : [];
  const files = dirs.map((d) => join(outDir, d, FOLD_RESULT_FILE)).filter((f) => existsSync(f));
  const results = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as FoldResult));
  return results.sort((a, b) => a.fold - b.fold);
}

/** The model of the last epoch: the config with the checkpoint's weights. */
async function lastModel(config: ModelConfig, dir: string): Promise<FerModel> {
  const model = createModel(config);
  await loadTrainingCheckpoint(join(dir, CHECKPOINT_FILE), { model });
  return model;
}

export async function crossValidate(o: CrossValidateOptions): Promise<CrossValidateResult> {
  const log = o.log ?? (() => {});
  const pick = o.pick ?? 'last';
  const folds = o.folds ?? Array.from({ length: o.plan.count }, (_, i) => i + 1);
  await mkdir(o.outDir, { recursive: true });
  const { timeBudgetSec, ...shared } = o.settings;
  // The budget and the worker count may change between runs; the rest shapes the results.
  const { workers: _workers, ...shaping } = shared;
  await pinSettings(o.outDir, { ...o.pinned, pick, settings: shaping });
  const started = Date.now();
  const ran: number[] = [];
  const skipped: number[] = [];
  let finished = true;
  for (const k of folds) {
    const dir = foldDir(o.outDir, k);
    const resultFile = join(dir, FOLD_RESULT_FILE);
    if (existsSync(resultFile)) {
      log(`fold ${k}: done (${resultFile}), skipped`);
      skipped.push(k);
      continue;
    }
    const left = timeBudgetSec === undefined ? undefined : timeBudgetSec - (Date.now() - started) / 1000;
    // A spent budget starts no new fold (the first always gets a step, so a run always progresses).
    if (left !== undefined && left <= 0 && ran.length > 0) {
      finished = false;
      break;
    }
    const data = await o.plan.load(k);
    // The model's classes: the fold's training classes; test samples of other classes are left out.
    const present = [...new Set(data.train.map((s) => s.label))].sort((a, b) => a - b);
    const classes = present.map((c) => CANONICAL_CLASSES[c]!);
    const toModel = new Map(present.map((c, i) => [c, i]));
    const test = data.test.filter((s) => toModel.has(s.label));
    const labelsOf = (items: Sample[]) => Int32Array.from(items, (s) => toModel.get(s.label)!);
    const config = await o.config(classes, k);
    config.info = { ...(config.info ?? {}), fold: `${k}/${o.plan.count}: ${o.plan.how}`, trainSamples: data.train.length, testSamples: test.length };
    log(`fold ${k}/${o.plan.count}: ${data.train.length} training and ${test.length} test ${o.plan.kind}s, ${classes.length} classes`);
    const trainStore = await loadSampleStore(data.train, config.input);
    const testStore = await loadSampleStore(test, config.input);
    const testLabels = labelsOf(test);
    const r = await train({
      ...shared,
      // `--init runs/ce/fold-{fold}/last`: each fold starts from that fold's own model.
      init: shared.init?.replaceAll('{fold}', String(k)),
      timeBudgetSec: left,
      config,
      train: { store: trainStore, labels: labelsOf(data.train) },
      val: { store: testStore, labels: testLabels },
      outDir: dir,
      resume: true,
      log: (line) => log(`[fold ${k}] ${line}`),
    });
    if (!r.finished) {
      log(`fold ${k}: stopped by the time budget with a checkpoint in ${dir}; run the same command again to continue`);
      finished = false;
      break;
    }
    const model = pick === 'best' ? await loadModel(join(dir, BEST_DIR)) : await lastModel(config, dir);
    try {
      if (pick === 'last') await saveModel(join(dir, LAST_DIR), model);
      const { probs } = await predictAll(model, new BatchBuilder(testStore, model.config.input), classes.length, { tta: shared.tta });
      const { report, ece } = scoreProbs(probs, testLabels, classes.length);
      const byClass = <T>(xs: T[]) => Object.fromEntries(classes.map((c, i) => [c, xs[i]]));
      const lastEpoch = r.history[r.history.length - 1];
      const result: FoldResult = {
        fold: k,
        folds: o.plan.count,
        how: o.plan.how,
        dataset: o.plan.dataset,
        model: join(dir, pick === 'best' ? BEST_DIR : LAST_DIR),
        pick,
        epoch: pick === 'best' ? r.best?.epoch : lastEpoch?.epoch,
        n: report.n,
        war: report.war,
        uar: report.uar,
        perClass: byClass(report.recall),
        support: byClass(report.confusion.map((row) => row.reduce((a, b) => a + b, 0))),
        macroF1: report.macroF1,
        ece,
        classes,
        confusion: report.confusion,
        trainSamples: data.train.length,
        testLeftOut: data.test.length - test.length,
        trainer: { epochsDone: r.epochsDone, best: r.best, lastVal: lastEpoch?.val, seconds: r.history.reduce((s, e) => s + e.seconds, 0) },
      };
      await writeJson(resultFile, result);
      log(`fold ${k}: WAR ${(report.war * 100).toFixed(2)}% UAR ${(report.uar * 100).toFixed(2)}% (${pick} epoch)`);
      ran.push(k);
    } finally {
      model.dispose();
    }
  }
  const results = await readFoldResults(o.outDir);
  if (!results.length) return { finished, ran, skipped };
  const summary = summarize(results);
  await writeJson(join(o.outDir, SUMMARY_JSON), { ...o.pinned, pick, label: o.label, ...summary });
  await writeFile(join(o.outDir, SUMMARY_MD), table4Markdown(summary, o.label));
  return { finished, ran, skipped, summary };
}
