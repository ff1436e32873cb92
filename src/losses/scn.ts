// Self-Cure Network losses (CVPR 2020; spec §2.4–2.5): logit-weighted cross-entropy, rank
// regularisation of the importance weights, and the relabeling rule.
import { tf } from '../engine/backend.js';
import { crossEntropy } from './ce.js';

/** CE(α·z, y): logits scaled by each sample's importance weight α ∈ (0,1). */
export function weightedCrossEntropy(alpha: tf.Tensor, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => crossEntropy(tf.mul(logits, tf.reshape(alpha, [-1, 1])) as tf.Tensor2D, labels));
}

/** Sizes of the high- and low-importance groups: tops = floor(N·β). */
export function groupSizes(n: number, beta: number): { high: number; low: number } {
  const high = Math.floor(n * beta);
  return { high, low: n - high };
}

/**
 * max(0, mean(α_L) − mean(α_H) + δ1). The split into groups comes from sorting α (constant
 * indices); the gradient flows through both means.
 */
export function rankRegularization(alpha: tf.Tensor, beta: number, margin: number): tf.Scalar {
  const values = alpha.dataSync();
  const n = values.length;
  const { high, low } = groupSizes(n, beta);
  if (high === 0 || low === 0) throw new Error(`rank regularisation needs both groups non-empty (N=${n}, β=${beta})`);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a] || a - b);
  const isHigh = new Float32Array(n);
  for (let i = 0; i < high; i++) isHigh[order[i]] = 1;
  return tf.tidy(() => {
    const a = tf.reshape(alpha, [-1]);
    const maskHigh = tf.tensor1d(isHigh);
    const meanHigh = tf.div(tf.sum(tf.mul(a, maskHigh)), high);
    const meanLow = tf.div(tf.sum(tf.mul(a, tf.sub(1, maskHigh))), low);
    return tf.relu(tf.add(tf.sub(meanLow, meanHigh), margin)) as tf.Scalar;
  });
}

export type RelabelMode = 'all' | 'low-group';

export interface RelabelOptions {
  /** δ2: relabel when P_max − P_label exceeds it (0.2). */
  margin: number;
  /** 'all' (reference code) or 'low-group' (paper: only the low-importance group). */
  mode: RelabelMode;
  /** Importance weights and β, needed for 'low-group'. */
  alphas?: ArrayLike<number>;
  beta?: number;
}

/** New labels for a batch from its softmax(α·z) rows; `changed` lists the positions relabeled. */
export function relabel(probs: number[][], labels: number[], opts: RelabelOptions): { labels: number[]; changed: number[] } {
  const eligible = new Set<number>(labels.keys());
  if (opts.mode === 'low-group') {
    if (!opts.alphas || opts.beta === undefined) throw new Error("relabel mode 'low-group' needs alphas and beta");
    const a = opts.alphas;
    const order = Array.from(labels.keys()).sort((i, j) => a[j] - a[i] || i - j);
    const { high } = groupSizes(labels.length, opts.beta);
    for (const i of order.slice(0, high)) eligible.delete(i);
  }
  const out = labels.slice();
  const changed: number[] = [];
  probs.forEach((p, i) => {
    if (!eligible.has(i)) return;
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    if (p[best] - p[labels[i]] > opts.margin) {
      out[i] = best;
      changed.push(i);
    }
  });
  return { labels: out, changed };
}
