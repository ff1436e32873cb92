// tfjs-backend-wasm 4.22's OneHot writes int32 values whatever dtype it is asked for (a float32
// one-hot reads back as denormals: 1 → 1.4e-45) and truncates on/off values to integers. Build a
// 0/1 int32 one-hot, cast it, and scale it to the requested values.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { composedKernel } from './compose.js';

export function oneHotKernels(backendName: string, original: KernelFunc): KernelConfig[] {
  return [
    {
      kernelName: tf.OneHot,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, inputs, attrs) => {
        const dtype = (attrs.dtype as tf.DataType | undefined) ?? 'int32';
        if (dtype === 'int32') return scope.adopt(original({ inputs, attrs, backend: scope.backend }) as tf.TensorInfo);
        const on = Number(attrs.onValue ?? 1);
        const off = Number(attrs.offValue ?? 0);
        const bits = scope.adopt(
          original({ inputs, attrs: { ...attrs, dtype: 'int32', onValue: 1, offValue: 0 }, backend: scope.backend }) as tf.TensorInfo,
        );
        let out = scope.run('Cast', { x: bits }, { dtype: 'float32' });
        if (on - off !== 1) out = scope.run('Multiply', { a: out, b: scope.constant([], Float32Array.of(on - off)) });
        if (off !== 0) out = scope.run('Add', { a: out, b: scope.constant([], Float32Array.of(off)) });
        return dtype === 'float32' ? out : scope.run('Cast', { x: out }, { dtype });
      }),
    },
  ];
}
