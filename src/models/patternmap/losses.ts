// The pattern-map losses (spec §EMR, §EPMG) and the three steps' objectives. Weights default to the
// seed's training code: L_EMR = 2·L_EFE + 100·L_mask + 100·L_h, L_EPMG = L_embed + L_classify +
// 60·L_pattern + 40·L_sim; all margins 0.2 on squared distances (the seed's triplet rule).
import { tf } from '../../engine/backend.js';
import { crossEntropy } from '../../losses/ce.js';
import { batchHardTriplet, PATTERN_MAP_TRIPLET } from '../../losses/triplet.js';
import { numberOption } from '../method-options.js';
import type { InputSpec } from '../model.js';
import type { PatternMapModel } from './model.js';

export interface PatternMapLossWeights {
  l1: number; // L_EFE inside L_EMR
  l2: number; // L_mask
  l3: number; // L_h
  l4: number; // L_pattern
  l5: number; // L_sim
  l6: number; // L_embed
  l7: number; // L_classify
  alpha: number; // margin on h_n
  beta: number; // margin on pattern maps
  gamma: number; // margin on embeddings
}

const SEED_CODE_WEIGHTS: PatternMapLossWeights = { l1: 2, l2: 100, l3: 100, l4: 60, l5: 40, l6: 1, l7: 1, alpha: 0.2, beta: 0.2, gamma: 0.2 };
/** The seed's hyper-parameter paragraph for CK+ and AffectNet (l2 = l3 = 1e-2, l4 = l5 = 1e-4). The
 *  code's weights suit neither at our map sizes: L_pattern and L_sim are sums over the map's pixels
 *  (about 1,000 per face at 112 px), so 60·L_pattern makes the EPMG gradient some 10^4 times the
 *  classifier's, and per-group clipping then leaves the classifier (the recognition output) almost
 *  no step; likewise 100·L_mask swamps L_EFE's gradient in the trunk during step 2. */
const SEED_PAPER_CKPLUS_WEIGHTS: PatternMapLossWeights = { ...SEED_CODE_WEIGHTS, l2: 1e-2, l3: 1e-2, l4: 1e-4, l5: 1e-4 };

const WEIGHT_PRESETS: Record<string, PatternMapLossWeights> = { code: SEED_CODE_WEIGHTS, ckplus: SEED_PAPER_CKPLUS_WEIGHTS, affectnet: SEED_PAPER_CKPLUS_WEIGHTS };

export function lossWeights(o: Record<string, unknown> = {}): PatternMapLossWeights {
  const name = o.weights ?? 'code';
  const base = typeof name === 'string' ? WEIGHT_PRESETS[name] : undefined;
  if (!base) throw new Error(`option weights must be one of ${Object.keys(WEIGHT_PRESETS).join(', ')} (the seed's code, or its paper's values for CK+ and AffectNet), got ${JSON.stringify(name)}`);
  const nonNeg = (v: number) => v >= 0;
  const out = { ...base };
  for (const k of Object.keys(base) as (keyof PatternMapLossWeights)[]) out[k] = numberOption(o, k, base[k], nonNeg, 'a non-negative number');
  return out;
}

/** L_mask: Σ over cells of (M − M')², mean over the batch. */
export function maskLoss(mask: tf.Tensor, refined: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.reshape(tf.squaredDifference(mask, refined), [mask.shape[0], -1]), 1)) as tf.Scalar);
}

/** L_pattern: Σ over pixels of (P − I)², mean over the batch. */
export function patternLoss(map: tf.Tensor, grey: tf.Tensor): tf.Scalar {
  return maskLoss(map, grey);
}

/** The grey-level input face I in [0,1], [N, H, W, 1], from the normalised model input
 *  (un-normalised; RGB → ITU-R 601 luma, as torchvision's rgb_to_grayscale). */
export function greyTarget(x: tf.Tensor4D, input: InputSpec): tf.Tensor4D {
  return tf.tidy(() => {
    const c = input.channels;
    const raw = tf.add(tf.mul(x, tf.tensor1d(input.std)), tf.tensor1d(input.mean));
    const grey = c === 1 ? raw : tf.sum(tf.mul(raw, tf.tensor1d([0.299, 0.587, 0.114])), 3, true);
    return tf.clipByValue(grey, 0, 1) as tf.Tensor4D;
  });
}

const triplet = (x: tf.Tensor, labels: ArrayLike<number>, margin: number) =>
  batchHardTriplet(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D, labels, { ...PATTERN_MAP_TRIPLET, margin });

function scalars(t: Record<string, tf.Scalar>): Record<string, number> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.dataSync()[0]]));
}

/** Step 1: L_EFE = CE(pre_EFE, y). */
export function efeLoss(model: PatternMapModel, x: tf.Tensor, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => crossEntropy(model.efe(x).efeLogits, y));
}

/** Step 2: L_EMR = l1·L_EFE + l2·L_mask + l3·L_h. */
export function emrLoss(model: PatternMapModel, x: tf.Tensor, labels: Int32Array, w: PatternMapLossWeights, parts?: Record<string, number>): tf.Scalar {
  return tf.tidy(() => {
    const efe = model.efe(x);
    const { refined, hN } = model.emr(efe.mask);
    const t = { efe: crossEntropy(efe.efeLogits, tf.tensor1d(labels, 'int32')), mask: maskLoss(efe.mask, refined), h: triplet(hN, labels, w.alpha) };
    if (parts) Object.assign(parts, scalars(t));
    return tf.addN([tf.mul(t.efe, w.l1), tf.mul(t.mask, w.l2), tf.mul(t.h, w.l3)]) as tf.Scalar;
  });
}

/** Step 3 on fixed masked features (EFE frozen): L_EPMG = l6·L_embed + l7·L_classify +
 *  l4·L_pattern + l5·L_sim. */
export function epmgLoss(model: PatternMapModel, gms: tf.Tensor4D, grey: tf.Tensor4D, labels: Int32Array, w: PatternMapLossWeights, parts?: Record<string, number>): tf.Scalar {
  return tf.tidy(() => {
    const { embedding, logits, patternMap } = model.epmg(gms);
    const t = {
      embed: triplet(embedding, labels, w.gamma),
      classify: crossEntropy(logits, tf.tensor1d(labels, 'int32')),
      pattern: patternLoss(patternMap, grey),
      sim: triplet(patternMap, labels, w.beta),
    };
    if (parts) Object.assign(parts, scalars(t));
    return tf.addN([tf.mul(t.embed, w.l6), tf.mul(t.classify, w.l7), tf.mul(t.pattern, w.l4), tf.mul(t.sim, w.l5)]) as tf.Scalar;
  });
}
