// The training loop every single-objective method shares: batches from a SampleStore, augmented
// with the method's preset, split over data-parallel replicas (worker threads, or in-process for
// one), lr from a schedule each step, evaluation on the validation set after each epoch, the best
// model (by val WAR or UAR) saved as a model folder, a resumable checkpoint after every epoch and
// when the time budget runs out, progress on the terminal and a JSONL log. Relabels decided by
// the objective (SCN) change the label table used for later batches; checkpoints keep them.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { permutation, toBatches } from '../data/samplers.js';
import { Rng } from '../data/rng.js';
import { classificationReport, calibration, type ClassificationReport } from '../eval/metrics.js';
import { createModel, saveModel } from '../models/io.js';
import { nonFiniteSafetensors } from '../nn/checkpoint.js';
import type { ModelConfig } from '../models/model.js';
import { loadTrainingCheckpoint } from './checkpoint.js';
import { DataParallelTrainer, InProcessTrainer, splitRows, type ReplicaSet, type Shard } from './data-parallel.js';
import { BatchBuilder, mixSeed } from './batches.js';
import { LabelTable } from './label-table.js';
import { lrSchedules } from './lr-schedule.js';
import { createReplica, type MethodReplicaOptions } from './method-replica.js';
import type { SampleStore } from './sample-store.js';
import type { OptimizerOptions } from './optim.js';
import { applyFineTune, backbonesOf, calibrateBatchNorms, type FineTuneOptions } from './finetune.js';
import { buildFeatureCache, type BatchSource } from './feature-cache.js';
import { initWeights } from './method-replica.js';
import { moduleUrl } from '../util/workers.js';
import { tf } from '../engine/backend.js';
import { Random } from '../nn/random.js';
import { saveModule } from '../nn/checkpoint.js';

export interface TrainerOptions {
  config: ModelConfig;
  objective?: Record<string, unknown>;
  /** `targets`: soft targets [n × classes] (FER+ vote distributions) for objectives that take them. */
  train: { store: SampleStore; labels: Int32Array; targets?: Float32Array };
  val?: { store: SampleStore; labels: Int32Array };
  outDir: string;
  epochs: number;
  batchSize: number;
  optimizer: { name: string } & OptimizerOptions;
  schedule: { name: string; warmupEpochs?: number; stepSize?: number; gamma?: number; minLr?: number };
  /** Replicas in worker threads; 0 or 1 trains in the main thread. */
  workers: number;
  seed: number;
  /** Continue from outDir/checkpoint.safetensors when it exists. */
  resume?: boolean;
  trainAugment?: string;
  /** Average predictions with the horizontally flipped input at evaluation. */
  tta?: boolean;
  selectBy?: 'war' | 'uar';
  /** Stop (with a checkpoint) after this many seconds; a later --resume continues. */
  timeBudgetSec?: number;
  /** Cap on steps per epoch (quick runs, tests). */
  maxStepsPerEpoch?: number;
  /** Initial weights (model folder, model.safetensors or checkpoint) to fine-tune from; ignored
   *  when resuming from a checkpoint, which holds newer ones. */
  init?: string;
  /** Pretrained trunk, frozen parts, BatchNorm mode, the trunk's lr scale (see finetune.ts). */
  finetune?: FineTuneOptions;
  /** Compute the frozen leading backbone parts once per face (and its mirror image) and train the
   *  rest on those maps: no other augmentation (see feature-cache.ts). */
  cacheFrozen?: boolean;
  /** Set by the trainer with cacheFrozen: the backbone part the replicas' inputs enter at. */
  startPart?: number;
  /** Train for this many optimizer steps in total instead of `epochs` (the last epoch is cut
   *  short; the lr schedule spans the iterations). */
  iterations?: number;
  /** Clip the averaged gradient to this global L2 norm (PyTorch's clip_grad_norm_). */
  clipGradNorm?: number;
  /** Module (URL) whose `createReplica(options)` builds each replica instead of the method's
   *  (tests substitute fixtures with known weights). */
  replicaModule?: string;
  /** `relabeled`: labels changed so far this epoch, for methods that relabel (SCN). */
  onProgress?: (p: { epoch: number; step: number; steps: number; loss: number; imgPerSec: number; relabeled?: number; accuracy?: number }) => void;
  log?: (line: string) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  lr: number;
  imgPerSec: number;
  seconds: number;
  /** Training labels the objective changed this epoch (methods that relabel: SCN). */
  relabeled?: number;
  /** Accuracy on the (augmented) training batches against their current labels. */
  trainAcc?: number;
  val?: { war: number; uar: number; ece: number };
}

