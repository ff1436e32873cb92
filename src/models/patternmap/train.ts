// The pattern-map method's own training loop (the generic trainer runs one objective; this epoch
// has three): 1. EFE alone over the training set in shuffled batches (L_EFE); 2. EFE + EMR on P×K
// triplet batches with the trunk's first convs frozen (L_EMR); 3. EPMG on triplet batches with the
// EFE frozen (L_EPMG). Each step has its own SGD optimizer and lr (seed: 1e-3, 1e-4, 1e-3) and
// clips each module's gradient norm separately, as the seed's code does. After each epoch the model
// is scored on the validation set and the best one is saved as a model folder. Resumable like the
// generic trainer: a checkpoint (weights, the three optimizers' slots, RNG, epoch/step/batch) after
// every epoch and when --time-budget runs out, at any batch; --resume continues from it.
import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../../engine/backend.js';
import { Rng } from '../../util/rng.js';
import { permutation, toBatches, tripletBatches } from '../../data/samplers.js';
import { loadSafetensors } from '../../nn/checkpoint.js';
import { manualSeed } from '../../nn/random.js';
import { BatchBuilder, mixSeed } from '../../train/batches.js';
import { optimizers, type Optimizer } from '../../train/optim.js';
import { clipGradNorm } from '../../train/step.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from '../../train/checkpoint.js';
import { scoreProbs, BEST_DIR, CHECKPOINT_FILE, type EpochRecord, type TrainerOptions, type TrainResult } from '../../train/trainer.js';
import { WEIGHTS_FILE, memberTensors, parseModelRef, saveModel } from '../io.js';
import { mergedOptions, numberOption } from '../method-options.js';
import { efeLoss, emrLoss, epmgLoss, greyTarget, lossWeights, type PatternMapLossWeights } from './losses.js';
import { PatternMapModel } from './model.js';
import { leadingConvParams } from './trunk.js';

export interface PatternMapSchedule {
  lrEfe: number;
  lrEmr: number;
  lrEpmg: number;
  /** Max gradient norms (the seed's EFE_GT, EMR_GT, EPMG_GT). */
  clipEfe: number;
  clipEmr: number;
  clipEpmg: number;
  /** Images per class in a triplet batch (t). */
  tripletPerClass: number;
  /** Triplet-batch iterations of step 2 (and of step 3 unless epmgIterations is set) per epoch. */
  tripletIterations: number;
  epmgIterations: number;
  /** Trunk conv layers frozen in step 2. */
  freezeConvs: number;
  weights: PatternMapLossWeights;
}

export function patternMapSchedule(o: Record<string, unknown>): PatternMapSchedule {
  const pos = (v: number) => v > 0;
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  return {
    lrEfe: numberOption(o, 'lrEfe', 1e-3, pos, 'a positive number'),
    lrEmr: numberOption(o, 'lrEmr', 1e-4, pos, 'a positive number'),
    lrEpmg: numberOption(o, 'lrEpmg', 1e-3, pos, 'a positive number'),
    clipEfe: numberOption(o, 'clipEfe', 10, pos, 'a positive number'),
    clipEmr: numberOption(o, 'clipEmr', 10, pos, 'a positive number'),
    clipEpmg: numberOption(o, 'clipEpmg', 10, pos, 'a positive number'),
    tripletPerClass: numberOption(o, 'tripletPerClass', 8, (v) => int(v) && v > 0, 'a positive integer'),
    tripletIterations: numberOption(o, 'tripletIterations', 100, int, 'a non-negative integer'),
    epmgIterations: numberOption(o, 'epmgIterations', numberOption(o, 'tripletIterations', 100, int, 'a non-negative integer'), int, 'a non-negative integer'),
    freezeConvs: numberOption(o, 'freezeConvs', 5, int, 'a non-negative integer'),
    weights: lossWeights(o),
  };
}

/** Variables and clip norm of one module group. */
export interface ClipGroup {
  vars: tf.Variable[];
  maxNorm: number;
}

