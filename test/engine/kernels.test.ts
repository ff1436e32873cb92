// Every kernel ferkit registers for wasm, against the cpu backend's reference implementation.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/backend.js';
import { trainingKernels } from '../../src/engine/kernels/index.js';
import { randn, relMaxDiff, runOn } from '../helpers/backends.js';
import { convCases, depthwiseCases, depthwiseProblem, label, outHW, parity, TOL } from '../helpers/conv-cases.js';
import { unregisterNativeKernels } from '../../src/engine/native.js';
import { initEngine } from '../../src/engine/backend.js';
import { setFilterGradMode } from '../../src/engine/kernels/conv-grads.js';

describe('wasm kernels registered by ferkit', () => {
  // The composed wasm kernels themselves (native ones, when built, are tested in native.test.ts).
  before(async () => {
    await initEngine('wasm');
    unregisterNativeKernels();
  });

  it('covers every kernel the wasm backend lacks for training', () => {
    const names = trainingKernels('wasm').map((k) => k.kernelName);
    for (const needed of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
      'Einsum',
    ]) {
      assert.ok(names.includes(needed), `${needed} is not provided`);
    }
  });

  it('Conv2DBackpropFilter and Conv2DBackpropInput match cpu', async () => {
    let seed = 1;
    for (const c of convCases()) {
      const filterShape = [c.k[0], c.k[1], c.cin, c.cout];
      const inputShape = [c.n, c.h, c.w, c.cin];
      const [oh, ow] = outHW(inputShape, filterShape, c.stride, c.pad);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
      const x = randn(inputShape, seed++);
      const dy = randn([c.n, oh, ow, c.cout], seed++);
      const w = randn(filterShape, seed++);
      await parity(`filter grad ${label(c)}`, [x, dy], (a, b) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, { ...attrs, filterShape } as never) as tf.Tensor,
      );
      await parity(`input grad ${label(c)}`, [dy, w], (a, b) =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: a, filter: b }, { ...attrs, inputShape } as never) as tf.Tensor,
      );
    }
  });

  it('both filter-gradient forms (im2col matmul and conv) match cpu on every case', async () => {
    let seed = 500;
    try {
      for (const mode of ['im2col', 'conv'] as const) {
        setFilterGradMode(mode);
        for (const c of convCases()) {
          const filterShape = [c.k[0], c.k[1], c.cin, c.cout];
          const inputShape = [c.n, c.h, c.w, c.cin];
          const [oh, ow] = outHW(inputShape, filterShape, c.stride, c.pad);
          const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
          await parity(`${mode} filter grad ${label(c)}`, [randn(inputShape, seed++), randn([c.n, oh, ow, c.cout], seed++)], (a, b) =>
            tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, { ...attrs, filterShape } as never) as tf.Tensor,
          );
        }
      }
    } finally {
      setFilterGradMode('auto');
    }
  });

  it('conv2d gradients through tf.grad match cpu', async () => {
    const x = randn([2, 10, 10, 3], 7);
    const w = randn([3, 3, 3, 4], 8);
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'same'],
      [2, 'valid'],
    ] as Array<[number, 'same' | 'valid']>) {
      for (const wrt of [0, 1]) {
        await parity(`grad wrt ${wrt ? 'filter' : 'input'} s${stride} ${pad}`, [x, w], (a, b) =>
          tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, stride, pad).square().sum())([a, b])[wrt],
        );
      }
    }
  });

  it('depthwise conv gradients match cpu over strides, pads, dilations and multipliers', async () => {
    let seed = 100;
    for (const c of depthwiseCases()) {
      const { x, dy, f, name, filterGrad, inputGrad, naiveF, naiveX } = depthwiseProblem(c, seed);
      seed += 3;
      // The textbook loops are checked against cpu wherever cpu is right (dilation 1) and are the
      // reference where the cpu kernels ignore dilation.
      const wasmF = await runOn('wasm', [x, dy], filterGrad);
      const wasmX = await runOn('wasm', [dy, f], inputGrad);
      assert.ok(relMaxDiff(wasmF, naiveF) <= TOL, `depthwise filter grad ${name} vs loops: ${relMaxDiff(wasmF, naiveF)}`);
      assert.ok(relMaxDiff(wasmX, naiveX) <= TOL, `depthwise input grad ${name} vs loops: ${relMaxDiff(wasmX, naiveX)}`);
      if (c.d === 1) {
        assert.ok(relMaxDiff(naiveF, await runOn('cpu', [x, dy], filterGrad)) <= TOL, `loops disagree with cpu: ${name}`);
        await parity(`depthwise filter grad ${name}`, [x, dy], filterGrad);
        await parity(`depthwise input grad ${name}`, [dy, f], inputGrad);
      }
    }
  });

  it('UnsortedSegmentSum matches cpu, also as the gradient of gather', async () => {
    const x = randn([6, 4, 3], 200);
    const ids = { shape: [6], data: Float32Array.from([0, 2, 2, 5, -1, 0]) };
    await parity('unsortedSegmentSum', [x, ids], (a, b) => tf.unsortedSegmentSum(a, tf.cast(b, 'int32') as tf.Tensor1D, 6));
    const table = randn([10, 5], 201);
    const idx = { shape: [7], data: Float32Array.from([1, 3, 3, 9, 0, 1, 1]) };
    await parity('gather gradient', [table, idx], (t, i) =>
      tf.grad((p: tf.Tensor) => tf.gather(p, tf.cast(i, 'int32')).square().sum())(t),
    );
  });

  it('transposed matmuls (BatchMatMul, _FusedMatMul) match cpu', async () => {
    const a = randn([2, 5, 6], 500);
    const b = randn([2, 6, 4], 501);
    const at = randn([2, 6, 5], 502);
    const bt = randn([2, 4, 6], 503);
    const bias = randn([4], 504);
    await parity('a·b', [a, b], (p, q) => tf.matMul(p, q));
    await parity('aᵀ·b', [at, b], (p, q) => tf.matMul(p, q, true, false));
    await parity('a·bᵀ', [a, bt], (p, q) => tf.matMul(p, q, false, true));
    await parity('aᵀ·bᵀ', [at, bt], (p, q) => tf.matMul(p, q, true, true));
    await parity('fused aᵀ·bᵀ + bias, relu', [at, bt, bias], (p, q, r) =>
      tf.fused.matMul({ a: p, b: q, transposeA: true, transposeB: true, bias: r, activation: 'relu' }),
    );
    await parity('dense gradient', [randn([8, 6], 505), randn([6, 3], 506)], (x, w) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D).square().sum())([x, w])[1],
    );
  });

  it('OneHot honours its dtype on wasm', async () => {
    const idx = { shape: [4], data: Float32Array.from([0, 2, 1, 2]) };
    await parity('oneHot float32', [idx], (i) => tf.oneHot(tf.cast(i, 'int32') as tf.Tensor1D, 3, 2.5, -1, 'float32'));
  });

  it('Einsum matches cpu', async () => {
    const a = randn([3, 4], 300);
    const b = randn([4, 5], 301);
    const c = randn([2, 3, 4], 302);
    const d = randn([2, 4, 6], 303);
    await parity('ij,jk->ik', [a, b], (p, q) => tf.einsum('ij,jk->ik', p, q));
    await parity('bij,bjk->bik', [c, d], (p, q) => tf.einsum('bij,bjk->bik', p, q));
    await parity('ij->ji', [a], (p) => tf.einsum('ij->ji', p));
    await parity('ij,ij->i', [a, a], (p, q) => tf.einsum('ij,ij->i', p, q));
  });

  it('tf.batchNorm without scale/offset has a gradient on wasm', async () => {
    const x = randn([2, 3, 3, 4], 400);
    const mean = randn([4], 401);
    const variance = { shape: [4], data: Float32Array.from([0.5, 1, 2, 3]) };
    await parity('batchNorm grad', [x, mean, variance], (p, m, v) =>
      tf.grad((q: tf.Tensor) => tf.batchNorm(q as tf.Tensor4D, m, v).square().sum())(p),
    );
  });

  it('composed kernels leave no tensors behind', async () => {
    await runOn('wasm', [], () => tf.scalar(0));
    const backend = tf.backend();
    const x = tf.randomNormal([2, 9, 9, 3]);
    const w = tf.randomNormal([3, 3, 3, 4]);
    const before = backend.numDataIds();
    const [gx, gw] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same').sum())([x, w]);
    tf.dispose([gx, gw]);
    assert.equal(backend.numDataIds(), before, 'data ids leaked by the conv gradient kernels');
    tf.dispose([x, w]);
  });
});
