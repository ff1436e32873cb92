// Autograd gradients of every loss against central finite differences, on the cpu backend
// (float32: eps 1e-2, relative tolerance 1e-2). Inputs are chosen away from kinks (argmax ties,
// group boundaries, hinge zeros) so that ±eps does not change which branch is taken.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { crossEntropy } from '../../src/losses/ce.js';
import { ialTotalLoss, intensityAwareLoss, largestNonTarget } from '../../src/losses/ial.js';
import { rankRegularization, weightedCrossEntropy } from '../../src/losses/scn.js';
import { anchorLoss, anchorSimilarities, centerLoss, classWeights, reliabilityBalance, weightedNll } from '../../src/losses/arbex.js';
import { batchHardTriplet, PATTERN_MAP_TRIPLET } from '../../src/losses/triplet.js';
import { randn, type HostTensor } from '../helpers/backends.js';

type LossFn = (...xs: tf.Tensor[]) => tf.Scalar;

/** Checks tf.grads(f) against central differences for every entry of every input. */
function checkGradients(f: LossFn, inputs: HostTensor[], what: string, eps = 1e-2, rtol = 1e-2, atol = 2e-3): Float32Array[] {
  const xs = inputs.map((h) => tf.tensor(h.data, h.shape));
  const analytic = tf.grads(f)(xs).map((g) => g.dataSync() as Float32Array);
  const evalAt = (which: number, data: Float32Array) =>
    tf.tidy(() => f(...inputs.map((h, k) => tf.tensor(k === which ? data : h.data, h.shape))).dataSync()[0]);
  inputs.forEach((h, which) => {
    for (let i = 0; i < h.data.length; i++) {
      const plus = Float32Array.from(h.data);
      const minus = Float32Array.from(h.data);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (evalAt(which, plus) - evalAt(which, minus)) / (2 * eps);
      const got = analytic[which][i];
      assert.ok(
        Math.abs(got - numeric) <= atol + rtol * Math.abs(numeric),
        `${what}: d/dx${which}[${i}] autograd ${got} vs finite difference ${numeric}`,
      );
    }
  });
  tf.dispose(xs);
  return analytic;
}

const host = (data: number[], shape: number[]): HostTensor => ({ data: Float32Array.from(data), shape });
const scaled = (h: HostTensor, s: number): HostTensor => ({ shape: h.shape, data: h.data.map((v) => v * s) });

before(async () => {
  await initEngine('cpu');
});

