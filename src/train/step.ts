// One optimisation step: loss and gradients by tf.variableGrads, optional gradient clipping, the
// optimizer's update; every intermediate tensor is freed.
import { tf } from '../engine/backend.js';
import type { Module } from '../nn/module.js';
import type { ClipGroup } from '../models/methods.js';
import type { Optimizer } from './optim.js';

/**
 * torch.nn.utils.clip_grad_norm_: if the global L2 norm exceeds maxNorm, scale every gradient by
 * maxNorm / (norm + 1e-6). Returns new gradient tensors (the caller disposes both sets) and the
 * norm before clipping.
 */
export function clipGradNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; totalNorm: number } {
  const names = Object.keys(grads);
  const totalNorm = tf.tidy(() => (names.length ? tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))).dataSync()[0] : 0));
  const coef = Math.min(1, maxNorm / (totalNorm + 1e-6));
  const out: tf.NamedTensorMap = {};
  for (const n of names) out[n] = coef < 1 ? tf.mul(grads[n], coef) : tf.clone(grads[n]);
  return { grads: out, totalNorm };
}

export interface TrainStepOptions {
  /** Clip the global gradient norm to this value first. */
  clipNorm?: number;
}

export interface TrainStepResult {
  loss: number;
  /** Gradient norm before clipping (only computed when clipNorm is set). */
  gradNorm?: number;
}

/**
 * Computes `lossFn()` (which runs the model; put it in training mode first), its gradients with
 * respect to the model's trainable parameters, and applies the optimizer. Returns the loss.
 */
export function trainStep(model: Module | tf.Variable[], lossFn: () => tf.Scalar, optimizer: Optimizer, options: TrainStepOptions = {}): number {
  return trainStepWithStats(model, lossFn, optimizer, options).loss;
}

/** trainStep that also reports the gradient norm. A non-finite loss throws before any update. */
export function trainStepWithStats(model: Module | tf.Variable[], lossFn: () => tf.Scalar, optimizer: Optimizer, options: TrainStepOptions = {}): TrainStepResult {
  const vars = Array.isArray(model) ? model : model.trainableParameters();
  const { value, grads } = tf.variableGrads(lossFn, vars);
  let applied = grads;
  let gradNorm: number | undefined;
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) throw new Error(`training loss is ${loss}: the step diverged (lower the learning rate?); weights left unchanged`);
    if (options.clipNorm !== undefined) {
      const clipped = clipGradNorm(grads, options.clipNorm);
      applied = clipped.grads;
      gradNorm = clipped.totalNorm;
    }
    optimizer.step(applied);
    return { loss, gradNorm };
  } finally {
    tf.dispose([value, ...Object.values(grads), ...(applied === grads ? [] : Object.values(applied))]);
  }
}

/** One update of several parameter groups: gradients of `lossFn` for every group's variables
 *  (others get none), each group's gradient norm clipped on its own, one optimizer step. Returns
 *  the loss; a non-finite one is returned before any update. */
export function groupStep(groups: ClipGroup[], lossFn: () => tf.Scalar, optimizer: Optimizer): number {
  const { value, grads } = tf.variableGrads(lossFn, groups.flatMap((g) => g.vars));
  const clipped: tf.NamedTensorMap = {};
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) return loss;
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
