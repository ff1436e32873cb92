// Cross-entropy from logits, as PyTorch's nn.CrossEntropyLoss (mean over the batch).
import { tf } from '../engine/backend.js';

/** −log softmax(z)[y], averaged; with class weights, Σ w_y·ℓ / Σ w_y (PyTorch's weighted mean). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classWeights?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1));
    if (!classWeights) return tf.mean(nll) as tf.Scalar;
    const w = tf.sum(tf.mul(onehot, classWeights), 1);
    return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)) as tf.Scalar;
  });
}
