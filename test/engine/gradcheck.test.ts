// Finite-difference check of a small conv + BatchNorm + dense network's gradients on wasm: the
// registered kernels must give the derivative of what the forward pass computes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { randn } from '../helpers/backends.js';

interface Params {
  conv1: tf.Tensor4D;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  dw: tf.Tensor4D;
  dense: tf.Tensor2D;
  bias: tf.Tensor1D;
}
const NAMES: Array<keyof Params> = ['conv1', 'gamma', 'beta', 'dw', 'dense', 'bias'];

function tensorOf(h: { shape: number[]; data: Float32Array }, scale = 1): tf.Tensor {
  return tf.mul(tf.tensor(h.data, h.shape), scale);
}

/** conv3x3/s2 → BatchNorm (batch statistics) → ReLU → depthwise 3x3 → global mean → dense → CE. */
function loss(p: Params, x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    let h = tf.conv2d(x, p.conv1, 2, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), p.gamma), p.beta);
    h = tf.relu(h);
    h = tf.depthwiseConv2d(h, p.dw, 1, 'same');
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(pooled, p.dense), p.bias);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  });
}

describe('finite-difference gradient check on wasm', () => {
  it('conv + BN + depthwise + dense gradients match central differences', async () => {
    const info = await initEngine('wasm');
    assert.equal(info.backend, 'wasm');
    const x = tensorOf(randn([3, 7, 7, 2], 11)) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 4) as tf.Tensor2D;
    const params: Params = {
      conv1: tensorOf(randn([3, 3, 2, 3], 12), 0.5) as tf.Tensor4D,
      gamma: tf.tensor1d([1.2, 0.8, 1.0]),
      beta: tf.tensor1d([0.1, -0.2, 0.05]),
      dw: tensorOf(randn([3, 3, 3, 1], 13), 0.5) as tf.Tensor4D,
      dense: tensorOf(randn([3, 4], 14), 0.5) as tf.Tensor2D,
      bias: tf.tensor1d([0.1, 0, -0.1, 0.2]),
    };
    const grads = tf.grads((...ps: tf.Tensor[]) => {
      const p = Object.fromEntries(NAMES.map((n, i) => [n, ps[i]])) as unknown as Params;
      return loss(p, x, labels);
    })(NAMES.map((n) => params[n]));

    const h = 1e-2;
    for (const [i, name] of NAMES.entries()) {
      const base = params[name].dataSync().slice();
      const analytic = grads[i].dataSync();
      const numeric = new Float32Array(base.length);
      for (let j = 0; j < base.length; j++) {
        const at = (delta: number): number => {
          const v = base.slice();
          v[j] += delta;
          const t = tf.tensor(v, params[name].shape);
          const l = loss({ ...params, [name]: t }, x, labels);
          const out = l.dataSync()[0];
          tf.dispose([t, l]);
          return out;
        };
        numeric[j] = (at(h) - at(-h)) / (2 * h);
      }
      let num = 0;
      let den = 0;
      for (let j = 0; j < base.length; j++) {
        num += (numeric[j] - analytic[j]) ** 2;
        den += analytic[j] ** 2;
      }
      const rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-6);
      assert.ok(rel < 2e-2, `${name}: |numeric - analytic| / |analytic| = ${rel.toExponential(2)}`);
      assert.ok(Math.sqrt(den) > 1e-4, `${name}: gradient is (near) zero, the check would prove nothing`);
    }
    tf.dispose([x, labels, ...Object.values(params), ...grads]);
  });
});
