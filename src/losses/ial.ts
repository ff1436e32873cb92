// Intensity-aware loss (IAL, AAAI 2023; spec §1.9): cross-entropy restricted to the target logit
// and the largest non-target logit, softplus(z_m − z_y), so training pushes hardest on the class
// the model confuses the target with. Usable with any classifier's logits.
import { tf } from '../engine/backend.js';
import { crossEntropy } from './ce.js';

/** Index of the largest non-target logit per row; ties go to the first index (PyTorch CPU). */
export function largestNonTarget(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const mask = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    // The reference adds −99999 to the target logit before argmax.
    return tf.argMax(tf.sub(logits, tf.mul(mask, 99999)), 1) as tf.Tensor1D;
  });
}

/** mean_i softplus(z_{i,m_i} − z_{i,y_i}); m is a constant index, the gradient reaches both logits. */
export function intensityAwareLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const c = logits.shape[1];
    const m = largestNonTarget(logits, labels); // an integer index: no gradient flows through it
    const zy = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, 'int32'), c)), 1);
    const zm = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(m, 'int32'), c)), 1);
    return tf.mean(tf.softplus(tf.sub(zm, zy))) as tf.Scalar;
  });
}

export interface IalLossOptions {
  /** Weight of the IAL term: 0.1 in the reference code (its comment says 0.5). */
  lambda: number;
  /** Weights of the auxiliary classifiers' CE (reference: [0.05, 0] for layer2, layer3). */
  auxWeights: number[];
}

export const IAL_DEFAULTS: IalLossOptions = { lambda: 0.1, auxWeights: [0.05, 0] };

/** L = CE(z, y) + Σ_k a_k·CE(aux_k, y) + λ·IAL(z, y). */
export function ialTotalLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  aux: tf.Tensor2D[] = [],
  opts: IalLossOptions = IAL_DEFAULTS,
): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = crossEntropy(logits, labels);
    aux.forEach((a, k) => {
      const w = opts.auxWeights[k] ?? 0;
      if (w !== 0) total = tf.add(total, tf.mul(crossEntropy(a, labels), w));
    });
    if (opts.lambda !== 0) total = tf.add(total, tf.mul(intensityAwareLoss(logits, labels), opts.lambda));
    return total as tf.Scalar;
  });
}