export interface TrainResult {
  epochsDone: number;
  finished: boolean;
  best?: { epoch: number; war: number; uar: number };
  history: EpochRecord[];
  bestDir: string;
  /** The training labels at the end (the dataset's, after any relabeling). */
  labels: Int32Array;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const BEST_DIR = 'best';

async function openReplicas(o: TrainerOptions): Promise<ReplicaSet> {
  const replicaOptions: MethodReplicaOptions = { config: o.config, objective: o.objective, optimizer: o.optimizer, seed: o.seed, init: o.init, finetune: o.finetune, startPart: o.startPart };
  if (o.workers <= 1) {
    const create = o.replicaModule ? ((await import(o.replicaModule)) as { createReplica: typeof createReplica }).createReplica : createReplica;
    return new InProcessTrainer(create(replicaOptions as unknown as Record<string, unknown>));
  }
  const replicaModule = o.replicaModule ?? moduleUrl(new URL('./method-replica.js', import.meta.url));
  return DataParallelTrainer.start({ replicaModule, replicaOptions: replicaOptions as unknown as Record<string, unknown>, workers: o.workers });
}

/** Class probabilities for every sample of a store (eval mode, optional flip TTA). */
export async function predictStore(replicas: ReplicaSet, builder: BatchSource, numClasses: number, tta = false, batch = 256): Promise<Float32Array> {
  const n = builder.size;
  const out = new Float32Array(n * numClasses);
  for (let a = 0; a < n; a += batch) {
    const idx = Array.from({ length: Math.min(batch, n - a) }, (_, k) => a + k);
    const { x, shape } = builder.build(idx);
    const p = await replicas.predict(x, shape);
    if (tta) {
      const f = builder.build(idx, undefined, true);
      const q = await replicas.predict(f.x, f.shape);
      for (let i = 0; i < p.length; i++) p[i] = (p[i] + q[i]) / 2;
    }
    out.set(p, a * numClasses);
  }
  return out;
}

export function scoreProbs(probs: Float32Array, labels: Int32Array, numClasses: number): { report: ClassificationReport; ece: number } {
  const n = labels.length;
  const preds = new Int32Array(n);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(probs.subarray(i * numClasses, (i + 1) * numClasses));
    rows.push(row);
    preds[i] = row.indexOf(Math.max(...row));
  }
  return { report: classificationReport(labels, preds, numClasses), ece: calibration(rows, labels).ece };
}

