// Convolution cases and the wasm-vs-cpu parity check shared by the kernel tests.
import assert from 'node:assert/strict';
import { backend_util } from '@tensorflow/tfjs-core';
import { tf } from '../../src/engine/backend.js';
import { randn, relMaxDiff, runOn, type HostTensor } from './backends.js';
import { naiveFilterGrad, naiveInputGrad } from './naive-conv.js';

export const TOL = 1e-4;

/** wasm result of `f` against the cpu result of `ref` (default: the same `f`). */
export async function parity(
  name: string,
  inputs: HostTensor[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  ref: (...xs: tf.Tensor[]) => tf.Tensor = f,
): Promise<void> {
  const got = await runOn('wasm', inputs, f);
  let want: HostTensor;
  try {
    want = await runOn('cpu', inputs, ref);
  } catch (e) {
    throw new Error(`${name}: cpu reference failed: ${(e as Error).message}`);
  }
  const err = relMaxDiff(got, want);
  assert.ok(err <= TOL, `${name}: relative max error ${err.toExponential(2)} > ${TOL}`);
}

export type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: [number, number];
  stride: number;
  pad: Pad;
}

/** Output size as TF.js computes it (the kernels' contract), not re-derived by the test. */
export function outHW(xShape: number[], filterShape: number[], stride: number, pad: Pad, dilation = 1, depthwise = false): [number, number] {
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    stride,
    dilation,
    pad,
    undefined,
    depthwise,
  );
  return [info.outHeight, info.outWidth];
}

export function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  const pads: Pad[] = ['same', 'valid', 1, [[0, 0], [2, 0], [1, 3], [0, 0]]];
  let i = 0;
  for (const stride of [1, 2]) {
    for (const pad of pads) {
      for (const [h, w] of [
        [8, 8],
        [9, 7],
      ]) {
        for (const k of [
          [3, 3],
          [1, 1],
          [2, 3],
        ] as Array<[number, number]>) {
          // TF.js computes a numeric pad's output size from the filter height alone, so numeric
          // padding is only well-defined for square filters (explicit pads cover the rest).
          if (typeof pad === 'number' && k[0] !== k[1]) continue;
          i++;
          // Odd and even sizes, batch 1 and >1, kernels 1/2/3 over every pad and stride.
          cases.push({ n: i % 2 === 0 ? 1 : 3, h, w, cin: 1 + (i % 4), cout: 2 + (i % 3), k, stride, pad });
        }
      }
    }
  }
  // Shapes like the ResNet stem and a strided 7x7 on an odd map.
  cases.push({ n: 2, h: 16, w: 16, cin: 3, cout: 8, k: [7, 7], stride: 2, pad: 3 });
  cases.push({ n: 2, h: 11, w: 11, cin: 4, cout: 5, k: [7, 7], stride: 2, pad: 'same' });
  return cases;
}

export function label(c: ConvCase): string {
  return `n${c.n} ${c.h}x${c.w}x${c.cin}->${c.cout} k${c.k.join('x')} s${c.stride} pad ${JSON.stringify(c.pad)}`;
}

export interface DepthwiseCase {
  n: number;
  h: number;
  w: number;
  c: number;
  m: number;
  k: number;
  s: number;
  d: number;
  pad: Pad;
}

/** Depthwise conv cases: strides, pads, dilations, channel multipliers, GCA's map-sized kernels. */
export function depthwiseCases(): DepthwiseCase[] {
  return [
    { n: 2, h: 8, w: 8, c: 3, m: 1, k: 3, s: 1, d: 1, pad: 'same' },
    { n: 1, h: 9, w: 7, c: 2, m: 2, k: 3, s: 2, d: 1, pad: 'same' },
    { n: 3, h: 9, w: 9, c: 4, m: 1, k: 3, s: 2, d: 1, pad: 'valid' },
    { n: 2, h: 8, w: 9, c: 2, m: 1, k: 3, s: 1, d: 2, pad: 'same' },
    { n: 1, h: 10, w: 10, c: 3, m: 3, k: 2, s: 1, d: 2, pad: 'valid' },
    { n: 2, h: 8, w: 8, c: 3, m: 1, k: 3, s: 2, d: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
    // GCA's global depth-wise conv: one kernel the size of the whole map.
    { n: 4, h: 7, w: 7, c: 8, m: 1, k: 7, s: 1, d: 1, pad: 'valid' },
    { n: 2, h: 14, w: 14, c: 5, m: 1, k: 14, s: 1, d: 1, pad: 'valid' },
    // face-expression's separable convs: TF 'same' stride 2 on an even map (the odd pixel after).
    { n: 3, h: 12, w: 12, c: 16, m: 1, k: 3, s: 2, d: 1, pad: 'same' },
  ];
}

/** One depthwise case made concrete: random x, dy and filter (seeds seed..seed+2), the two
 *  gradient kernels as functions for runOn, and the textbook loops' answers. */
export function depthwiseProblem(c: DepthwiseCase, seed: number) {
  const attrs = { strides: c.s, dilations: c.d, pad: c.pad, dataFormat: 'NHWC' };
  const filterShape = [c.k, c.k, c.c, c.m];
  const inputShape = [c.n, c.h, c.w, c.c];
  const [oh, ow] = outHW(inputShape, filterShape, c.s, c.pad, c.d, true);
  const x = randn(inputShape, seed);
  const dy = randn([c.n, oh, ow, c.c * c.m], seed + 1);
  const f = randn(filterShape, seed + 2);
  const info = backend_util.computeConv2DInfo(inputShape as never, filterShape as never, c.s, c.d, c.pad, undefined, true);
  const geom = {
    stride: [c.s, c.s] as [number, number],
    dilation: [c.d, c.d] as [number, number],
    pad: [info.padInfo.top, info.padInfo.bottom, info.padInfo.left, info.padInfo.right] as [number, number, number, number],
  };
  return {
    x,
    dy,
    f,
    name: `n${c.n} ${c.h}x${c.w}x${c.c} m${c.m} k${c.k} s${c.s} d${c.d} ${JSON.stringify(c.pad)}`,
    filterGrad: (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: a, dy: b }, { ...attrs, filterShape } as never) as tf.Tensor,
    inputGrad: (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: a, filter: b }, { ...attrs, inputShape } as never) as tf.Tensor,
    naiveF: naiveFilterGrad(x, dy, filterShape, geom, true),
    naiveX: naiveInputGrad(dy, f, inputShape, geom, true),
  };
}
