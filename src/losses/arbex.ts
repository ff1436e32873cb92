// ARBEx reliability balancing (spec §3.1–3.2), independent of the backbone that makes the
// embedding: confidences, anchor similarities, the attentive/geometric correction blend, the
// trust ramp, and its losses.
import { tf } from '../engine/backend.js';

/** c = 1 − H(p)/ln C with natural logs; p is clamped at 1e-12, so an exact zero gives no NaN
 *  (the reference's 0·log 0 is NaN). Rows of p are distributions over the last axis. */
export function confidence(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = p.shape[p.shape.length - 1];
    const h = tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-12))), -1));
    return tf.sub(1, tf.div(h, Math.log(c)));
  });
}

/**
 * Euclidean distances d[b,c,k] = ‖e_b − A_{c,k}‖ and class similarities
 * s[b,c] = Σ_k softmax over all C·K of (−d/δ).
 */
export function anchorSimilarities(e: tf.Tensor2D, anchors: tf.Tensor3D, delta: number): { distances: tf.Tensor3D; similarity: tf.Tensor2D } {
  return tf.tidy(() => {
    const [c, k, d] = anchors.shape;
    const b = e.shape[0];
    const diff = tf.sub(tf.reshape(e, [b, 1, 1, d]), tf.reshape(anchors, [1, c, k, d]));
    // The small floor keeps the sqrt's gradient finite when an embedding sits on an anchor.
    const distances = tf.sqrt(tf.add(tf.sum(tf.square(diff), -1), 1e-12)) as tf.Tensor3D;
    const soft = tf.softmax(tf.reshape(tf.div(tf.neg(distances), delta), [b, c * k]));
    const similarity = tf.sum(tf.reshape(soft, [b, c, k]), -1) as tf.Tensor2D;
    return { distances, similarity };
  });
}

export interface Balanced {
  /** (c_g·s + c_a·a)/(c_g + c_a) */
  correction: tf.Tensor2D;
  /** (1 − t)·p + t·(c·p + (1 − c)·correction) */
  final: tf.Tensor2D;
  c: tf.Tensor1D;
  cg: tf.Tensor1D;
  ca: tf.Tensor1D;
}

/** The reliability-balancing combination with trust t ∈ [0,1] (the code's ramp it/num_iters). */
export function reliabilityBalance(p: tf.Tensor2D, s: tf.Tensor2D, a: tf.Tensor2D, trust: number): Balanced {
  return tf.tidy(() => {
    const c = confidence(p) as tf.Tensor1D;
    const cg = confidence(s) as tf.Tensor1D;
    const ca = confidence(a) as tf.Tensor1D;
    const col = (t: tf.Tensor) => tf.reshape(t, [-1, 1]);
    const correction = tf.div(tf.add(tf.mul(s, col(cg)), tf.mul(a, col(ca))), col(tf.add(cg, ca))) as tf.Tensor2D;
    const balanced = tf.add(tf.mul(p, col(c)), tf.mul(correction, col(tf.sub(1, c))));
    const final = tf.add(tf.mul(p, 1 - trust), tf.mul(balanced, trust)) as tf.Tensor2D;
    return { correction, final, c, cg, ca };
  });
}

/** w_c = (N / C_present) / n_c: inverse frequency, 1 for a balanced set; absent classes get 0. */
export function classWeights(counts: number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((x) => x > 0).length;
  return counts.map((x) => (x > 0 ? n / present / x : 0));
}

/** Σ_i w_{y_i}·(−ln p_i,y_i) / Σ_i w_{y_i} (PyTorch NLLLoss with weights on log p). */
export function weightedNll(pFinal: tf.Tensor2D, labels: tf.Tensor1D, weights: number[]): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), pFinal.shape[1]);
    const w = tf.sum(tf.mul(onehot, tf.tensor1d(weights)), 1);
    const nll = tf.neg(tf.sum(tf.mul(tf.log(tf.maximum(pFinal, 1e-12)), onehot), 1));
    return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)) as tf.Scalar;
  });
}

/** −Σ_{c,c'} ‖A_c − A_c'‖² / (√D·K²) over ordered class pairs (anchor k against anchor k). */
export function anchorLoss(anchors: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [c, k, d] = anchors.shape;
    const flat = tf.reshape(anchors, [c, k * d]);
    const diff = tf.sub(tf.reshape(flat, [1, c, k * d]), tf.reshape(flat, [c, 1, k * d]));
    return tf.div(tf.neg(tf.sum(tf.square(diff))), Math.sqrt(d) * k * k) as tf.Scalar;
  });
}

/** mean_i c_i · min_k d[i, y_i, k] / √D: pulls each embedding toward its class's nearest anchor. */
export function centerLoss(distances: tf.Tensor3D, labels: tf.Tensor1D, conf: tf.Tensor1D, dim: number): tf.Scalar {
  return tf.tidy(() => {
    const [, c] = distances.shape;
    const onehot = tf.reshape(tf.oneHot(tf.cast(labels, 'int32'), c), [-1, c, 1]);
    // Distances of other classes are pushed above every real one before taking the minimum.
    const own = tf.add(tf.mul(distances, onehot), tf.mul(tf.sub(1, onehot), 1e30));
    const nearest = tf.min(tf.min(own, 2), 1);
    return tf.mean(tf.div(tf.mul(nearest, conf), Math.sqrt(dim))) as tf.Scalar;
  });
}