export async function train(o: TrainerOptions): Promise<TrainResult> {
  const log = o.log ?? (() => {});
  await mkdir(o.outDir, { recursive: true });
  const ckpt = join(o.outDir, CHECKPOINT_FILE);
  const logFile = join(o.outDir, 'log.jsonl');
  const bestDir = join(o.outDir, BEST_DIR);
  const numClasses = o.config.classes.length;
  const n = o.train.labels.length;
  const steps = Math.min(Math.floor(n / o.batchSize), o.maxStepsPerEpoch ?? Infinity);
  if (steps < 1) throw new Error(`training set has ${n} samples, fewer than one batch of ${o.batchSize}`);
  const workers = Math.max(1, o.workers);
  if (o.batchSize < workers) throw new Error(`batch size ${o.batchSize} is smaller than the ${workers} workers`);
  if (o.iterations !== undefined && !(Number.isInteger(o.iterations) && o.iterations > 0)) throw new Error(`iterations must be a positive integer, got ${o.iterations}`);
  const epochs = o.iterations !== undefined ? Math.ceil(o.iterations / steps) : o.epochs;
  const totalSteps = o.iterations ?? epochs * steps;
  // The schedule runs in epochs, fractional when the iterations end mid-epoch.
  const schedule = lrSchedules.get(o.schedule.name).create({ base: o.optimizer.lr, epochs: totalSteps / steps, ...o.schedule });
  // Checked before any replica (worker) opens: a throw past that point must go through the finally.
  const targets = o.train.targets;
  if (targets && targets.length !== n * numClasses) throw new Error(`soft targets: ${targets.length} values for ${n} samples of ${numClasses} classes`);
  const trainImages = new BatchBuilder(o.train.store, o.config.input, o.trainAugment);
  const valImages = o.val ? new BatchBuilder(o.val.store, o.config.input) : undefined;
  let trainBuilder: BatchSource = trainImages;
  let valBuilder: BatchSource | undefined = valImages;
  const selectBy = o.selectBy ?? 'war';

  // A pretrained trunk is loaded (and its BatchNorms calibrated) once here, then handed to every
  // replica as initial weights, so that all replicas start identical.
  const resuming = o.resume === true && existsSync(ckpt);
  const pretrained = o.finetune?.pretrained && !o.init && !resuming;
  let replicaOptions: TrainerOptions = pretrained ? { ...o, init: await pretrainedInit(o, trainImages), finetune: { ...o.finetune, pretrained: false } } : o;
  if (o.cacheFrozen) {
    const cached = await cacheFrozenFeatures(replicaOptions, resuming ? ckpt : replicaOptions.init, trainImages, valImages, log);
    trainBuilder = cached.train;
    valBuilder = cached.val;
    replicaOptions = { ...replicaOptions, startPart: cached.from };
  }
  const replicas = await openReplicas(replicaOptions);
  const started = Date.now();
  let history: EpochRecord[] = [];
  let best: TrainResult['best'];
  let epoch = 0;
  let batchStart = 0;
  const labels = new LabelTable(o.train.labels, numClasses);
  // `scored`/`correct`: samples whose scores the objective reported, and how many were right.
  let partial = { loss: 0, count: 0, seconds: 0, relabeled: 0, scored: 0, correct: 0 };
  try {
    if (o.resume && existsSync(ckpt)) {
      const p = (await replicas.load(ckpt)) as { epoch: number; batch: number; history: EpochRecord[]; best?: TrainResult['best']; partial?: Partial<typeof partial>; relabeled?: unknown; labelCount?: number };
      ({ epoch, history } = p);
      batchStart = p.batch ?? 0;
      best = p.best;
      partial = { ...partial, ...p.partial };
      if (p.labelCount !== undefined && p.labelCount !== n) throw new Error(`${ckpt}: written for a training set of ${p.labelCount} samples, this one has ${n}`);
      labels.restore(p.relabeled ?? [], ckpt);
      log(`resumed from ${ckpt} at epoch ${epoch + 1}, step ${batchStart}`);
    }
    // `relabeled`: every training label that differs from the dataset's (SCN relabels).
    const progress = (nextEpoch: number, nextBatch: number) => ({ epoch: nextEpoch, batch: nextBatch, history, best, partial, relabeled: labels.changes(), labelCount: n });
    const save = (nextBatch: number) => replicas.save(ckpt, progress(epoch, nextBatch));
    let relabels = false;
    for (; epoch < epochs; epoch++) {
      const order = permutation(n, new Rng(mixSeed(o.seed, epoch, 1)));
      const batches = toBatches(order, o.batchSize, true).slice(0, Math.min(steps, totalSteps - epoch * steps));
      let t0 = Date.now();
      for (let b = batchStart; b < batches.length; b++) {
        const idx = batches[b];
        const { x, shape } = trainBuilder.build(idx, mixSeed(o.seed, epoch, b, 2));
        const per = x.length / idx.length;
        const shards: Shard[] = splitRows(idx.length, workers).map(([a, z]) => ({
          x: x.slice(a * per, z * per),
          xShape: [z - a, ...shape.slice(1)],
          y: Int32Array.from(idx.slice(a, z), (i) => labels.get(i)),
          index: Int32Array.from(idx.slice(a, z)),
          epoch,
          ...(targets ? { target: gatherRows(targets, idx.slice(a, z), numClasses) } : {}),
        }));
        const lr = schedule(epoch + b / steps);
        const loss = await replicas.step(shards, lr, o.clipGradNorm);
        if (!Number.isFinite(loss)) throw diverged(o, `the loss is ${loss} at epoch ${epoch + 1}, step ${b + 1}`, best && bestDir);
        // Relabels of this batch's samples take effect from their next batch on.
        const taken = replicas.takeRelabels();
        if (taken) {
          relabels = true;
          partial.relabeled += labels.apply(taken);
        }
        const correct = replicas.takeCorrect();
        if (correct !== undefined) {
          partial.correct += correct;
          partial.scored += idx.length;
        }
        partial.loss += loss * idx.length;
        partial.count += idx.length;
        const now = Date.now();
        partial.seconds += (now - t0) / 1000;
        t0 = now;
        o.onProgress?.({
          epoch,
          step: b + 1,
          steps: batches.length,
          loss: partial.loss / partial.count,
          imgPerSec: partial.count / Math.max(1e-9, partial.seconds),
          ...(relabels ? { relabeled: partial.relabeled } : {}),
          ...(partial.scored ? { accuracy: partial.correct / partial.scored } : {}),
        });
        if (o.timeBudgetSec !== undefined && (now - started) / 1000 > o.timeBudgetSec && b + 1 < batches.length) {
          await checkFinite(replicas, o, `epoch ${epoch + 1}, step ${b + 1}`, best && bestDir);
          await save(b + 1);
          log(`time budget of ${o.timeBudgetSec}s reached: checkpoint at epoch ${epoch + 1}, step ${b + 1}; continue with --resume`);
          return { epochsDone: epoch, finished: false, best, history, bestDir, labels: labels.labels() };
        }
      }
      batchStart = 0;
      await checkFinite(replicas, o, `the end of epoch ${epoch + 1}`, best && bestDir);
      const record: EpochRecord = {
        epoch: epoch + 1,
        loss: partial.loss / Math.max(1, partial.count),
        lr: schedule(epoch + batches.length / steps - 1e-9),
        imgPerSec: partial.count / Math.max(1e-9, partial.seconds),
        seconds: partial.seconds,
        ...(relabels ? { relabeled: partial.relabeled } : {}),
        ...(partial.scored ? { trainAcc: partial.correct / partial.scored } : {}),
      };
      partial = { loss: 0, count: 0, seconds: 0, relabeled: 0, scored: 0, correct: 0 };
      if (valBuilder && o.val) {
        await replicas.syncBuffers();
        const probs = await predictStore(replicas, valBuilder, numClasses, o.tta);
        const { report, ece } = scoreProbs(probs, o.val.labels, numClasses);
        record.val = { war: report.war, uar: report.uar, ece };
        const score = selectBy === 'uar' ? report.uar : report.war;
        if (!best || score > (selectBy === 'uar' ? best.uar : best.war)) {
          best = { epoch: epoch + 1, war: report.war, uar: report.uar };
          await saveBest(replicas, o, bestDir, { ...best, ece, perClassRecall: report.recall });
        }
      }
      history.push(record);
      await appendFile(logFile, JSON.stringify(record) + '\n');
      log(
        `epoch ${epoch + 1}/${epochs}: loss ${record.loss.toFixed(4)}` +
          (record.trainAcc !== undefined ? `, train acc ${(record.trainAcc * 100).toFixed(2)}%` : '') +
          `, ${record.imgPerSec.toFixed(1)} img/s` +
          (record.relabeled !== undefined ? `, ${record.relabeled} relabeled (${labels.changes().length} differ from the dataset)` : '') +
          (record.val ? `, val WAR ${(record.val.war * 100).toFixed(2)}% UAR ${(record.val.uar * 100).toFixed(2)}%` : ''),
      );
      const next = epoch + 1;
      await replicas.save(ckpt, progress(next, 0));
      if (o.timeBudgetSec !== undefined && (Date.now() - started) / 1000 > o.timeBudgetSec && next < epochs) {
        log(`time budget of ${o.timeBudgetSec}s reached after epoch ${next}; continue with --resume`);
        return { epochsDone: next, finished: false, best, history, bestDir, labels: labels.labels() };
      }
    }
    if (!o.val) await saveBest(replicas, o, bestDir, { epoch: epochs });
    return { epochsDone: epochs, finished: true, best, history, bestDir, labels: labels.labels() };
  } finally {
    await replicas.close();
  }
}

