// The optional native kernels (OpenBLAS conv, max-pool gradient) against the cpu backend, on the
// same cases as the composed wasm kernels; batch norm (+ ReLU) and the SGD update against the
// TF.js ops they replace; and their effect on a whole training step. CI builds
// them (libopenblas-dev); where they are not built the test says so and skips.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { loadNative, NATIVE_BATCH_NORM, NATIVE_SGD_UPDATE, nativeKernelsActive, registerNativeKernels, unregisterNativeKernels } from '../../src/engine/native.js';
import { batchNormTrain } from '../../src/nn/batch-norm-op.js';
import { maxPoolValid } from '../../src/nn/max-pool-op.js';
import { Rng } from '../../src/util/rng.js';
import { resnet18 } from '../../src/models/backbones/resnet.js';
import { SGD } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';
import { crossEntropy } from '../../src/losses/ce.js';
import { randn, relMaxDiff, runOn, type HostTensor } from '../helpers/backends.js';
import { convCases, depthwiseCases, depthwiseProblem, label, outHW, parity, TOL } from '../helpers/conv-cases.js';

const status = loadNative();
const skip = status.available ? false : `native kernels not available: ${status.detail}`;

describe('native kernels', { skip }, () => {
  before(async () => {
    await initEngine('wasm');
    registerNativeKernels();
    assert.ok(nativeKernelsActive());
  });
  after(() => registerNativeKernels());

  it('conv2d forward, filter and input gradients match cpu over strides, pads, kernels, dilations', async () => {
    let seed = 900;
    const cases = [...convCases(), { n: 2, h: 9, w: 9, cin: 3, cout: 4, k: [3, 3] as [number, number], stride: 1, pad: 'same' as const, dilation: 2 }];
    for (const c of cases) {
      const dilation = 'dilation' in c ? c.dilation : 1;
      const filterShape = [c.k[0], c.k[1], c.cin, c.cout];
      const inputShape = [c.n, c.h, c.w, c.cin];
      const [oh, ow] = outHW(inputShape, filterShape, c.stride, c.pad, dilation);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: dilation };
      const x = randn(inputShape, seed++);
      const w = randn(filterShape, seed++);
      const dy = randn([c.n, oh, ow, c.cout], seed++);
      await parity(`native conv ${label(c)}`, [x, w], (a, b) => tf.engine().runKernel('Conv2D', { x: a, filter: b }, attrs as never) as tf.Tensor);
      if (dilation === 1) {
        await parity(`native filter grad ${label(c)}`, [x, dy], (a, b) =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, { ...attrs, filterShape } as never) as tf.Tensor,
        );
        await parity(`native input grad ${label(c)}`, [dy, w], (a, b) =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy: a, filter: b }, { ...attrs, inputShape } as never) as tf.Tensor,
        );
      }
    }
  });

  it('depthwise filter and input gradients equal the textbook loops (multiplier > 1: the composed kernels)', async () => {
    let seed = 950;
    for (const c of depthwiseCases()) {
      const { x, dy, f, name, filterGrad, inputGrad, naiveF, naiveX } = depthwiseProblem(c, seed);
      seed += 3;
      const gotF = await runOn('wasm', [x, dy], filterGrad);
      const gotX = await runOn('wasm', [dy, f], inputGrad);
      assert.ok(relMaxDiff(gotF, naiveF) <= TOL, `native depthwise filter grad ${name}`);
      assert.ok(relMaxDiff(gotX, naiveX) <= TOL, `native depthwise input grad ${name}`);
    }
  });

  it('Sum over all axes but the last (bias gradients) matches cpu; other sums still do', async () => {
    const x = randn([3, 5, 7, 6], 990);
    await parity('sum over leading axes', [x], (a) => tf.sum(a, [0, 1, 2]));
    await parity('sum over leading axes, kept dims, axes unordered', [x], (a) => tf.sum(a, [2, 0, 1], true));
    await parity('sum over the last axis (not native)', [x], (a) => tf.sum(a, -1));
    await parity('sum of a matrix over rows', [randn([40, 9], 991)], (a) => tf.sum(a, 0));
    await parity('bias gradient', [x, randn([6], 992)], (a, b) => tf.grad((v: tf.Tensor) => tf.add(a, v).square().sum())(b));
  });

  it('max-pool gradient equals the composed (wasm) routing, ties and -inf padding included', async () => {
    // The last two pad inside (-inf, ResNet's stem pooling), so the gradient is the unpadded input's.
    const cases: Array<[number[], [number, number], [number, number], [number, number]]> = [
      [[2, 8, 8, 3], [2, 2], [2, 2], [0, 0]],
      [[1, 9, 7, 4], [3, 3], [2, 2], [0, 0]],
      [[2, 6, 6, 2], [3, 3], [1, 1], [0, 0]],
      [[2, 8, 8, 3], [3, 3], [2, 2], [1, 1]],
      [[1, 7, 9, 2], [3, 2], [2, 1], [1, 0]],
    ];
    let seed = 950;
    for (const [shape, k, s, p] of cases) {
      const x = randn(shape, seed++);
      // Ties: round to a coarse grid, and a -inf border as MaxPool2d's padding makes.
      x.data.forEach((v, i) => (x.data[i] = i % 11 === 0 ? -Infinity : Math.round(v)));
      const pool = (a: tf.Tensor) => maxPoolValid(a as tf.Tensor4D, k, s, p);
      const grad = (t: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), tf.range(1, 1 + pool(a).size).reshape(pool(a).shape))))(t);
      const native = await runOn('wasm', [x], grad);
      unregisterNativeKernels();
      const composed = await runOn('wasm', [x], grad);
      registerNativeKernels();
      assert.deepEqual(native.shape, shape);
      assert.ok(relMaxDiff(native, composed) === 0, `max-pool grad ${shape} k${k} s${s} p${p}: native and composed differ by ${relMaxDiff(native, composed)}`);
    }
  });

  it('batch norm (+ fused ReLU) forward and gradients equal the composed TF.js ops', async () => {
    let seed = 970;
    for (const [shape, relu] of [[[4, 6, 5, 8], false], [[4, 6, 5, 8], true], [[3, 7, 1, 33], true], [[64, 5], false]] as const) {
      const c = shape[shape.length - 1];
      // Channels with their own offset and scale, so the statistics are not all ~N(0, 1).
      const x = randn([...shape], seed++);
      x.data.forEach((v, i) => (x.data[i] = v * (1 + (i % c)) + (i % c) - 4));
      const gamma = randn([c], seed++);
      const beta = randn([c], seed++);
      const dy = randn([...shape], seed++);
      const run = async () => {
        const outs: HostTensor[] = [];
        for (const which of ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'] as const) {
          outs.push(
            await runOn('wasm', [x, gamma, beta, dy], (xt, g, b, d) => {
              const r = batchNormTrain(xt, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, relu);
              if (which === 'mean' || which === 'variance') {
                tf.dispose([r.y, which === 'mean' ? r.variance : r.mean]);
                return r[which];
              }
              tf.dispose([r.y, r.mean, r.variance]);
              if (which === 'y') return batchNormTrain(xt, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, relu).y;
              const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
                const o = batchNormTrain(a, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, relu);
                tf.dispose([o.mean, o.variance]);
                return tf.sum(tf.mul(o.y, d));
              })([xt, g, b]);
              const k = { dx: 0, dgamma: 1, dbeta: 2 }[which];
              tf.dispose(grads.filter((_, i) => i !== k));
              return grads[k];
            }),
          );
        }
        return outs;
      };
      assert.ok(tf.getKernel(NATIVE_BATCH_NORM, 'wasm'), 'the native batch norm is registered');
      const native = await run();
      unregisterNativeKernels();
      const composed = await run();
      registerNativeKernels();
      ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
        const d = relMaxDiff(native[i], composed[i]);
        assert.ok(d < 2e-5, `${shape} relu ${relu}: ${name} differs by ${d}`);
      });
    }
  });

  it('the SGD momentum update (weight decay folded in) equals the TF.js ops bit for bit', () => {
    const make = () => [tf.variable(tf.tensor(randn([5, 7], 980).data, [5, 7])), tf.variable(tf.tensor(randn([7], 981).data))];
    const grads = [0, 1, 2].map((k) => [tf.tensor(randn([5, 7], 990 + k).data, [5, 7]), tf.tensor(randn([7], 995 + k).data)]);
    const run = () => {
      const params = make();
      const opt = new SGD([{ params: [params[0]], weightDecay: 1e-3 }, { params: [params[1]] }], { lr: 0.05, momentum: 0.9 });
      for (const [k, g] of grads.entries()) {
        opt.setLr(0.05 / (k + 1));
        opt.step({ [params[0].name]: g[0], [params[1].name]: g[1] });
      }
      const state = opt.stateDict();
      const out = [...params, ...Object.values(state.tensors)].map((t) => Float32Array.from(t.dataSync()));
      tf.dispose([...params, ...Object.values(state.tensors)]);
      opt.dispose();
      return out;
    };
    assert.ok(tf.getKernel(NATIVE_SGD_UPDATE, 'wasm'), 'the native SGD update is registered');
    const native = run();
    unregisterNativeKernels();
    const composed = run();
    registerNativeKernels();
    assert.equal(native.length, 4, 'two weights and two momentum buffers');
    native.forEach((a, i) => assert.deepEqual(a, composed[i], `tensor ${i}`));
    tf.dispose(grads.flat());
  });

  it('a ResNet-18 trains with the same loss trajectory with and without the native kernels', async () => {
    const x = randn([4, 40, 40, 3], 990);
    const labels = [0, 3, 5, 6];
    const run = () => {
      const model = resnet18({ numClasses: 7, widthMultiplier: 0.25, rng: new Rng(4) });
      const opt = new SGD(model.trainableParameters(), { lr: 0.05, momentum: 0.9 });
      const xt = tf.tensor(x.data, x.shape);
      const y = tf.tensor1d(labels, 'int32');
      const losses: number[] = [];
      for (let i = 0; i < 6; i++) losses.push(trainStep(model, () => crossEntropy(model.forward(xt, true), y), opt));
      tf.dispose([xt, y]);
      model.dispose();
      return losses;
    };
    const native = run();
    unregisterNativeKernels();
    const wasm = run();
    registerNativeKernels();
    assert.ok(native[5] < native[0], `loss did not fall: ${native}`);
    native.forEach((l, i) => assert.ok(Math.abs(l - wasm[i]) <= 1e-3 * Math.max(1, Math.abs(wasm[i])), `step ${i}: native ${l} vs wasm ${wasm[i]}`));
  });
});
