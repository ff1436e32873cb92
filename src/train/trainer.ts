// The one training loop: batches from a SampleStore, augmented with the method's preset, split
// over data-parallel replicas (worker threads, or in-process for one), lr from a schedule each
// step, evaluation on the validation set after each epoch, the best model (by val WAR or UAR) saved
// as a model folder, a resumable checkpoint after every epoch and when the time budget runs out
// (at any batch), progress on the terminal and a JSONL log. An epoch is one phase (the method's
// objective) or the phases a phased method brings (pattern-map: EFE, EMR, EPMG, trained in this
// thread by phased-trainee.ts). Relabels decided by the objective (SCN) change the label table
// used for later batches; checkpoints keep them.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchBuilder, mixSeed, type BatchSource } from '../data/batches.js';
import { permutation, toBatches, tripletBatches } from '../data/samplers.js';
import { Rng } from '../util/rng.js';
import type { SampleStore } from '../data/sample-store.js';
import { predictAll, scoreProbs } from '../eval/predict.js';
import { methods } from '../models/all-methods.js';
import { createModel, saveModel } from '../models/io.js';
import type { TrainPhase } from '../models/methods.js';
import type { ModelConfig } from '../models/model.js';
import { nonFiniteSafetensors } from '../nn/checkpoint.js';
import { WEIGHTS_FILE } from '../models/files.js';
import { tf } from '../engine/backend.js';
import { loadTrainingCheckpoint } from './checkpoint.js';
import { DataParallelTrainer, InProcessTrainer, splitRows, type ReplicaSet, type Shard } from './data-parallel.js';
import { LabelTable } from './label-table.js';
import { lrSchedules } from './lr-schedule.js';
import { createReplica, initWeights, type MethodReplicaOptions } from './method-replica.js';
import type { OptimizerOptions } from './optim.js';
import { applyFineTune, backbonesOf, calibrateBatchNorms, type FineTuneOptions } from './finetune.js';
import { buildFeatureCache } from './feature-cache.js';
import { PhasedTrainee } from './phased-trainee.js';
import { moduleUrl } from '../util/workers.js';

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
  /** Phased methods: each phase's mean loss under its lower-case name (pattern-map: efe, emr,
   *  epmg) and the mean of each loss term under `<phase>.<term>` (`loss` is their sum). */
  parts?: Record<string, number>;
  [phase: string]: unknown;
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

