// Methods by name (`--method ce|scn|arbex|ial|patternmap`): how to build a method's model from a
// config, how to train it (its objective) and how to write it as ONNX (its emitter). Each method
// lives in its own folder and registers itself in all-methods.ts.
import { Registry } from '../registry.js';
import type { tf } from '../engine/backend.js';
import type { Rng } from '../util/rng.js';
import type { ExportContext, ModelValues, ModuleClass, Value } from '../onnx/index.js';
import type { FerModel, InputSpec, ModelConfig, ModelOutput } from './model.js';

/** One training batch as the objective sees it. */
export interface TrainBatch {
  /** Normalised inputs (NHWC images, or [N, T, H, W, C] clips). */
  x: tf.Tensor;
  /** Current training labels of the batch's samples (after any relabeling). */
  y: tf.Tensor1D;
  /** Dataset indices of the batch's samples (for per-sample state such as SCN's relabels). */
  index: Int32Array;
  epoch: number;
  /** Soft targets [N, classes] (FER+ vote distributions) when training on them; objectives that
   *  take them (CE) use them in place of `y`, which stays the hard label for accuracy. */
  target?: tf.Tensor2D;
  /** Set by the trainer: objectives pass it the batch's class scores (logits or probabilities,
   *  [N, classes]) so that training accuracy can be counted. */
  onScores?: (scores: tf.Tensor2D) => void;
}

/** A method's training objective. Stateful methods (SCN relabeling) keep their state here and
 *  expose it for checkpoints. */
export interface Objective {
  /** Whether the objective trains on soft targets (TrainBatch.target). */
  readonly softTargets?: boolean;
  /** Scalar loss of a batch; runs the model (already in training mode). */
  loss(model: FerModel, batch: TrainBatch): tf.Scalar;
  /** JSON-safe state for resumable checkpoints. */
  state?(): Record<string, unknown>;
  loadState?(state: Record<string, unknown>): void;
  /** Labels changed by the objective (index → new label), e.g. SCN relabeling; the trainer
   *  applies them to its label table and clears the list. */
  takeRelabels?(): Array<[number, number]>;
}

/** What a method's defaults fill into a config the user did not spell out. */
export interface MethodDefaults {
  backbone: string;
  backboneOptions?: Record<string, unknown>;
  methodOptions?: Record<string, unknown>;
  input: InputSpec;
  /** Augmentation presets (registry names) for training and evaluation. */
  trainAugment: string;
  testAugment: string;
}

export interface MethodDef {
  /** Image or clip model. */
  kind: 'image' | 'clip';
  /** Its objective trains on soft targets (FER+ vote distributions) when given them. */
  softTargets?: boolean;
  /** Per-class biases whose entries add to the logits, each with how far the logits move per
   *  unit added (a linear classifier's bias: 1), where the prediction is softmax(logits): logit
   *  adjustment shifts them (eval/logit-adjust.ts). */
  logitBiases?(model: FerModel): [tf.Variable, number][];
  /** The variables that, all multiplied by s, multiply the logits by s (a linear classifier's
   *  weight and bias): temperature scaling divides them by T (eval/calibrate.ts). */
  logitLayers?(model: FerModel): tf.Variable[];
  defaults: MethodDefaults;
  createModel(config: ModelConfig, rng?: Rng): FerModel;
  createObjective(model: FerModel, options: Record<string, unknown>): Objective;
  /** Writes the model's eval forward as ONNX nodes (the method's onnx.ts); absent: no export. */
  onnx?: ModelEmitter;
  /** A method whose epoch is several phases rather than one objective (pattern-map): the trainer
   *  runs them in place of createObjective's. */
  phased?: PhasedMethod;
}

/** Parameters trained together whose gradient is clipped to its own global norm. */
export interface ClipGroup {
  vars: tf.Variable[];
  maxNorm: number;
}

/** One phase of a phased method's epoch. The trainer runs an epoch's phases in order, in this
 *  thread, each with its own optimizer (the run's kind, at the phase's constant lr). */
export interface TrainPhase {
  /** The log's L_<name>; lower-cased, the key of its mean loss in the epoch record, its optimizer
   *  in the checkpoint and the prefix of its loss terms (`parts`). */
  name: string;
  /** The shuffled training set in --batch-size batches, or `count` triplet batches of `perClass`
   *  samples of every class (data/samplers.ts tripletBatches). */
  batches: 'shuffled' | { perClass: number; count: number };
  /** What it trains; parameters in no group stay frozen. */
  groups: ClipGroup[];
  lr: number;
  /** A batch's loss; `parts` receives its terms (unweighted) for the log. */
  loss(x: tf.Tensor, labels: Int32Array, parts: Record<string, number>): tf.Scalar;
}

export interface PhasedMethod {
  /** The trainer options the method has its own form of, each with what to use instead: refused. */
  instead?: Partial<Record<'init' | 'iterations' | 'clipGradNorm', string>>;
  /** A new run's model before training (not a resumed one's), e.g. a pretrained trunk; returns a
   *  line for the log. `options`: the run's objective options. */
  init?(model: FerModel, options: Record<string, unknown>): Promise<string | undefined>;
  phases(model: FerModel, options: Record<string, unknown>): TrainPhase[];
}

export const methods = new Registry<MethodDef>('method');

/** Writes a whole FerModel: normalised input (images: NCHW) → its outputs. */
export type ModelEmitter = (ctx: ExportContext, model: FerModel, x: Value) => ModelValues;

/** A method's emitter for its model class (the class checked, so a wrong model is a clear error). */
export function modelEmitter<M extends FerModel>(cls: ModuleClass<M>, emit: (ctx: ExportContext, model: M, x: Value) => ModelValues): ModelEmitter {
  return (ctx, model, x) => {
    if (!(model instanceof cls)) throw new Error(`ONNX export: method "${model.config.method}" writes ${cls.name} models, got ${model.constructor.name}`);
    return emit(ctx, model, x);
  };
}

/** The ONNX emitter of the model's method (MethodDef.onnx). */
export function modelEmitterFor(model: FerModel): ModelEmitter {
  const def = methods.has(model.config.method) ? methods.get(model.config.method).create : undefined;
  if (def?.onnx) return def.onnx;
  const exporting = methods.list().filter((m) => m.create.onnx).map((m) => m.name);
  throw new Error(`ONNX export: no emitter for model class ${model.constructor.name} (method "${model.config.method}"); methods that export: ${exporting.join(', ')}`);
}

/** softmax(logits) unless the method supplies its own probabilities. */
export function outputProbs(out: ModelOutput, tfns: typeof tf): tf.Tensor2D {
  return out.probs ? out.probs.clone() : tfns.softmax(out.logits);
}