/** The frozen prefix's features of the training and validation faces (see feature-cache.ts),
 *  computed once from the initial weights (or the checkpoint being resumed: its prefix is the same). */
async function cacheFrozenFeatures(o: TrainerOptions, weights: string | undefined, train: BatchBuilder, val: BatchBuilder | undefined, log: (s: string) => void) {
  const model = createModel(o.config, new Random(o.seed));
  try {
    applyFineTune(model, { ...o.finetune, pretrained: o.finetune?.pretrained && !weights });
    if (weights) initWeights(model, weights);
    const [{ backbone }] = backbonesOf(model);
    const frozen = new Set(o.finetune?.freeze ?? []);
    const parts = backbone?.parts?.() ?? [];
    let from = 0;
    while (from < parts.length && frozen.has(parts[from]![0])) from++;
    if (from === 0) throw new Error(`--cache-frozen: freeze the backbone's leading parts (${parts.map((p) => p[0]).slice(0, 3).join(', ')}, ...) to cache their features`);
    if (from === parts.length) throw new Error('--cache-frozen: every backbone part is frozen; leave at least one to train');
    const t0 = Date.now();
    // A cached map takes no pixel augmentation: mirroring is the one left, used when the run augments.
    const augments = o.trainAugment !== undefined && o.trainAugment !== 'none';
    if (augments) log(`--cache-frozen: the frozen features are of the faces as they are and mirrored; augmentation ${o.trainAugment} does not apply`);
    const out = { from, train: buildFeatureCache(model, from, train, augments), val: val ? buildFeatureCache(model, from, val) : undefined };
    log(`${out.train.fromDisk && (out.val?.fromDisk ?? true) ? 'read' : 'computed'} the frozen ${parts.slice(0, from).map((p) => p[0]).join(', ')} features of ${train.size + (val?.size ?? 0)} faces (and their mirror images) in ${((Date.now() - t0) / 1000).toFixed(0)} s: maps of [${out.train.mapShape}]`);
    return out;
  } finally {
    model.dispose();
  }
}