export async function train(o: TrainerOptions): Promise<TrainResult> {
  const log = o.log ?? (() => {});
  const method = methods.get(o.config.method);
  const phased = method.create.phased;
  // Options a phased method has its own form of are refused rather than silently ignored.
  for (const [key, flag] of [['init', '--init'], ['iterations', '--iterations'], ['clipGradNorm', '--clip-grad-norm']] as const) {
    const instead = phased?.instead?.[key];
    if (instead && o[key] !== undefined) throw new Error(`the ${method.name} method does not take ${flag}; use ${instead}`);
  }
  // The phases take images (step 3's L_pattern compares the pattern map with the input face), so
  // cached trunk maps cannot feed them.
  if (phased && o.cacheFrozen) throw new Error(`the ${method.name} method does not apply --cache-frozen: its steps need the face images themselves (the pattern map is trained against the input face), not cached trunk maps`);
  if (o.cacheFrozen && method.create.kind === 'clip') {
    throw new Error(`--cache-frozen keeps one map per face and enters the backbone's features mid-trunk; the ${method.name} clip model runs its frame encoder per clip (attention blocks with clip context between the stages, then frame differences), so it does not take cached maps: use --freeze without --cache-frozen`);
  }
  await mkdir(o.outDir, { recursive: true });
  const ckpt = join(o.outDir, CHECKPOINT_FILE);
  const logFile = join(o.outDir, 'log.jsonl');
  const bestDir = join(o.outDir, BEST_DIR);
  const numClasses = o.config.classes.length;
  const n = o.train.labels.length;
  const steps = Math.min(Math.floor(n / o.batchSize), o.maxStepsPerEpoch ?? Infinity);
  if (steps < 1) throw new Error(`training set has ${n} samples, fewer than one batch of ${o.batchSize}`);
  // A phased method trains in this thread.
  const workers = phased ? 1 : Math.max(1, o.workers);
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
  // Weights of another kind of model (an image model into a clip model's frame encoder): say
  // what the replicas will take from them. Only models that can adopt such weights read the file
  // here as well; for the rest the replicas' own load is the only one.
  if (o.init && !resuming && !phased) {
    const probe = createModel(o.config, new Rng(o.seed));
    try {
      if (probe.adoptWeights) initWeights(probe, o.init, (note) => log(`--init: ${note}`));
    } finally {
      probe.dispose();
    }
  }
  let replicaOptions: TrainerOptions = pretrained && !phased ? { ...o, init: await pretrainedInit(o, trainImages, log), finetune: { ...o.finetune, pretrained: false } } : o;
  if (o.cacheFrozen) {
    const cached = await cacheFrozenFeatures(replicaOptions, resuming ? ckpt : replicaOptions.init, trainImages, valImages, log);
    trainBuilder = cached.train;
    valBuilder = cached.val;
    replicaOptions = { ...replicaOptions, startPart: cached.from };
  }
  const trainee = phased ? await PhasedTrainee.create(phased, { ...o, resuming, log, pretrained: pretrained ? () => pretrainedInit(o, trainImages, log) : undefined }) : await openReplicas(replicaOptions);
  // One phase (the method's objective) unless the method brings several.
  const phases: Array<Pick<TrainPhase, 'name' | 'batches'> & { lr?: number }> = trainee instanceof PhasedTrainee ? trainee.phases : [{ name: 'loss', batches: 'shuffled' }];
  const key = (p: number) => phases[p].name.toLowerCase();
  const started = Date.now();
  let history: EpochRecord[] = [];
  let best: TrainResult['best'];
  let epoch = 0;
  let phaseStart = 0;
  let batchStart = 0;
  const labels = new LabelTable(o.train.labels, numClasses);
  // Sums over the epoch so far: `loss`/`count` over every phase, `phaseLoss`/`phaseCount` per
  // phase, `parts` the phases' loss terms (means over their phase's batches); `scored`/`correct`:
  // samples whose scores the objective reported, and how many were right.
  const newPartial = () => ({ loss: 0, count: 0, seconds: 0, relabeled: 0, scored: 0, correct: 0, phaseLoss: phases.map(() => 0), phaseCount: phases.map(() => 0), parts: {} as Record<string, number> });
  let partial = newPartial();
  try {
    if (resuming) {
      const p = (await trainee.load(ckpt)) as { epoch: number; phase?: number; batch: number; history: EpochRecord[]; best?: TrainResult['best']; partial?: Partial<typeof partial>; relabeled?: unknown; labelCount?: number };
      if (typeof p.epoch !== 'number') throw new Error(`${ckpt}: no training position to resume from (written by another trainer?)`);
      ({ epoch, history } = p);
      phaseStart = p.phase ?? 0;
      batchStart = p.batch ?? 0;
      best = p.best;
      partial = { ...partial, ...p.partial };
      // A checkpoint from before phases: its one phase's sums are the epoch's.
      if (!p.partial?.phaseLoss) Object.assign(partial, { phaseLoss: [partial.loss], phaseCount: [partial.count] });
      if (p.labelCount !== undefined && p.labelCount !== n) throw new Error(`${ckpt}: written for a training set of ${p.labelCount} samples, this one has ${n}`);
      labels.restore(p.relabeled ?? [], ckpt);
      log(`resumed from ${ckpt} at epoch ${epoch + 1}, ${where(phaseStart, batchStart)}`);
    }
    // `relabeled`: every training label that differs from the dataset's (SCN relabels).
    const progress = (nextEpoch: number, nextPhase: number, nextBatch: number) => ({ epoch: nextEpoch, phase: nextPhase, batch: nextBatch, history, best, partial, relabeled: labels.changes(), labelCount: n });
    let relabels = false;
    for (; epoch < epochs; epoch++) {
      // Phase p's batch order and augmentation draw from seeds (seed, epoch, 2p+1) and (seed, epoch, batch, 2p+2).
      const batchesOf = (p: number): number[][] => {
        const b = phases[p].batches;
        if (b === 'shuffled') return toBatches(permutation(n, new Rng(mixSeed(o.seed, epoch, 1))), o.batchSize, true).slice(0, Math.min(steps, totalSteps - epoch * steps));
        return tripletBatches(Array.from(labels.labels()), new Rng(mixSeed(o.seed, epoch, 2 * p + 1)), { perClass: b.perClass, count: b.count });
      };
      const plan = phases.map((_, p) => batchesOf(p));
      const total = plan.reduce((a, b) => a + b.length, 0);
      for (let p = phaseStart; p < phases.length; p++) {
        if (trainee instanceof PhasedTrainee) trainee.phase = p;
        const batches = plan[p];
        const before = plan.slice(0, p).reduce((a, b) => a + b.length, 0);
        let t0 = Date.now();
        for (let b = batchStart; b < batches.length; b++) {
          const idx = batches[b];
          const { x, shape } = trainBuilder.build(idx, mixSeed(o.seed, epoch, b, 2 * p + 2));
          const per = x.length / idx.length;
          const shards: Shard[] = splitRows(idx.length, workers).map(([a, z]) => ({
            x: x.slice(a * per, z * per),
            xShape: [z - a, ...shape.slice(1)],
            y: Int32Array.from(idx.slice(a, z), (i) => labels.get(i)),
            index: Int32Array.from(idx.slice(a, z)),
            epoch,
            ...(targets ? { target: gatherRows(targets, idx.slice(a, z), numClasses) } : {}),
          }));
          const lr = phases[p].lr ?? schedule(epoch + b / steps);
          const loss = await trainee.step(shards, lr, o.clipGradNorm);
          if (!Number.isFinite(loss)) throw diverged(o, `the loss is ${loss} at epoch ${epoch + 1}, ${where(p, b + 1)}`, best && bestDir);
          // Relabels of this batch's samples take effect from their next batch on.
          const taken = trainee.takeRelabels();
          if (taken) {
            relabels = true;
            partial.relabeled += labels.apply(taken);
          }
          const correct = trainee.takeCorrect();
          if (correct !== undefined) {
            partial.correct += correct;
            partial.scored += idx.length;
          }
          if (trainee instanceof PhasedTrainee) for (const [k, v] of Object.entries(trainee.takeParts())) partial.parts[`${key(p)}.${k}`] = (partial.parts[`${key(p)}.${k}`] ?? 0) + v / batches.length;
          partial.phaseLoss[p] += loss * idx.length;
          partial.phaseCount[p] += idx.length;
          partial.loss += loss * idx.length;
          partial.count += idx.length;
          const now = Date.now();
          partial.seconds += (now - t0) / 1000;
          t0 = now;
          o.onProgress?.({
            epoch,
            step: before + b + 1,
            steps: total,
            loss: partial.phaseLoss[p] / partial.phaseCount[p],
            imgPerSec: partial.count / Math.max(1e-9, partial.seconds),
            ...(relabels ? { relabeled: partial.relabeled } : {}),
            ...(partial.scored ? { accuracy: partial.correct / partial.scored } : {}),
          });
          if (o.timeBudgetSec !== undefined && (now - started) / 1000 > o.timeBudgetSec && before + b + 1 < total) {
            await checkFinite(trainee, o, `epoch ${epoch + 1}, ${where(p, b + 1)}`, best && bestDir);
            await trainee.save(ckpt, progress(epoch, p, b + 1));
            log(`time budget of ${o.timeBudgetSec}s reached: checkpoint at epoch ${epoch + 1}, ${where(p, b + 1)}; continue with --resume`);
            return { epochsDone: epoch, finished: false, best, history, bestDir, labels: labels.labels() };
          }
        }
        batchStart = 0;
        if (phases.length > 1) log(`epoch ${epoch + 1} step ${p + 1} (${phases[p].name}, ${batches.length} batches): L_${phases[p].name} ${phaseMean(partial, p).toFixed(4)}, ${partial.seconds.toFixed(0)} s`);
      }
      phaseStart = 0;
      await checkFinite(trainee, o, `the end of epoch ${epoch + 1}`, best && bestDir);
      const phaseLosses = phases.length > 1 ? Object.fromEntries(phases.map((_, p) => [key(p), phaseMean(partial, p)])) : {};
      const record: EpochRecord = {
        epoch: epoch + 1,
        loss: phases.reduce((a, _, p) => a + phaseMean(partial, p), 0),
        lr: phases[0].lr ?? schedule(epoch + plan[0].length / steps - 1e-9),
        imgPerSec: partial.count / Math.max(1e-9, partial.seconds),
        seconds: partial.seconds,
        ...(relabels ? { relabeled: partial.relabeled } : {}),
        ...(partial.scored ? { trainAcc: partial.correct / partial.scored } : {}),
        ...phaseLosses,
        ...(phases.length > 1 ? { parts: partial.parts } : {}),
      };
      partial = newPartial();
      if (valBuilder && o.val) {
        await trainee.syncBuffers();
        const { probs } = await predictAll((x, shape) => trainee.predict(x, shape), valBuilder, numClasses, { tta: o.tta, batchSize: 256 });
        const { report, ece } = scoreProbs(probs, o.val.labels, numClasses);
        record.val = { war: report.war, uar: report.uar, ece };
        const score = selectBy === 'uar' ? report.uar : report.war;
        if (!best || score > (selectBy === 'uar' ? best.uar : best.war)) {
          best = { epoch: epoch + 1, war: report.war, uar: report.uar };
          await saveBest(trainee, o, bestDir, { ...best, ece, perClassRecall: report.recall });
        }
      }
      history.push(record);
      await appendFile(logFile, JSON.stringify(record) + '\n');
      log(
        `epoch ${epoch + 1}/${epochs}: ` +
          (phases.length > 1 ? phases.map((ph, p) => `L_${ph.name} ${(phaseLosses[key(p)] as number).toFixed(4)}`).join(', ') : `loss ${record.loss.toFixed(4)}`) +
          (record.trainAcc !== undefined ? `, train acc ${(record.trainAcc * 100).toFixed(2)}%` : '') +
          `, ${record.imgPerSec.toFixed(1)} img/s` +
          (record.relabeled !== undefined ? `, ${record.relabeled} relabeled (${labels.changes().length} differ from the dataset)` : '') +
          (record.val ? `, val WAR ${(record.val.war * 100).toFixed(2)}% UAR ${(record.val.uar * 100).toFixed(2)}%` : ''),
      );
      const next = epoch + 1;
      await trainee.save(ckpt, progress(next, 0, 0));
      if (o.timeBudgetSec !== undefined && (Date.now() - started) / 1000 > o.timeBudgetSec && next < epochs) {
        log(`time budget of ${o.timeBudgetSec}s reached after epoch ${next}; continue with --resume`);
        return { epochsDone: next, finished: false, best, history, bestDir, labels: labels.labels() };
      }
    }
    if (!o.val) await saveBest(trainee, o, bestDir, { epoch: epochs });
    return { epochsDone: epochs, finished: true, best, history, bestDir, labels: labels.labels() };
  } finally {
    await trainee.close();
  }

  /** Where a run stands within an epoch, for messages: the step, or the phase and its batches. */
  function where(p: number, b: number): string {
    return phases.length > 1 ? `step ${p + 1} after ${b} batch(es)` : `step ${b}`;
  }
}

