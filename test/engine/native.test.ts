// The optional native kernels (OpenBLAS conv, max-pool gradient) against the cpu backend, on the
// same cases as the composed wasm kernels; and their effect on a whole training step. CI builds
// them (libopenblas-dev); where they are not built the test says so and skips.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { loadNative, nativeKernelsActive, registerNativeKernels, unregisterNativeKernels } from '../../src/engine/native.js';
import { maxPoolValid } from '../../src/nn/max-pool-op.js';
import { Random } from '../../src/nn/random.js';
import { resnet18 } from '../../src/models/backbones/resnet.js';
import { SGD } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';
import { crossEntropy } from '../../src/losses/ce.js';
import { randn, relMaxDiff, runOn } from '../helpers/backends.js';
import { convCases, label, outHW, parity } from '../helpers/conv-cases.js';

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

  it('max-pool gradient equals the composed (wasm) routing, ties and -inf padding included', async () => {
    const cases: Array<[number[], [number, number], [number, number]]> = [
      [[2, 8, 8, 3], [2, 2], [2, 2]],
      [[1, 9, 7, 4], [3, 3], [2, 2]],
      [[2, 6, 6, 2], [3, 3], [1, 1]],
    ];
    let seed = 950;
    for (const [shape, k, s] of cases) {
      const x = randn(shape, seed++);
      // Ties: round to a coarse grid, and a -inf border as MaxPool2d's padding makes.
      x.data.forEach((v, i) => (x.data[i] = i % 11 === 0 ? -Infinity : Math.round(v)));
      const grad = (t: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPoolValid(a as tf.Tensor4D, k, s), tf.range(1, 1 + maxPoolValid(a as tf.Tensor4D, k, s).size).reshape(maxPoolValid(a as tf.Tensor4D, k, s).shape))))(t);
      const native = await runOn('wasm', [x], grad);
      unregisterNativeKernels();
      const composed = await runOn('wasm', [x], grad);
      registerNativeKernels();
      assert.ok(relMaxDiff(native, composed) === 0, `max-pool grad ${shape} k${k} s${s}: native and composed differ by ${relMaxDiff(native, composed)}`);
    }
  });

  it('a ResNet-18 trains with the same loss trajectory with and without the native kernels', async () => {
    const x = randn([4, 40, 40, 3], 990);
    const labels = [0, 3, 5, 6];
    const run = () => {
      const model = resnet18({ numClasses: 7, widthMultiplier: 0.25, rng: new Random(4) });
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
