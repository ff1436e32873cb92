// Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR 2021):
// a classifier trained on skewed classes (FER+: 36% neutral, 0.5% contempt) predicts
// argmax_k z_k, which favours the frequent classes. Subtracting τ·log π_k from each logit (π the
// training class priors) predicts argmax_k p(x | k)·π_k^(1−τ): τ = 1 is the balanced (equal-prior)
// decision, τ = 0 the original. For a linear classifier this is a shift of its bias, so the adjusted
// model is an ordinary model (same graph, same ONNX export, same cost).
import { classificationReport } from './metrics.js';
import { methods } from '../models/methods.js';
import type { FerModel } from '../models/model.js';
import { tf } from '../engine/backend.js';

export interface TauScore {
  tau: number;
  war: number;
  uar: number;
  /** What τ is chosen by: the mean of WAR and UAR (accuracy, and accuracy when classes are equally frequent). */
  score: number;
}

/** Priors as given, checked: one per class, positive, normalised to sum 1. */
export function normalisePriors(priors: readonly number[], numClasses: number, source: string): number[] {
  if (priors.length !== numClasses) throw new Error(`${source}: ${priors.length} class priors for ${numClasses} classes`);
  if (priors.some((p) => !(Number.isFinite(p) && p > 0))) throw new Error(`${source}: class priors must be positive numbers, got ${priors.join(', ')}`);
  const sum = priors.reduce((a, b) => a + b, 0);
  return priors.map((p) => p / sum);
}

/** Training class frequencies: of hard labels, or the mean of soft targets [n × classes]. */
export function classPriors(numClasses: number, labels: ArrayLike<number>, targets?: Float32Array): number[] {
  const out = new Array<number>(numClasses).fill(0);
  if (targets) for (let i = 0; i < targets.length; i++) out[i % numClasses]! += targets[i]!;
  else for (let i = 0; i < labels.length; i++) out[labels[i]!]! += 1;
  const sum = out.reduce((a, b) => a + b, 0) || 1;
  return out.map((v) => v / sum);
}

/** WAR/UAR of predictions argmax_k (log p_k − τ·log π_k) for each τ of the grid. `probs` [n × C]. */
export function scoreTaus(probs: Float32Array, labels: Int32Array, priors: readonly number[], taus: readonly number[]): TauScore[] {
  const c = priors.length;
  const logPrior = priors.map(Math.log);
  const n = labels.length;
  return taus.map((tau) => {
    const preds = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -Infinity;
      for (let k = 0; k < c; k++) {
        const v = Math.log(Math.max(probs[i * c + k]!, 1e-30)) - tau * logPrior[k]!;
        if (v > best) {
          best = v;
          preds[i] = k;
        }
      }
    }
    const r = classificationReport(labels, preds, c);
    return { tau, war: r.war, uar: r.uar, score: (r.war + r.uar) / 2 };
  });
}

/** The τ with the best score (the smallest such τ on ties: the least change). */
export function chooseTau(scores: readonly TauScore[]): TauScore {
  return scores.reduce((a, b) => (b.score > a.score + 1e-12 ? b : a));
}

/** Shifts the model's classifier bias by −τ·log π (in place) and records it in config.info. */
export function adjustLogits(model: FerModel, priors: readonly number[], tau: number, chosenOn?: string): void {
  const biases = methods.get(model.config.method).create.logitBiases?.(model);
  if (!biases?.length) throw new Error(`method ${model.config.method} has no classifier bias that shifts its logits one to one; logit adjustment works on ce models and their ensembles`);
  const c = model.config.classes.length;
  const p = normalisePriors(priors, c, 'logit adjustment');
  if (biases.some(([v]) => v.size !== c)) throw new Error(`${model.config.method} model: a classifier bias without ${c} entries`);
  // Adding δ to every bias moves the logits by δ·Σ moves.
  const moves = biases.reduce((a, [, m]) => a + m, 0);
  const done = model.config.info?.logitAdjustment as { tau: number } | undefined;
  if (done) throw new Error(`this model is already logit-adjusted (τ = ${done.tau}); adjust the model it came from`);
  tf.tidy(() => {
    const shift = tf.tensor1d(p.map((v) => (-tau * Math.log(v)) / moves));
    for (const [v] of biases) v.assign(tf.add(v, shift) as tf.Tensor1D);
  });
  model.config.info = { ...model.config.info, logitAdjustment: { tau, priors: p, ...(chosenOn ? { chosenOn } : {}) } };
}