describe('loss gradients vs finite differences (cpu)', () => {
  const logits = () => scaled(randn([5, 7], 11), 1.5);
  const labels = () => tf.tensor1d([0, 3, 6, 2, 2], 'int32');

  it('cross-entropy: hard labels with class weights, and soft targets', () => {
    const w = tf.tensor1d([1, 2, 0.5, 1.5, 1, 0.7, 1.2]);
    checkGradients((z) => crossEntropy(z as tf.Tensor2D, labels(), w), [logits()], 'CE weighted');
    const t = tf.softmax(tf.tensor2d(randn([5, 7], 12).data, [5, 7])) as tf.Tensor2D;
    checkGradients((z) => crossEntropy(z as tf.Tensor2D, t, w), [logits()], 'CE soft');
  });

  it('IAL: matches finite differences and touches only the target and the largest non-target logit', () => {
    const z = logits();
    const g = checkGradients((x) => intensityAwareLoss(x as tf.Tensor2D, labels()), [z], 'IAL')[0];
    const m = largestNonTarget(tf.tensor2d(z.data, [5, 7]), labels()).dataSync();
    const y = labels().dataSync();
    for (let i = 0; i < 5; i++) {
      for (let c = 0; c < 7; c++) {
        const kept = c === y[i] || c === m[i];
        assert.equal(g[i * 7 + c] !== 0, kept, `row ${i} class ${c}: gradient ${g[i * 7 + c]} (y=${y[i]}, m=${m[i]})`);
      }
      assert.ok(Math.abs(g[i * 7 + y[i]] + g[i * 7 + m[i]]) < 1e-7, `row ${i}: the two kept gradients cancel`);
    }
  });

  it('IAL total loss (CE + λ·IAL + aux CE) through the main and auxiliary logits', () => {
    const opts = { lambda: 0.5, auxWeights: [0.3, 0.2] };
    checkGradients(
      (z, a1, a2) => ialTotalLoss(z as tf.Tensor2D, labels(), [a1 as tf.Tensor2D, a2 as tf.Tensor2D], opts),
      [logits(), randn([5, 7], 13), randn([5, 7], 14)],
      'IAL total',
    );
  });

  it('SCN: weighted CE through α and the logits; RR through both group means', () => {
    const alpha = host([0.9, 0.3, 0.6, 0.75, 0.45], [5]);
    checkGradients((a, z) => weightedCrossEntropy(a, z as tf.Tensor2D, labels()), [alpha, logits()], 'WCE');
    // α spaced 0.03 apart (more than 2·eps) so the order holds; δ1 = 0.3 keeps the hinge active
    // (mean_L − mean_H + δ1 = 0.151).
    const flat = host([0.55, 0.5, 0.62, 0.47, 0.59, 0.53, 0.44, 0.65, 0.41, 0.38], [10]);
    const g = checkGradients((a) => rankRegularization(a, 0.7, 0.3), [flat], 'RR', 1e-2)[0];
    assert.ok(g.some((v) => v > 0) && g.some((v) => v < 0), 'RR gradient has both signs: it flows through both means');
  });

  it('ARBEx: NLL of the balanced distribution + anchor + center loss, through e, anchors, head and attention', () => {
    const y = tf.tensor1d([0, 2, 1, 2], 'int32');
    const w = classWeights([1, 1, 2]);
    const f: LossFn = (e, anchors, head, attn) =>
      tf.tidy(() => {
        const { distances, similarity } = anchorSimilarities(e as tf.Tensor2D, anchors as tf.Tensor3D, 0.8);
        const bal = reliabilityBalance(tf.softmax(head) as tf.Tensor2D, similarity, tf.softmax(attn) as tf.Tensor2D, 0.7);
        const nll = weightedNll(bal.final, y, w);
        return tf.addN([nll, tf.mul(anchorLoss(anchors as tf.Tensor3D), 0.01), centerLoss(distances, y, bal.c, 3)]) as tf.Scalar;
      });
    checkGradients(f, [randn([4, 3], 21), randn([3, 2, 3], 22), randn([4, 3], 23), randn([4, 3], 24)], 'ARBEx');
  });

  it('ARBEx: the gradient flows through the confidences (c_g, c_a) too', () => {
    // With p fixed, L_corr's dependence on the attention logits goes through a and c_a; compare
    // with a version where the confidences are held constant: the gradients must differ.
    const p = tf.tensor2d([[0.5, 0.3, 0.2]]);
    const s = tf.tensor2d([[0.2, 0.5, 0.3]]);
    const loss = (attn: tf.Tensor) => tf.sum(tf.mul(reliabilityBalance(p, s, tf.softmax(attn) as tf.Tensor2D, 1).final, tf.tensor2d([[1, 2, 3]]))) as tf.Scalar;
    const g = checkGradients(loss, [host([0.3, -0.2, 0.1], [1, 3])], 'ARBEx via c_a')[0];
    const a0 = tf.softmax(tf.tensor2d([[0.3, -0.2, 0.1]]));
    const bal0 = reliabilityBalance(p, s, a0 as tf.Tensor2D, 1);
    const cg = bal0.cg.dataSync()[0];
    const ca = bal0.ca.dataSync()[0];
    const c = bal0.c.dataSync()[0];
    const frozen = tf.grad((attn: tf.Tensor) => {
      const a = tf.softmax(attn);
      const corr = tf.div(tf.add(tf.mul(s, cg), tf.mul(a, ca)), cg + ca);
      return tf.sum(tf.mul(tf.add(tf.mul(p, c), tf.mul(corr, 1 - c)), tf.tensor2d([[1, 2, 3]]))) as tf.Scalar;
    })(tf.tensor2d([[0.3, -0.2, 0.1]])).dataSync();
    assert.ok(g.some((v, i) => Math.abs(v - frozen[i]) > 1e-4), `gradient ${g} equals the frozen-confidence one ${frozen}`);
  });

  it('batch-hard triplet: seed rule (squared, self-inclusive) and Euclidean, self-exclusive', () => {
    const e = scaled(randn([8, 3], 31), 0.8);
    const y = [0, 0, 1, 1, 2, 2, 0, 1];
    checkGradients((x) => batchHardTriplet(x as tf.Tensor2D, y, PATTERN_MAP_TRIPLET), [e], 'triplet seed', 1e-3);
    const euclid = { margin: 0.3, squared: false, includeSelf: false, reduction: 'anchors' } as const;
    checkGradients((x) => batchHardTriplet(x as tf.Tensor2D, y, euclid), [e], 'triplet euclid', 1e-3);
  });
});
