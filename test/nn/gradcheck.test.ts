// Finite-difference checks of our layers' gradients on the cpu backend (float32: eps 1e-2,
// relative tolerance 1e-2), for the input and every parameter. Independent of PyTorch.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { gelu, geluTanh } from '../../src/nn/activations.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Linear } from '../../src/nn/linear.js';
import { Lambda, type Layer } from '../../src/nn/module.js';
import { BatchNorm2d, LayerNorm } from '../../src/nn/norm.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../../src/nn/pool.js';
import { Rng } from '../../src/util/rng.js';

const EPS = 1e-2;
const rng = new Rng(77);

/** Checks d/dv of sum(layer(x) · up) at up to 12 coordinates of each of x and the parameters. */
function check(layer: Layer, x: tf.Tensor, what: string): void {
  const xv = tf.variable(x);
  const out = layer.forward(xv);
  const up = tf.tensor(rng.fillNormal(out.size), out.shape);
  const f = () => tf.sum(tf.mul(layer.forward(xv), up)) as tf.Scalar;
  const vars: Array<[string, tf.Variable]> = [['x', xv], ...layer.namedParameters()];
  const { grads } = tf.variableGrads(f, vars.map(([, v]) => v));
  for (const [name, v] of vars) {
    const g = grads[v.name].dataSync();
    const base = Float32Array.from(v.dataSync());
    const idx = Array.from({ length: Math.min(12, v.size) }, () => rng.int(v.size));
    for (const i of idx) {
      const at = (d: number) => {
        const p = Float32Array.from(base);
        p[i] += d;
        v.assign(tf.tensor(p, v.shape));
        return f().dataSync()[0];
      };
      const numeric = (at(EPS) - at(-EPS)) / (2 * EPS);
      v.assign(tf.tensor(base, v.shape));
      const scale = Math.max(1, Math.abs(numeric), Math.abs(g[i]));
      assert.ok(Math.abs(numeric - g[i]) <= 1e-2 * scale, `${what} d/d${name}[${i}]: autograd ${g[i]} vs finite difference ${numeric}`);
    }
  }
}

/** Values far enough apart (≥ 0.05) that ±eps never changes a max-pool winner. */
function distinct(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.permutation(n).map((v) => v * 0.05 - n * 0.025), shape);
}

describe('finite-difference gradients on cpu', () => {
  before(async () => {
    await initEngine('cpu');
  });

  it('Conv2d: stride 2 pad 1, asymmetric pad, dilation 2, depthwise stride 2', () => {
    const x = () => tf.tensor(rng.fillNormal(2 * 7 * 7 * 3), [2, 7, 7, 3]);
    check(new Conv2d(3, 4, 3, { stride: 2, padding: 1, rng }), x(), 'conv s2p1');
    check(new Conv2d(3, 2, 3, { padding: [0, 1, 2, 1], rng }), x(), 'conv pad4');
    check(new Conv2d(3, 2, 3, { padding: 2, dilation: 2, rng }), x(), 'conv dilated');
    check(new Conv2d(3, 6, 3, { stride: 2, padding: 1, groups: 3, rng }), x(), 'depthwise');
  });

  it('BatchNorm2d (training statistics), LayerNorm, Linear', () => {
    const bn = new BatchNorm2d(3);
    bn.weight!.assign(tf.tensor([0.5, 1.5, -1]));
    check(bn, tf.tensor(rng.fillNormal(2 * 3 * 3 * 3, 1, 2), [2, 3, 3, 3]), 'bn train');
    check(new LayerNorm(5), tf.tensor(rng.fillNormal(4 * 5), [4, 5]), 'layernorm');
    check(new Linear(5, 3, { rng }), tf.tensor(rng.fillNormal(2 * 2 * 5), [2, 2, 5]), 'linear');
  });

  it('MaxPool2d k3 s2 p1 and k2, adaptive average pool, GELU', () => {
    check(new MaxPool2d(3, 2, 1), distinct([2, 7, 7, 2]), 'maxpool k3s2p1');
    check(new MaxPool2d(2), distinct([1, 6, 5, 2]), 'maxpool k2');
    check(new AdaptiveAvgPool2d([2, 3]), tf.tensor(rng.fillNormal(5 * 7 * 2), [1, 5, 7, 2]), 'adaptive avg');
    check(new Lambda(gelu), tf.tensor(rng.fillNormal(10), [10]), 'gelu');
    check(new Lambda(geluTanh), tf.tensor(rng.fillNormal(10), [10]), 'gelu tanh');
  });

  it('max-pool gradient goes to the first maximum of a tied window (after ReLU: zeros)', () => {
    const x = tf.variable(tf.zeros([1, 4, 4, 1]));
    const g = tf.grad((t: tf.Tensor) => tf.sum(new MaxPool2d(2).forward(t)))(x);
    // one gradient per window, at its top-left element, as in PyTorch
    assert.deepEqual(Array.from(g.dataSync()), [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });
});
