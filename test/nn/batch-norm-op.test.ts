// The closed-form BatchNorm gradient equals autograd through the textbook formula, on wasm and cpu.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/backend.js';
import { batchNormTrain } from '../../src/nn/batch-norm-op.js';
import { randn, relMaxDiff, runOn } from '../helpers/backends.js';

const EPS = 1e-5;
const textbook = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), g), b);
};
const ours = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
  const r = batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, EPS);
  tf.dispose([r.mean, r.variance]);
  return r.y;
};

describe('batchNormTrain', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`forward and gradients (x, gamma, beta) match autograd of the formula on ${backend}`, async () => {
      const x = randn([3, 5, 4, 6], 21);
      x.data.forEach((v, i) => (x.data[i] = 2 * v + 0.5));
      const g = randn([6], 22);
      const b = randn([6], 23);
      const w = randn([3, 5, 4, 6], 24); // a non-uniform upstream gradient
      const loss = (f: typeof ours) => (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(f(p, q, r), s));
      assert.ok(relMaxDiff(await runOn(backend, [x, g, b], ours), await runOn(backend, [x, g, b], textbook)) < 1e-5, 'forward');
      for (const wrt of [0, 1, 2]) {
        const grad = (f: typeof ours) => (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor, s: tf.Tensor) =>
          tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => loss(f)(a, c, d, s))([p, q, r])[wrt];
        const err = relMaxDiff(await runOn(backend, [x, g, b, w], grad(ours)), await runOn(backend, [x, g, b, w], grad(textbook)));
        assert.ok(err < 1e-4, `gradient wrt input ${wrt}: ${err}`);
      }
    });
  }

  it('returns the batch statistics and leaks nothing', async () => {
    await runOn('wasm', [], () => tf.scalar(0));
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    const before = tf.memory().numTensors;
    const r = tf.tidy(() => {
      const { y, mean, variance } = batchNormTrain(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, EPS);
      return { y, mean, variance };
    });
    assert.deepEqual(Array.from(await r.mean.data()), [4, 5]);
    assert.deepEqual(Array.from(await r.variance.data()), [5, 5]);
    tf.dispose([r.y, r.mean, r.variance]);
    assert.equal(tf.memory().numTensors, before);
  });
});
