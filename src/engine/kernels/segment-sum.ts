// UnsortedSegmentSum (the gradient of gather) as a matmul with a one-hot matrix, which the wasm
// backend runs on XNNPACK: out[s, :] = Σ_i [ids_i = s]·x[i, :]. Ids outside [0, numSegments) are
// dropped, as TensorFlow does.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { composedKernel } from './compose.js';

export function segmentSumKernels(backendName: string): KernelConfig[] {
  return [
    {
      kernelName: tf.UnsortedSegmentSum,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, { x, segmentIds }, attrs) => {
        const numSegments = attrs.numSegments as number;
        const k = segmentIds.shape.reduce((a, b) => a * b, 1);
        const rest = x.shape.slice(segmentIds.shape.length);
        const r = rest.reduce((a, b) => a * b, 1);
        const ids = scope.reshape(segmentIds, [k]);
        const idsInt = ids.dtype === 'int32' ? ids : scope.run('Cast', { x: ids }, { dtype: 'int32' });
        const oneHot = scope.run('Cast', {
          x: scope.run('OneHot', { indices: idsInt }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' }),
        }, { dtype: 'float32' });
        const xf = x.dtype === 'float32' ? x : scope.run('Cast', { x }, { dtype: 'float32' });
        const a = scope.reshape(oneHot, [1, k, numSegments]);
        const b = scope.reshape(xf, [1, k, r]);
        const out = scope.reshape(scope.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false }), [numSegments, ...rest]);
        return x.dtype === 'float32' ? out : scope.run('Cast', { x: out }, { dtype: x.dtype });
      }),
    },
  ];
}
