// SCN training objective (spec §2.4–2.6b): CE on the α-weighted logits + rank regularisation of α,
// and from the relabel epoch on, the relabel rule on each batch's pre-step probabilities. Relabels
// are kept by dataset index until the trainer takes them.
import { tf } from '../../engine/backend.js';
import { rankRegularization, relabel, weightedCrossEntropy, type RelabelMode } from '../../losses/scn.js';
import type { FerModel } from '../model.js';
import type { Objective, TrainBatch } from '../methods.js';
import { choiceOption, numberOption, type Options } from '../method-options.js';
import { ScnModel } from './model.js';

export interface ScnObjectiveOptions {
  /** Share of the high-importance group (0.7). */
  beta: number;
  /** δ1, the rank-regularisation margin. */
  margin1: number;
  /** δ2, the relabel margin (0.2). */
  margin2: number;
  /** First epoch (counted from 1, as the reference does) on which samples are relabeled. */
  relabelEpoch: number;
  /** 'all' samples of the batch (reference code) or only the 'low-group' (paper). */
  relabelMode: RelabelMode;
}

export function scnObjectiveOptions(o: Options): ScnObjectiveOptions {
  return {
    beta: numberOption(o, 'beta', 0.7, (v) => v > 0 && v < 1, 'in (0, 1)'),
    margin1: numberOption(o, 'margin1', 0.07, (v) => v >= 0, '≥ 0'),
    margin2: numberOption(o, 'margin2', 0.2, (v) => v >= 0, '≥ 0'),
    relabelEpoch: numberOption(o, 'relabelEpoch', 10, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1'),
    relabelMode: choiceOption(o, 'relabelMode', 'all', ['all', 'low-group'] as const),
  };
}

export class ScnObjective implements Objective {
  /** dataset index → new label, not yet taken by the trainer. */
  private pending = new Map<number, number>();
  private relabeledTotal = 0;

  constructor(readonly options: ScnObjectiveOptions) {}

  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    if (!(model instanceof ScnModel)) throw new Error(`the scn objective needs an scn model, got method "${model.config.method}"`);
    const o = this.options;
    return tf.tidy(() => {
      const { logits, extras } = model.forward(batch.x);
      batch.onScores?.(logits);
      const alpha = extras!.attention as tf.Tensor1D;
      const z = extras!.unweighted as tf.Tensor2D;
      const total = tf.add(weightedCrossEntropy(alpha, z, batch.y), rankRegularization(alpha, o.beta, o.margin1)) as tf.Scalar;
      // batch.epoch counts from 0; relabelEpoch from 1 like the reference's loop.
      if (batch.epoch + 1 >= o.relabelEpoch) this.decideRelabels(tf.softmax(logits), alpha, batch);
      return total;
    });
  }

  /** The relabel rule on softmax(α·z) from this (pre-step) forward pass. */
  private decideRelabels(probs: tf.Tensor2D, alpha: tf.Tensor1D, batch: TrainBatch): void {
    const p = probs.arraySync();
    const labels = Array.from(batch.y.dataSync(), Number);
    const { labels: next, changed } = relabel(p, labels, {
      margin: this.options.margin2,
      mode: this.options.relabelMode,
      alphas: alpha.dataSync(),
      beta: this.options.beta,
    });
    for (const i of changed) this.pending.set(batch.index[i], next[i]);
    this.relabeledTotal += changed.length;
  }

  takeRelabels(): Array<[number, number]> {
    const out = [...this.pending].sort((a, b) => a[0] - b[0]);
    this.pending.clear();
    return out;
  }

  /** Relabels decided so far (a sample relabeled twice counts twice). */
  get relabeled(): number {
    return this.relabeledTotal;
  }

  state(): Record<string, unknown> {
    return { pending: [...this.pending], relabeledTotal: this.relabeledTotal };
  }

  loadState(state: Record<string, unknown>): void {
    const pending = state.pending ?? [];
    if (!Array.isArray(pending) || !pending.every((e) => Array.isArray(e) && e.length === 2 && e.every(Number.isInteger))) {
      throw new Error(`scn objective state: pending must be [index, label] pairs, got ${JSON.stringify(pending)}`);
    }
    this.pending = new Map(pending as Array<[number, number]>);
    this.relabeledTotal = Number(state.relabeledTotal ?? 0);
  }
}