/** The error of a diverged run. It stops before anything of the diverged weights is saved: no
 *  checkpoint or model with NaN in it; best/ keeps the last good epoch's, if any. */
function diverged(o: TrainerOptions, what: string, bestDir: string | undefined): Error {
  return new Error(
    `training diverged: ${what} (base lr ${o.optimizer.lr}); nothing of the diverged weights was saved${bestDir ? ` (${bestDir} keeps the best epoch before)` : ''}: ` +
      'lower --lr or add --clip-grad-norm, then train again (--overwrite, or --resume from the last good checkpoint)',
  );
}

/** Throws `diverged` when replica 0's weights, BatchNorm statistics or optimizer state hold NaN
 *  or Infinity (a finite loss can hide overflowing statistics). */
async function checkFinite(replicas: ReplicaSet, o: TrainerOptions, where: string, bestDir: string | undefined): Promise<void> {
  const tmp = join(o.outDir, 'finite-check.tmp.safetensors');
  let bad: string[];
  try {
    await replicas.save(tmp, {});
    const bytes = await readFile(tmp);
    bad = nonFiniteSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), tmp);
  } finally {
    await rm(tmp, { force: true });
  }
  if (bad.length) throw diverged(o, `NaN or Infinity in ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''} at ${where}`, bestDir);
}

/** Rows `idx` of a row-major [n × c] matrix. */
function gatherRows(m: Float32Array, idx: ArrayLike<number>, c: number): Float32Array {
  const out = new Float32Array(idx.length * c);
  for (let k = 0; k < idx.length; k++) out.set(m.subarray(idx[k]! * c, (idx[k]! + 1) * c), k * c);
  return out;
}

/** The model with its backbone's pretrained weights, BatchNorms calibrated on 128 training faces
 *  when they will train with batch statistics; saved to <out>/pretrained-init.safetensors. */
async function pretrainedInit(o: TrainerOptions, builder: BatchBuilder): Promise<string> {
  const path = join(o.outDir, 'pretrained-init.safetensors');
  const model = createModel(o.config, new Random(o.seed));
  try {
    applyFineTune(model, { pretrained: true });
    if ((o.finetune?.bn ?? 'train') === 'train') {
      const n = o.train.labels.length;
      const idx = permutation(n, new Rng(mixSeed(o.seed, 3))).slice(0, Math.min(128, n));
      const { x, shape } = builder.build(idx);
      const t = tf.tensor(x, shape);
      for (const { backbone } of backbonesOf(model)) calibrateBatchNorms(backbone, t);
      t.dispose();
    }
    await saveModule(path, model, { method: o.config.method });
  } finally {
    model.dispose();
  }
  return path;
}

/** Replica 0's weights (with its BatchNorm statistics) as a model folder. */
async function saveBest(replicas: ReplicaSet, o: TrainerOptions, dir: string, info: Record<string, unknown>): Promise<void> {
  const tmp = join(o.outDir, 'best-weights.tmp.safetensors');
  await replicas.save(tmp, {});
  const model = createModel({ ...o.config, info: { ...(o.config.info ?? {}), ...info } });
  try {
    await loadTrainingCheckpoint(tmp, { model });
    await saveModel(dir, model);
  } finally {
    model.dispose();
    await rm(tmp, { force: true });
  }
}

