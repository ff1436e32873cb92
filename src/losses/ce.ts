// Cross-entropy from logits, as PyTorch's nn.CrossEntropyLoss (mean over the batch), computed
// through log-softmax so large logits do not overflow.
import { tf } from '../engine/backend.js';

/**
 * Hard labels (int, shape [N]): −log softmax(z)[y] averaged; with class weights,
 * Σ w_y·ℓ / Σ w_y (PyTorch's weighted mean).
 * Soft targets (float, shape [N, C], rows summing to 1): mean_i −Σ_c w_c·t_ic·log softmax(z_i)_c,
 * divided by N even with weights (PyTorch's rule for probability targets).
 */
export function crossEntropy(logits: tf.Tensor2D, target: tf.Tensor1D | tf.Tensor2D, classWeights?: tf.Tensor1D): tf.Scalar {
  const [n, c] = logits.shape;
  if (target.rank === 2) {
    if (target.shape[0] !== n || target.shape[1] !== c) {
      throw new Error(`crossEntropy: soft targets of shape [${target.shape}] do not match logits [${logits.shape}]`);
    }
  } else if (target.shape[0] !== n) {
    throw new Error(`crossEntropy: ${target.shape[0]} labels for ${n} rows of logits`);
  }
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    if (target.rank === 2) {
      const t = classWeights ? tf.mul(target, tf.reshape(classWeights, [1, c])) : target;
      return tf.div(tf.neg(tf.sum(tf.mul(logp, t))), n) as tf.Scalar;
    }
    const onehot = tf.oneHot(tf.cast(target, 'int32'), c);
    const nll = tf.neg(tf.sum(tf.mul(logp, onehot), 1));
    if (!classWeights) return tf.mean(nll) as tf.Scalar;
    const w = tf.sum(tf.mul(onehot, classWeights), 1);
    return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)) as tf.Scalar;
  });
}

/** Label-smoothed targets: (1 − ε)·onehot(y) + ε/C (PyTorch's label_smoothing). */
export function smoothTargets(labels: tf.Tensor1D, numClasses: number, epsilon: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(tf.mul(tf.oneHot(tf.cast(labels, 'int32'), numClasses), 1 - epsilon), epsilon / numClasses) as tf.Tensor2D,
  );
}
