// Golden values of the spec (shared/specs/methods.md §1.16, §2.8, §3.7), from the reference
// PyTorch scripts in shared/reference/golden, on the wasm backend.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { crossEntropy, smoothTargets } from '../../src/losses/ce.js';
import { ialTotalLoss, intensityAwareLoss, largestNonTarget } from '../../src/losses/ial.js';
import { groupSizes, rankRegularization, relabel, weightedCrossEntropy } from '../../src/losses/scn.js';
import {
  anchorLoss,
  anchorSimilarities,
  centerLoss,
  classWeights,
  confidence,
  reliabilityBalance,
  weightedNll,
} from '../../src/losses/arbex.js';

const close = (got: number, want: number, tol = 1e-5, what = '') =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);
const closeAll = (got: ArrayLike<number>, want: number[], tol = 1e-5, what = '') =>
  want.forEach((w, i) => close(got[i], w, tol, `${what}[${i}]`));
const num = (t: tf.Tensor) => t.dataSync()[0];

before(async () => {
  await initEngine('wasm');
});

describe('cross-entropy (PyTorch F.cross_entropy on the same inputs)', () => {
  const z = () => tf.tensor2d([[2.0, 0.5, -1.0, 0.0], [0.1, 0.2, 0.3, -0.4], [1.0, -1.0, 0.5, 0.5]]);
  const w = () => tf.tensor1d([1.0, 2.0, 0.5, 1.5]);
  const y = () => tf.tensor1d([0, 2, 3], 'int32');
  it('hard labels with class weights 0.9858878; soft targets 1.2718371, weighted 1.6685123', () => {
    close(num(crossEntropy(z(), y(), w())), 0.9858877636, 1e-5, 'hard weighted');
    const t = tf.tensor2d([[0.7, 0.1, 0.1, 0.1], [0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25]]);
    close(num(crossEntropy(z(), t)), 1.2718371341, 1e-5, 'soft');
    close(num(crossEntropy(z(), t, w())), 1.6685122719, 1e-5, 'soft weighted');
  });
  it('label smoothing 0.1 gives 1.0260038; one-hot soft targets equal hard labels', () => {
    close(num(crossEntropy(z(), smoothTargets(y(), 4, 0.1))), 1.0260038008, 1e-5, 'smoothed');
    close(num(crossEntropy(z(), smoothTargets(y(), 4, 0))), num(crossEntropy(z(), y())), 1e-6, 'one-hot');
  });
  it('stays finite for huge logits and names shape mismatches', () => {
    const big = crossEntropy(tf.tensor2d([[1000, -1000, 0]]), tf.tensor1d([1], 'int32'));
    close(num(big), 2000, 1e-2, 'log-softmax of ±1000');
    assert.throws(() => crossEntropy(z(), tf.tensor1d([0, 1], 'int32')), /2 labels for 3 rows/);
    assert.throws(() => crossEntropy(z(), tf.zeros([3, 5]) as tf.Tensor2D), /soft targets of shape \[3,5\]/);
  });
});

describe('IAL (methods.md §1.16)', () => {
  const z = [2.0, 1.0, 0.5, -1.0, 0.0, 0.3, -0.5];
  it('target not the max: m = 0, IAL 1.3132617, CE 1.7133911, total with uniform aux 1.9420127', () => {
    const logits = tf.tensor2d([z]);
    const y = tf.tensor1d([1], 'int32');
    assert.deepEqual(Array.from(largestNonTarget(logits, y).dataSync()), [0]);
    close(num(intensityAwareLoss(logits, y)), 1.3132617, 1e-5, 'IAL');
    close(num(crossEntropy(logits, y)), 1.7133911, 1e-5, 'CE');
    close(num(ialTotalLoss(logits, y, [tf.zeros([1, 7]) as tf.Tensor2D])), 1.9420127, 1e-5, 'total');
  });
  it('target is the max: m = 1, IAL 0.3132617, CE 0.7133911', () => {
    const logits = tf.tensor2d([z]);
    const y = tf.tensor1d([0], 'int32');
    assert.deepEqual(Array.from(largestNonTarget(logits, y).dataSync()), [1]);
    close(num(intensityAwareLoss(logits, y)), 0.3132617, 1e-5, 'IAL');
    close(num(crossEntropy(logits, y)), 0.7133911, 1e-5, 'CE');
  });
  it('batch of 2: IAL 0.9788291, CE 1.6896093, argmax [0, 5]', () => {
    const logits = tf.tensor2d([z, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]]);
    const y = tf.tensor1d([1, 6], 'int32');
    assert.deepEqual(Array.from(largestNonTarget(logits, y).dataSync()), [0, 5]);
    close(num(intensityAwareLoss(logits, y)), 0.9788291, 1e-5, 'IAL');
    close(num(crossEntropy(logits, y)), 1.6896093, 1e-5, 'CE');
  });
  it('ties go to the first index, and the gradient touches only the two kept logits', () => {
    const logits = tf.tensor2d([[1, 3, 3, 0]]);
    const y = tf.tensor1d([0], 'int32');
    assert.deepEqual(Array.from(largestNonTarget(logits, y).dataSync()), [1]);
    const g = tf.grad((l: tf.Tensor) => intensityAwareLoss(l as tf.Tensor2D, y))(logits).dataSync();
    const s = 1 / (1 + Math.exp(-(3 - 1))); // d softplus(z_m − z_y)/d z_m = sigmoid(z_m − z_y)
    closeAll(g, [-s, s, 0, 0], 1e-6, 'grad');
  });
});