const phaseMean = (t: { phaseLoss: number[]; phaseCount: number[] }, p: number) => t.phaseLoss[p] / Math.max(1, t.phaseCount[p]);

/** The frozen prefix's features of the training and validation faces (see feature-cache.ts),
 *  computed once from the initial weights (or the checkpoint being resumed: its prefix is the same). */
async function cacheFrozenFeatures(o: TrainerOptions, weights: string | undefined, train: BatchBuilder, val: BatchBuilder | undefined, log: (s: string) => void) {
  const model = createModel(o.config, new Rng(o.seed));
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
 *  when they will train with batch statistics; saved as the model folder <out>/pretrained (the
 *  start a weight average with the trained model interpolates from: `ferkit ensemble --average`).
 *  Returns its weights file. */
async function pretrainedInit(o: TrainerOptions, builder: BatchBuilder, log: (s: string) => void): Promise<string> {
  const dir = join(o.outDir, 'pretrained');
  const info = { description: `the pretrained start of the run in ${o.outDir}: ${o.config.backbone}'s weights as --pretrained loads them, before any training step` };
  const model = createModel({ ...o.config, info }, new Rng(o.seed));
  try {
    for (const note of applyFineTune(model, { pretrained: true }).notes) log(`--pretrained: ${note}`);
    if ((o.finetune?.bn ?? 'train') === 'train') {
      const n = o.train.labels.length;
      const idx = permutation(n, new Rng(mixSeed(o.seed, 3))).slice(0, Math.min(128, n));
      const { x, shape } = builder.build(idx);
      const t = tf.tensor(x, shape);
      for (const { backbone } of backbonesOf(model)) calibrateBatchNorms(backbone, t);
      t.dispose();
    }
    await saveModel(dir, model);
  } finally {
    model.dispose();
  }
  return join(dir, WEIGHTS_FILE);
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

