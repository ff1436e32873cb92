// Training-mode batch normalisation over every axis but the last (NHWC channels), with its
// gradient written out: autograd through tf.moments records a dozen reductions and broadcasts,
// where the closed form needs two reductions. Same values as PyTorch's BatchNorm in train mode.
import { tf } from '../engine/backend.js';

export interface BatchNormTrainResult {
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (for the running-statistics update); kept out
   *  of any enclosing tidy, so the caller disposes them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = (x - μ)/√(σ² + eps)·γ + β with μ, σ² the batch statistics over all axes but the last.
 * Backward (x̂ = (x - μ)/√(σ² + eps), m elements per channel):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + eps) · (dy − dβ/m − x̂·dγ/m).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormTrainResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  const stats = tf.moments(x, axes);
  const mean = tf.keep(stats.mean) as tf.Tensor1D;
  const variance = tf.keep(stats.variance) as tf.Tensor1D;
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(xIn, mean), inv);
    save([xhat, inv, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, invStd, gam] = saved;
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xh), axes);
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xh, tf.div(dGamma, count)));
        return [tf.mul(centred, tf.mul(gam, invStd)), dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return { y: f(x, gamma, beta), mean, variance };
}