describe('SCN (methods.md §2.8)', () => {
  it('group sizes: tops = floor(N·0.7)', () => {
    assert.deepEqual(groupSizes(64, 0.7), { high: 44, low: 20 });
    assert.deepEqual(groupSizes(1024, 0.7), { high: 716, low: 308 });
    assert.deepEqual(groupSizes(10, 0.7), { high: 7, low: 3 });
  });
  it('rank regularisation: 0 when the margin holds; 0.1142857 / 0.0342857 for near-uniform α', () => {
    const sat = tf.tensor1d([0.9, 0.8, 0.85, 0.7, 0.95, 0.6, 0.3, 0.2, 0.4, 0.75]);
    close(num(rankRegularization(sat, 0.7, 0.15)), 0, 1e-7, 'δ1 .15');
    close(num(rankRegularization(sat, 0.7, 0.07)), 0, 1e-7, 'δ1 .07');
    const flat = tf.tensor1d([0.55, 0.5, 0.52, 0.51, 0.49, 0.53, 0.5, 0.48, 0.47, 0.5]);
    close(num(rankRegularization(flat, 0.7, 0.15)), 0.1142857, 1e-6, 'δ1 .15');
    close(num(rankRegularization(flat, 0.7, 0.07)), 0.0342857, 1e-6, 'δ1 .07');
    // The gradient flows through both means: +1/3 on the low group, −1/7 on the high group.
    const g = tf.grad((a: tf.Tensor) => rankRegularization(a, 0.7, 0.15))(flat).dataSync();
    const highs = [0, 1, 2, 3, 5, 6, 9];
    g.forEach((v, i) => close(v, highs.includes(i) ? -1 / 7 : 1 / 3, 1e-6, `dRR/dα[${i}]`));
  });
  it('weighted CE 1.7217479 (unweighted 1.7137778); relabel decisions', () => {
    const z = tf.tensor2d([[2.0, 0.5, -1.0, 0.0, 1.0, 0.2, -0.3]]);
    const y = tf.tensor1d([4], 'int32');
    close(num(weightedCrossEntropy(tf.tensor1d([0.5]), z, y)), 1.7217479, 1e-5, 'WCE');
    close(num(crossEntropy(z, y)), 1.7137778, 1e-5, 'CE');
    const p = Array.from(tf.softmax(tf.mul(z, 0.5)).dataSync());
    closeAll(p, [0.29471, 0.13921, 0.06576, 0.10842, 0.17875, 0.11982, 0.09332], 1e-5, 'softmax(αz)');
    assert.deepEqual(relabel([p], [4], { margin: 0.2, mode: 'all' }).changed, [], 'gap 0.116 < 0.2: keep');
    const p2 = Array.from(tf.softmax(tf.tensor1d([4.0, 0.5, -1.0, 0.0, 1.0, 0.2, -0.3])).dataSync());
    close(Math.max(...p2) - p2[4], 0.8328061, 1e-5, 'gap');
    assert.deepEqual(relabel([p2], [4], { margin: 0.2, mode: 'all' }), { labels: [0], changed: [0] });
    // The paper's rule leaves the high-importance group alone.
    const lowOnly = relabel([p2, p2], [4, 4], { margin: 0.2, mode: 'low-group', alphas: [0.9, 0.1], beta: 0.5 });
    assert.deepEqual(lowOnly, { labels: [4, 0], changed: [1] });
  });
});