/** One update: gradients of `lossFn` for every group's variables (others get none), each group's
 *  gradient norm clipped on its own, one optimizer step. Returns the loss. */
export function groupStep(groups: ClipGroup[], lossFn: () => tf.Scalar, optimizer: Optimizer): number {
  const { value, grads } = tf.variableGrads(lossFn, groups.flatMap((g) => g.vars));
  const clipped: tf.NamedTensorMap = {};
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) throw new Error(`pattern-map training loss is ${loss}: the step diverged (lower the learning rates?)`);
    for (const g of groups) {
      const own: tf.NamedTensorMap = {};
      for (const v of g.vars) if (grads[v.name]) own[v.name] = grads[v.name];
      Object.assign(clipped, clipGradNorm(own, g.maxNorm).grads);
    }
    optimizer.step(clipped);
    return loss;
  } finally {
    tf.dispose([value, ...Object.values(grads), ...Object.values(clipped)]);
  }
}

/** The three steps' trainable groups: step 2 leaves out the trunk's first `freezeConvs` convs. */
export function stepGroups(model: PatternMapModel, s: PatternMapSchedule): Record<'efe' | 'emr' | 'epmg', ClipGroup[]> {
  const frozen = leadingConvParams(model.backbone, s.freezeConvs);
  return {
    efe: [{ vars: model.groupParams('efe'), maxNorm: s.clipEfe }],
    emr: [
      { vars: model.groupParams('efe').filter((v) => !frozen.has(v)), maxNorm: s.clipEfe },
      { vars: model.groupParams('emr'), maxNorm: s.clipEmr },
    ],
    epmg: [{ vars: model.groupParams('epmg'), maxNorm: s.clipEpmg }],
  };
}

/** Copies a trained model folder's trunk (`backbone.*`) and, when the class count matches, its
 *  linear head (`fc.*` → the EFE classifier) into the model: the spec's pretrained trunk. */
export async function initFromModel(model: PatternMapModel, ref: string): Promise<string[]> {
  const { dir, member } = parseModelRef(ref);
  const file = join(dir, WEIGHTS_FILE);
  const { tensors } = await loadSafetensors(file);
  const dict: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(member === undefined ? tensors : memberTensors(tensors, member, file))) {
    if (k.startsWith('backbone.')) dict[k] = v;
    else if (k === 'fc.weight' || k === 'fc.bias') {
      const mine = model.efeHead[k === 'fc.weight' ? 'weight' : 'bias'];
      if (mine && v.shape.join() === mine.shape.join()) dict[`efeHead.${k.slice(3)}`] = v;
    }
  }
  if (!Object.keys(dict).some((k) => k.startsWith('backbone.'))) {
    tf.dispose(Object.values(tensors));
    const hint = Object.keys(tensors).some((k) => k.startsWith('members.')) ? `: it is an ensemble, give ${ref}#N for its member N` : '';
    throw new Error(`${ref}: no trunk weights (backbone.*) in ${file}${hint}`);
  }
  const r = model.loadStateDict(dict, { strict: false, source: ref });
  tf.dispose(Object.values(tensors));
  if (r.unexpected.length) throw new Error(`${ref}: weights do not fit the pattern-map trunk: ${r.unexpected.slice(0, 3).join(', ')}`);
  return Object.keys(dict);
}

export interface StepRecord extends EpochRecord {
  efe: number;
  emr: number;
  epmg: number;
  parts: Record<string, number>;
}

/** Softmax of the recognition logits over a store, optional flip TTA. */
async function predictProbs(model: PatternMapModel, builder: BatchBuilder, tta: boolean): Promise<Float32Array> {
  const n = builder.size;
  const k = model.config.classes.length;
  const out = new Float32Array(n * k);
  model.eval();
  for (let a = 0; a < n; a += 128) {
    const idx = Array.from({ length: Math.min(128, n - a) }, (_, i) => a + i);
    const views = tta ? [false, true] : [false];
    const p = tf.tidy(() => {
      const ps = views.map((flip) => {
        const { x, shape } = builder.build(idx, undefined, flip);
        const out = model.forward(tf.tensor(x, shape));
        return tf.softmax(out.logits);
      });
      return tf.div(tf.addN(ps), ps.length);
    });
    out.set(p.dataSync() as Float32Array, a * k);
    p.dispose();
  }
  return out;
}

