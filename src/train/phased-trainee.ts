// A phased method's model in the main thread (models/methods.ts PhasedMethod: pattern-map), driven
// by the trainer like its replicas: `step` trains the current `phase` with that phase's optimizer
// and per-group gradient clipping. Fine-tuning controls apply to every phase: frozen trunk parts
// (no gradient, BatchNorm statistics kept) and BatchNorm mode from the start, the trunk's lr scale
// in each phase that trains it (two parameter groups there), pretrained weights for a new run.
// Checkpoints hold the model, every phase's optimizer (under the phase's lower-case name) and the RNG.
import { tf } from '../engine/backend.js';
import { createModel } from '../models/io.js';
import { outputProbs, type PhasedMethod, type TrainPhase } from '../models/methods.js';
import type { FerModel, ModelConfig } from '../models/model.js';
import type { Rng } from '../util/rng.js';
import { manualSeed } from '../nn/random.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from './checkpoint.js';
import type { ReplicaSet, Shard } from './data-parallel.js';
import { optimizers, type GroupSpec, type Optimizer, type OptimizerOptions } from './optim.js';
import { groupStep } from './step.js';
import { applyFineTune, type FineTuneOptions } from './finetune.js';
import { initWeights } from './method-replica.js';

interface PhasedTraineeOptions {
  config: ModelConfig;
  objective?: Record<string, unknown>;
  optimizer: { name: string } & OptimizerOptions;
  seed: number;
  /** Resuming: skip the method's init (the checkpoint holds newer weights). */
  resuming: boolean;
  /** Frozen parts, BatchNorm mode, the trunk's lr scale (`pretrained` is ignored: see below). */
  finetune?: FineTuneOptions;
  /** A new run's pretrained weights (a weights file, BatchNorms calibrated), made on demand: loaded
   *  unless the method's own init sets the model (as --init wins over --pretrained elsewhere). */
  pretrained?: () => Promise<string>;
  log: (line: string) => void;
}

export class PhasedTrainee implements ReplicaSet {
  readonly workers = 1;
  /** The phase `step` trains. */
  phase = 0;
  private parts: Record<string, number> = {};

  private constructor(
    readonly model: FerModel,
    readonly phases: TrainPhase[],
    private readonly optimizers: Record<string, Optimizer>,
    private readonly rng: Rng,
  ) {}

  static async create(method: PhasedMethod, o: PhasedTraineeOptions): Promise<PhasedTrainee> {
    // The seeded global RNG as well (the model's layers may draw from it).
    const rng = manualSeed(o.seed);
    const model = createModel(o.config, rng);
    try {
      const { groups: fineTune } = applyFineTune(model, { ...o.finetune, pretrained: false });
      if (!o.resuming) {
        const said = await method.init?.(model, o.objective ?? {});
        if (said) o.log(said + (o.pretrained ? ' (--pretrained not applied: this init sets the trunk)' : ''));
        else if (o.pretrained) {
          const file = await o.pretrained();
          initWeights(model, file);
          o.log(`initialised the trunk from its pretrained weights (${file})`);
        }
      }
      // Frozen parameters (--freeze) leave every phase's groups: no gradient, no optimizer slots.
      const phases = method.phases(model, o.objective ?? {}).map((p) => ({ ...p, groups: p.groups.map((g) => ({ ...g, vars: g.vars.filter((v) => v.trainable) })) }));
      // Each phase's parameters fall into the fine-tune groups (head; trunk at lr × scale when
      // scaled): a phase that trains trunk parameters gets a second group at its lr × scale.
      const paramGroups = (p: TrainPhase): GroupSpec[] => {
        const vars = p.groups.flatMap((g) => g.vars);
        return fineTune
          .map((g) => {
            const own = new Set(g.params);
            return { params: vars.filter((v) => own.has(v)), lr: p.lr * g.lrScale };
          })
          .filter((g) => g.params.length > 0);
      };
      const opt = Object.fromEntries(phases.map((p) => [p.name.toLowerCase(), optimizers.get(o.optimizer.name).create(paramGroups(p), { ...o.optimizer, lr: p.lr })]));
      return new PhasedTrainee(model, phases, opt, rng);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** The current phase's step on the one shard: returns the loss (non-finite: nothing updated). */
  async step(shards: Shard[], _lr: number): Promise<number> {
    const p = this.phases[this.phase];
    const [s] = shards;
    const x = tf.tensor(s.x, s.xShape);
    try {
      this.model.train(true);
      return groupStep(p.groups, () => p.loss(x, s.y, this.parts), this.optimizers[p.name.toLowerCase()]);
    } finally {
      x.dispose();
    }
  }

  /** The loss terms of the last step. */
  takeParts(): Record<string, number> {
    const out = this.parts;
    this.parts = {};
    return out;
  }

  takeRelabels(): undefined {
    return undefined;
  }
  takeCorrect(): undefined {
    return undefined;
  }
  async save(path: string, progress: Record<string, unknown>): Promise<void> {
    await saveTrainingCheckpoint(path, { model: this.model, optimizers: this.optimizers, rng: this.rng }, progress, { config: JSON.stringify(this.model.config) });
  }
  async load(path: string): Promise<Record<string, unknown>> {
    return (await loadTrainingCheckpoint(path, { model: this.model, optimizers: this.optimizers, rng: this.rng })).progress;
  }
  async syncBuffers(): Promise<void> {}
  async predict(x: Float32Array, shape: number[]): Promise<Float32Array> {
    this.model.eval();
    return tf.tidy(() => Float32Array.from(outputProbs(this.model.forward(tf.tensor(x, shape)), tf).dataSync() as Float32Array));
  }
  async checksums(): Promise<number[]> {
    return [];
  }
  async close(): Promise<void> {
    this.model.dispose();
  }
}
