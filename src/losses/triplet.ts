// Batch-hard triplet loss, vectorised over the batch's pairwise distance matrix. Two readings are
// in use: the pattern-map seed's rule (squared distances, the hardest positive may be the anchor
// itself, sum over anchors divided by the batch size) and the usual Euclidean batch-hard form
// (positives exclude the anchor, mean over anchors) that the spec's golden values use.
import { tf } from '../engine/backend.js';

export interface TripletOptions {
  margin: number;
  /** Squared Euclidean distances (pattern-map seed) or Euclidean. */
  squared: boolean;
  /** Whether the anchor counts as its own positive (pattern-map seed: yes). */
  includeSelf: boolean;
  /** 'batch': sum over anchors / batch size (seed); 'anchors': mean over anchors that have both a
   *  positive and a negative. */
  reduction: 'batch' | 'anchors';
}

export const PATTERN_MAP_TRIPLET: TripletOptions = { margin: 0.2, squared: true, includeSelf: true, reduction: 'batch' };

/** Σ or mean over anchors a of max(0, max_p d(a,p) − min_n d(a,n) + margin). */
export function batchHardTriplet(embeddings: tf.Tensor2D, labels: ArrayLike<number>, opts: TripletOptions): tf.Scalar {
  const n = embeddings.shape[0];
  const same = new Float32Array(n * n);
  const valid = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let pos = false;
    let neg = false;
    for (let j = 0; j < n; j++) {
      const s = labels[i] === labels[j] && (opts.includeSelf || i !== j);
      same[i * n + j] = s ? 1 : 0;
      if (s) pos = true;
      if (labels[i] !== labels[j]) neg = true;
    }
    valid[i] = pos && neg ? 1 : 0; // classes without a positive or a negative contribute nothing
  }
  const count = valid.reduce((a, b) => a + b, 0);
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(embeddings), 1);
    const gram = tf.matMul(embeddings, embeddings, false, true);
    const d2 = tf.relu(tf.sub(tf.add(tf.reshape(sq, [-1, 1]), tf.reshape(sq, [1, -1])), tf.mul(gram, 2)));
    // sqrt'(0) is infinite: a floor keeps the anchor-to-itself entry's gradient finite.
    const dist = opts.squared ? d2 : tf.sqrt(tf.add(d2, 1e-12));
    const posMask = tf.tensor2d(same, [n, n]);
    const negMask = tf.sub(1, tf.tensor2d(Array.from(labels, (a) => Array.from(labels, (b) => (a === b ? 1 : 0))).flat(), [n, n]));
    const hardestPos = tf.max(tf.sub(tf.mul(dist, posMask), tf.mul(tf.sub(1, posMask), 1e30)), 1);
    const hardestNeg = tf.min(tf.add(tf.mul(dist, negMask), tf.mul(tf.sub(1, negMask), 1e30)), 1);
    const per = tf.mul(tf.relu(tf.add(tf.sub(hardestPos, hardestNeg), opts.margin)), tf.tensor1d(valid));
    const total = tf.sum(per);
    if (opts.reduction === 'batch') return tf.div(total, n) as tf.Scalar;
    return (count > 0 ? tf.div(total, count) : tf.mul(total, 0)) as tf.Scalar;
  });
}

/**
 * The same rule as plain loops over classes and anchors on host arrays, as the pattern-map seed
 * writes it (no gradient): a reference for the vectorised form and for host-side checks.
 */
export function batchHardTripletLoop(embeddings: ArrayLike<number>[], labels: ArrayLike<number>, opts: TripletOptions): number {
  if (embeddings.length !== labels.length) throw new Error(`triplet: ${embeddings.length} embeddings but ${labels.length} labels`);
  const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
    return opts.squared ? s : Math.sqrt(s);
  };
  const n = labels.length;
  let total = 0;
  let anchors = 0;
  for (const cls of new Set(Array.from(labels))) {
    const members: number[] = [];
    const others: number[] = [];
    for (let i = 0; i < n; i++) (labels[i] === cls ? members : others).push(i);
    if (others.length === 0) continue;
    for (const a of members) {
      const pos = members.filter((p) => opts.includeSelf || p !== a);
      if (pos.length === 0) continue;
      let dap = -Infinity;
      for (const p of pos) dap = Math.max(dap, dist(embeddings[a], embeddings[p]));
      let dan = Infinity;
      for (const q of others) dan = Math.min(dan, dist(embeddings[a], embeddings[q]));
      total += Math.max(0, dap - dan + opts.margin);
      anchors++;
    }
  }
  if (opts.reduction === 'batch') return total / n;
  return anchors > 0 ? total / anchors : 0;
}
