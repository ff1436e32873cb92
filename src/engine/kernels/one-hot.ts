// tfjs-backend-wasm 4.22's OneHot writes int32 values whatever dtype it is asked for, so a
// float32 one-hot reads back as denormals (1 → 1.4e-45). Run it as int32 and cast.
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
        const ints = original({ inputs, attrs: { ...attrs, dtype: 'int32' }, backend: scope.backend }) as tf.TensorInfo;
        if (dtype === 'int32') return ints;
        scope.adopt(ints);
        return scope.run('Cast', { x: ints }, { dtype });
      }),
    },
  ];
}
