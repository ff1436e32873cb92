// A phased method's model in the main thread (models/methods.ts PhasedMethod: pattern-map), driven
// by the trainer like its replicas: `step` trains the current `phase` with that phase's optimizer
// and per-group gradient clipping. Checkpoints hold the model, every phase's optimizer (under the
// phase's lower-case name) and the RNG.
import { tf } from '../engine/backend.js';
import { createModel } from '../models/io.js';
import { outputProbs, type PhasedMethod, type TrainPhase } from '../models/methods.js';
import type { FerModel, ModelConfig } from '../models/model.js';
import type { Rng } from '../util/rng.js';
import { manualSeed } from '../nn/random.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from './checkpoint.js';
import type { ReplicaSet, Shard } from './data-parallel.js';
import { optimizers, type Optimizer, type OptimizerOptions } from './optim.js';
import { groupStep } from './step.js';

interface PhasedTraineeOptions {
  config: ModelConfig;
  objective?: Record<string, unknown>;
  optimizer: { name: string } & OptimizerOptions;
  seed: number;
  /** Resuming: skip the method's init (the checkpoint holds newer weights). */
  resuming: boolean;
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
      if (!o.resuming) {
        const said = await method.init?.(model, o.objective ?? {});
        if (said) o.log(said);
      }
      const phases = method.phases(model, o.objective ?? {});
      const opt = Object.fromEntries(phases.map((p) => [p.name.toLowerCase(), optimizers.get(o.optimizer.name).create(p.groups.flatMap((g) => g.vars), { ...o.optimizer, lr: p.lr })]));
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