describe('ARBEx (methods.md §3.7)', () => {
  const anchors = () => tf.tensor3d([[[0, 0], [1, 0]], [[0, 2], [0, 3]], [[3, 0], [3, 1]]]);
  it('confidence: uniform 0, [.65, .05x7] 0.3611192, exact zero gives no NaN', () => {
    close(num(confidence(tf.fill([8], 1 / 8))), 0, 1e-6, 'uniform');
    close(num(confidence(tf.tensor1d([0.65, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]))), 0.3611192, 1e-5, 'peaked');
    const onehot = num(confidence(tf.tensor1d([1, 0, 0, 0, 0, 0, 0, 0])));
    assert.ok(Number.isFinite(onehot) && Math.abs(onehot - 1) < 1e-6, `one-hot confidence ${onehot}`);
  });
  it('anchor distances and similarities for δ = 1 and 0.5', () => {
    const e = tf.tensor2d([[1, 1]]);
    const r1 = anchorSimilarities(e, anchors(), 1);
    closeAll(r1.distances.dataSync(), [Math.SQRT2, 1.0, Math.SQRT2, 2.236068, 2.236068, 2.0], 1e-5, 'd');
    closeAll(r1.similarity.dataSync(), [0.5078076, 0.2908855, 0.2013068], 1e-5, 's δ=1');
    closeAll(anchorSimilarities(e, anchors(), 0.5).similarity.dataSync(), [0.6597748, 0.2393169, 0.1009084], 1e-5, 's δ=.5');
  });
  it('reliability balancing at trust 0, 0.5, 1 (rows sum to 1)', () => {
    const p = tf.tensor2d([[0.6, 0.3, 0.1]]);
    const s = tf.tensor2d([[0.5078076, 0.2908855, 0.2013068]]);
    const a = tf.tensor2d([[0.2, 0.5, 0.3]]);
    const r0 = reliabilityBalance(p, s, a, 0);
    close(num(r0.c), 0.1826546, 1e-5, 'c');
    close(num(r0.cg), 0.0661039, 1e-5, 'c_g');
    close(num(r0.ca), 0.0627694, 1e-5, 'c_a');
    closeAll(r0.correction.dataSync(), [0.3578859, 0.3927375, 0.2493766], 1e-5, 'L_corr');
    closeAll(r0.final.dataSync(), [0.6, 0.3, 0.1], 1e-6, 'trust 0');
    closeAll(reliabilityBalance(p, s, a, 0.5).final.dataSync(), [0.5010546, 0.3378993, 0.1610462], 1e-5, 'trust .5');
    const f1 = reliabilityBalance(p, s, a, 1).final.dataSync();
    closeAll(f1, [0.4021091, 0.3757986, 0.2220923], 1e-5, 'trust 1');
    close(f1[0] + f1[1] + f1[2], 1, 1e-6, 'sum');
  });
  it('class weights, weighted NLL 1.1974583, anchor loss −19.0918831, center loss 0.1291563', () => {
    closeAll(classWeights([50, 30, 20]), [0.6666667, 1.1111111, 1.6666667], 1e-6, 'w');
    const nll = weightedNll(tf.tensor2d([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), tf.tensor1d([0, 1], 'int32'), classWeights([50, 30, 20]));
    close(num(nll), 1.1974583, 1e-5, 'NLL');
    // golden_arbex.py: y = [0, 2] → 0.5108256 (both −ln 0.6); one sample → −ln p_y, the weight cancels.
    const nll2 = weightedNll(tf.tensor2d([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]), tf.tensor1d([0, 2], 'int32'), classWeights([50, 30, 20]));
    close(num(nll2), 0.5108256, 1e-5, 'NLL y=[0,2]');
    const fin = tf.tensor2d([[0.5010546, 0.3378993, 0.1610462]]);
    close(num(weightedNll(fin, tf.tensor1d([1], 'int32'), classWeights([50, 30, 20]))), 1.0850074, 1e-5, 'NLL B=1');
    close(num(anchorLoss(anchors())), -19.0918831, 1e-4, 'anchor loss');
    const { distances } = anchorSimilarities(tf.tensor2d([[1, 1]]), anchors(), 1);
    close(num(centerLoss(distances, tf.tensor1d([0], 'int32'), tf.tensor1d([0.1826546]), 2)), 0.1291563, 1e-5, 'center');
  });
});
