// A training replica for any registered method: the model, its objective and its optimizer,
// built identically (same seed, same initial weights) in every worker. The trainer drives a set of
// these through data-parallel.ts; checkpoints hold the model, optimizer, RNG and objective state.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tf } from '../engine/backend.js';
import { decodeSafetensors } from '../nn/checkpoint.js';
import { Rng } from '../util/rng.js';
import { createModel, memberTensors, parseModelRef } from '../models/io.js';
import { methods } from '../models/all-methods.js';
import { outputProbs } from '../models/methods.js';
import type { FerModel, ModelConfig } from '../models/model.js';
import { optimizers, type OptimizerOptions } from './optim.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from './checkpoint.js';
import type { Replica } from './replica-host.js';
import { applyFineTune, type FineTuneOptions } from './finetune.js';
import { startAtPart } from './feature-cache.js';

export interface MethodReplicaOptions {
  config: ModelConfig;
  objective?: Record<string, unknown>;
  optimizer: { name: string } & OptimizerOptions;
  seed: number;
  /** Initial weights (a model.safetensors or a training checkpoint), e.g. for fine-tuning. */
  init?: string;
  /** Pretrained trunk, frozen parts, BatchNorm mode, the trunk's lr scale. */
  finetune?: FineTuneOptions;
  /** Inputs are cached maps of the backbone's parts before this one (feature-cache.ts). */
  startPart?: number;
}

/** Loads the weights of a model folder, a model.safetensors or a training checkpoint into a
 *  model of the same architecture (optimizer tensors in a checkpoint are ignored), or the parts
 *  a model adopts from another kind (FerModel.adoptWeights: an image model's trunk and classifier
 *  into a clip model's frame encoder and frame head), telling `onNote` what it took. */
export function initWeights(model: FerModel, init: string, onNote?: (note: string) => void): void {
  const { dir, member } = parseModelRef(init);
  const path = existsSync(dir) && statSync(dir).isDirectory() ? join(dir, 'model.safetensors') : dir;
  if (!existsSync(path)) throw new Error(`${path}: initial weights not found`);
  const buf = readFileSync(path);
  const { tensors } = decodeSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
  try {
    const own = member === undefined ? tensors : memberTensors(tensors, member, path);
    const configPath = join(dirname(path), 'config.json');
    const adopted = model.adoptWeights?.(own, { path, config: existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as ModelConfig) : undefined });
    if (adopted) {
      // The renamed tensors are views of `tensors` or new ones; the latter are freed here.
      try {
        model.loadStateDict(adopted.tensors, { source: path, strict: false });
      } finally {
        const loaded = new Set(Object.values(tensors));
        tf.dispose(Object.values(adopted.tensors).filter((t) => !loaded.has(t)));
      }
      onNote?.(adopted.note);
      return;
    }
    // Non-strict for the checkpoint's optimizer slots; every model tensor must still be there.
    const { missing } = model.loadStateDict(own, { source: path, strict: false });
    if (missing.length) {
      const hint = member === undefined && Object.keys(tensors).some((k) => k.startsWith('members.')) ? `; it is an ensemble, give ${init}#N for its member N` : '';
      throw new Error(`${path}: not weights of this model (missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})${hint}`);
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

export function createReplica(options: Record<string, unknown>): Replica {
  return createMethodReplica(options as unknown as MethodReplicaOptions);
}

/** The replica; `prepare` may change the new model first (test fixtures set known weights). */
export function createMethodReplica(o: MethodReplicaOptions, prepare?: (model: FerModel) => void): Replica {
  const rng = new Rng(o.seed);
  const model = createModel(o.config, rng);
  prepare?.(model);
  // Pretrained weights first, so that --init (or a resumed checkpoint) overrides them.
  const { groups } = applyFineTune(model, o.finetune ?? {});
  if (o.init) initWeights(model, o.init);
  if (o.startPart) startAtPart(model, o.startPart);
  model.train();
  const objective = methods.get(o.config.method).create.createObjective(model, o.objective ?? {});
  const variables = groups.flatMap((g) => g.params);
  const optimizer = optimizers.get(o.optimizer.name).create(groups.length === 1 ? variables : groups, o.optimizer);
  const lrScales = groups.map((g) => g.lrScale);
  const buffers = () => model.namedBuffers().map(([, v]) => v);
  // Training accuracy, counted from the scores the objective reports (undefined if it reports none).
  let correct: number | undefined;
  const count = (y: tf.Tensor1D) => (scores: tf.Tensor2D) => {
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(scores, 1), y), 'int32')).dataSync()[0]);
    correct = (correct ?? 0) + hits;
  };
  return {
    variables,
    loss: (x, y, index, epoch, target) => {
      if (target && !objective.softTargets) throw new Error(`method ${o.config.method} does not train on soft targets`);
      return objective.loss(model, { x, y, index: index ?? new Int32Array(y.shape[0]), epoch: epoch ?? 0, onScores: count(y), ...(target ? { target } : {}) });
    },
    takeCorrect() {
      const c = correct;
      correct = undefined;
      return c;
    },
    ...(objective.takeRelabels ? { takeRelabels: () => objective.takeRelabels!() } : {}),
    apply(grads, lr) {
      optimizer.setLr(lrScales.map((k) => lr * k));
      const named: tf.NamedTensorMap = {};
      variables.forEach((v, i) => (named[v.name] = grads[i]));
      optimizer.step(named);
    },
    async save(path, progress) {
      await saveTrainingCheckpoint(path, { model, optimizer, rng }, { ...progress, objective: objective.state?.() ?? {} }, { config: JSON.stringify(o.config) });
    },
    async load(path) {
      const { progress } = await loadTrainingCheckpoint(path, { model, optimizer, rng });
      if (objective.loadState && progress.objective) objective.loadState(progress.objective as Record<string, unknown>);
      return progress;
    },
    buffers: () => buffers().map((v) => Float32Array.from(v.dataSync() as Float32Array)),
    setBuffers(values) {
      tf.tidy(() => buffers().forEach((v, i) => v.assign(tf.tensor(values[i], v.shape, v.dtype))));
    },
    predict(x) {
      model.eval();
      try {
        return tf.tidy(() => outputProbs(model.forward(x), tf));
      } finally {
        model.train();
      }
    },
  };
}