/** Where a run stands: the epoch, its step (0 EFE, 1 EMR, 2 EPMG) and the step's next batch. */
interface Position {
  epoch: number;
  phase: number;
  batch: number;
}

/** The current epoch's sums so far (checkpointed, so a run resumed mid-epoch logs the same). */
interface EpochTotals {
  efe: number;
  emr: number;
  epmg: number;
  parts: Record<string, number>;
  seconds: number;
}

/** One of the epoch's three steps: its batches (dataset indices) and how to train on one. */
interface Phase {
  name: string;
  batches: number[][];
  run(b: number, idx: number[]): void;
}

const newTotals = (): EpochTotals => ({ efe: 0, emr: 0, epmg: 0, parts: {}, seconds: 0 });

export async function trainPatternMap(o: TrainerOptions): Promise<TrainResult> {
  // The generic trainer's flags that this three-step loop has its own form of: refuse rather than
  // silently ignore them.
  const own: Array<[keyof TrainerOptions, string, string]> = [
    ['init', '--init', '--objective \'{"init":"DIR"}\''],
    ['iterations', '--iterations', '--epochs with --max-steps and tripletIterations'],
    ['clipGradNorm', '--clip-grad-norm', 'the clipEfe/clipEmr/clipEpmg objective options'],
  ];
  for (const [key, flag, instead] of own) {
    if (o[key] !== undefined) throw new Error(`the patternmap method does not take ${flag}; use ${instead}`);
  }
  const log = o.log ?? (() => {});
  const opts = mergedOptions(o.config.methodOptions, o.objective ?? {});
  const s = patternMapSchedule(opts);
  await mkdir(o.outDir, { recursive: true });
  const rng = manualSeed(o.seed);
  const model = new PatternMapModel(o.config, rng);
  const bestDir = join(o.outDir, BEST_DIR);
  const ckpt = join(o.outDir, CHECKPOINT_FILE);
  const resuming = Boolean(o.resume) && existsSync(ckpt);
  try {
    if (typeof opts.init === 'string' && !resuming) {
      const n = await initFromModel(model, opts.init);
      log(`initialised ${n.length} trunk/head tensors from ${opts.init}`);
    }
    const groups = stepGroups(model, s);
    const optim = (g: ClipGroup[], lr: number) =>
      optimizers.get(o.optimizer.name).create(
        g.flatMap((x) => x.vars),
        { ...o.optimizer, lr },
      );
    const opt = { efe: optim(groups.efe, s.lrEfe), emr: optim(groups.emr, s.lrEmr), epmg: optim(groups.epmg, s.lrEpmg) };
    const labels = Array.from(o.train.labels);
    const n = labels.length;
    const steps = Math.min(Math.floor(n / o.batchSize), o.maxStepsPerEpoch ?? Infinity);
    const iters = s.tripletIterations;
    const iters3 = s.epmgIterations;
    const builder = new BatchBuilder(o.train.store, o.config.input, o.trainAugment);
    const valBuilder = o.val ? new BatchBuilder(o.val.store, o.config.input) : undefined;
    const started = Date.now();
    let history: StepRecord[] = [];
    let best: TrainResult['best'];
    let at: Position = { epoch: 0, phase: 0, batch: 0 };
    let totals = newTotals();
    if (resuming) {
      const { progress } = await loadTrainingCheckpoint(ckpt, { model, optimizers: opt, rng });
      const p = progress as Partial<{ position: Position; totals: EpochTotals; history: StepRecord[]; best: TrainResult['best'] }>;
      if (!p.position) throw new Error(`${ckpt}: not a pattern-map checkpoint (no position of the three-step epoch)`);
      ({ position: at, history = [], best } = p as { position: Position; history: StepRecord[]; best: TrainResult['best'] });
      totals = p.totals ?? totals;
      log(`resumed from ${ckpt} at epoch ${at.epoch + 1}, step ${at.phase + 1} after ${at.batch} batch(es)`);
    }
    const save = (next: Position) => saveTrainingCheckpoint(ckpt, { model, optimizers: opt, rng }, { position: next, totals, history, best }, { config: JSON.stringify(o.config) });
    const batchOf = (idx: number[], seed: number) => {
      const { x, shape } = builder.build(idx, seed);
      return { x: tf.tensor4d(x, shape as [number, number, number, number]), y: Int32Array.from(idx, (i) => labels[i]) };
    };
    const overBudget = () => o.timeBudgetSec !== undefined && (Date.now() - started) / 1000 > o.timeBudgetSec;
    const unfinished = (): TrainResult => ({ epochsDone: at.epoch, finished: false, best, history, bestDir, labels: Int32Array.from(labels) });

    for (; at.epoch < o.epochs; at = { epoch: at.epoch + 1, phase: 0, batch: 0 }) {
      const epoch = at.epoch;
      const t = totals;
      const order = toBatches(permutation(n, new Rng(mixSeed(o.seed, epoch, 1))), o.batchSize, true).slice(0, steps);
      const trip = (tag: number, count: number) => tripletBatches(labels, new Rng(mixSeed(o.seed, epoch, tag)), { perClass: s.tripletPerClass, count });
      const phases: Phase[] = [
        {
          // Step 1: EFE alone, every parameter trainable, shuffled batches.
          name: `EFE, ${order.length} batches`,
          batches: order,
          run(b, idx) {
            const { x, y } = batchOf(idx, mixSeed(o.seed, epoch, b, 2));
            const yt = tf.tensor1d(y, 'int32');
            t.efe += groupStep(groups.efe, () => efeLoss(model, x, yt), opt.efe) / order.length;
            tf.dispose([x, yt]);
          },
        },
        {
          // Step 2: EFE + EMR on triplet batches, leading trunk convs frozen.
          name: `EFE+EMR, ${iters} triplet batches`,
          batches: trip(3, iters),
          run(b, idx) {
            const { x, y } = batchOf(idx, mixSeed(o.seed, epoch, b, 4));
            const p: Record<string, number> = {};
            t.emr += groupStep(groups.emr, () => emrLoss(model, x, y, s.weights, p), opt.emr) / iters;
            for (const [k, v] of Object.entries(p)) t.parts[`emr.${k}`] = (t.parts[`emr.${k}`] ?? 0) + v / iters;
            x.dispose();
          },
        },
        {
          // Step 3: EPMG on the frozen EFE's masked features (computed outside the gradient tape,
          // with the trunk in eval mode: frozen entirely, running statistics included).
          name: `EPMG, ${iters3} triplet batches`,
          batches: trip(5, iters3),
          run(b, idx) {
            const { x, y } = batchOf(idx, mixSeed(o.seed, epoch, b, 6));
            const { gms, mask, efeLogits } = model.efe(x, false);
            const grey = greyTarget(x, o.config.input);
            const p: Record<string, number> = {};
            t.epmg += groupStep(groups.epmg, () => epmgLoss(model, gms, grey, y, s.weights, p), opt.epmg) / iters3;
            for (const [k, v] of Object.entries(p)) t.parts[`epmg.${k}`] = (t.parts[`epmg.${k}`] ?? 0) + v / iters3;
            tf.dispose([x, gms, mask, efeLogits, grey]);
          },
        },
      ];
      const total = phases.reduce((a, p) => a + p.batches.length, 0);
      const done = (phase: number, batch: number) => phases.slice(0, phase).reduce((a, p) => a + p.batches.length, 0) + batch;
      // Steps 1 and 2 train in training mode; step 3 switches the trunk to eval on every batch.
      model.train(true);
      for (; at.phase < phases.length; at = { ...at, phase: at.phase + 1, batch: 0 }) {
        const phase = phases[at.phase];
        let t0 = Date.now();
        for (; at.batch < phase.batches.length; at = { ...at, batch: at.batch + 1 }) {
          phase.run(at.batch, phase.batches[at.batch]);
          const now = Date.now();
          t.seconds += (now - t0) / 1000;
          t0 = now;
          const loss = [t.efe, t.emr, t.epmg][at.phase];
          o.onProgress?.({ epoch, step: done(at.phase, at.batch + 1), steps: total, loss, imgPerSec: 0 });
          if (overBudget() && done(at.phase, at.batch + 1) < total) {
            await save({ ...at, batch: at.batch + 1 });
            log(`time budget of ${o.timeBudgetSec}s reached: checkpoint at epoch ${epoch + 1}, step ${at.phase + 1} after ${at.batch + 1} batch(es); continue with --resume`);
            return unfinished();
          }
        }
        log(`epoch ${epoch + 1} step ${at.phase + 1} (${phase.name}): L_${['EFE', 'EMR', 'EPMG'][at.phase]} ${[t.efe, t.emr, t.epmg][at.phase].toFixed(4)}, ${t.seconds.toFixed(0)} s`);
      }
      const images = order.length * o.batchSize + (iters + iters3) * s.tripletPerClass * new Set(labels).size;
      const record: StepRecord = { epoch: epoch + 1, loss: t.efe + t.emr + t.epmg, lr: s.lrEfe, imgPerSec: images / t.seconds, seconds: t.seconds, efe: t.efe, emr: t.emr, epmg: t.epmg, parts: t.parts };
      if (valBuilder && o.val) {
        const probs = await predictProbs(model, valBuilder, Boolean(o.tta));
        const { report, ece } = scoreProbs(probs, o.val.labels, o.config.classes.length);
        record.val = { war: report.war, uar: report.uar, ece };
        const score = (r: { war: number; uar: number }) => (o.selectBy === 'uar' ? r.uar : r.war);
        if (!best || score(report) > score(best)) {
          best = { epoch: epoch + 1, war: report.war, uar: report.uar };
          await saveWithInfo(model, bestDir, { ...best, ece, perClassRecall: report.recall });
        }
      }
      history.push(record);
      totals = newTotals();
      await appendFile(join(o.outDir, 'log.jsonl'), JSON.stringify(record) + '\n');
      log(
        `epoch ${epoch + 1}/${o.epochs}: L_EFE ${t.efe.toFixed(4)}, L_EMR ${t.emr.toFixed(4)}, L_EPMG ${t.epmg.toFixed(4)}, ${t.seconds.toFixed(0)} s` +
          (record.val ? `, val WAR ${(record.val.war * 100).toFixed(2)}% UAR ${(record.val.uar * 100).toFixed(2)}%` : ''),
      );
      await save({ epoch: epoch + 1, phase: 0, batch: 0 });
      if (overBudget() && epoch + 1 < o.epochs) {
        log(`time budget of ${o.timeBudgetSec}s reached after epoch ${epoch + 1}; continue with --resume`);
        at = { epoch: epoch + 1, phase: 0, batch: 0 };
        return unfinished();
      }
    }
    if (!o.val) await saveWithInfo(model, bestDir, { epoch: o.epochs });
    return { epochsDone: o.epochs, finished: true, best, history, bestDir, labels: Int32Array.from(labels) };
  } finally {
    model.dispose();
  }
}

async function saveWithInfo(model: PatternMapModel, dir: string, info: Record<string, unknown>): Promise<void> {
  const config = model.config as { info?: Record<string, unknown> };
  const before = config.info;
  config.info = { ...(before ?? {}), ...info };
  try {
    await saveModel(dir, model);
  } finally {
    config.info = before;
  }
}
