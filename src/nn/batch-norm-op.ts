// Training-mode batch normalisation over every axis but the last (NHWC channels), with its
// gradient written out: autograd through tf.moments records a dozen reductions and broadcasts,
// where the closed form needs two reductions. Same values as PyTorch's BatchNorm in train mode.
import { tf } from '../engine/backend.js';
import { NATIVE_BATCH_NORM, NATIVE_BATCH_NORM_GRAD } from '../engine/native.js';

export interface BatchNormTrainResult {
  y: tf.Tensor;
  /** Batch mean and biased variance per channel (for the running-statistics update); kept out
   *  of any enclosing tidy, so the caller disposes them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = (x - μ)/√(σ² + eps)·γ + β with μ, σ² the batch statistics over all axes but the last, then
 * max(0, y) when `relu` (BatchNorm followed by ReLU). Backward (x̂ = (x - μ)/√(σ² + eps), m elements
 * per channel, dy masked by y > 0 first when `relu`):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + eps) · (dy − dβ/m − x̂·dγ/m).
 * With the native kernels (src/engine/native.ts) forward and backward are one kernel each, the
 * ReLU fused in; otherwise TF.js ops.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, relu = false): BatchNormTrainResult {
  if (tf.getKernel(NATIVE_BATCH_NORM, tf.getBackend())) return nativeBatchNormTrain(x, gamma, beta, eps, relu);
  const out = composedBatchNormTrain(x, gamma, beta, eps);
  if (!relu) return out;
  const y = tf.relu(out.y);
  out.y.dispose();
  return { ...out, y };
}

function nativeBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, relu: boolean): BatchNormTrainResult {
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mu, v, invstd] = tf.engine().runKernel(NATIVE_BATCH_NORM, { x: xIn, gamma: g, beta: b }, { eps, relu } as never) as tf.Tensor[];
    mean = tf.keep(mu) as tf.Tensor1D;
    variance = tf.keep(v) as tf.Tensor1D;
    save([xIn, mu, invstd, g, b]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, inv, gam, bet] = saved;
        return tf.engine().runKernel(NATIVE_BATCH_NORM_GRAD, { x: xs, dy, mean: m, invstd: inv, gamma: gam, beta: bet }, { relu } as never) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

function composedBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormTrainResult {
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
