// Einsum for the wasm backend: each operand is transposed and broadcast into the common index
// order, multiplied, and summed over the contracted indices in the order tfjs-core's planner picks.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { Scope } from './compose.js';

export function einsumKernels(backendName: string): KernelConfig[] {
  return [
    {
      kernelName: tf.Einsum,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const operands = inputs as unknown as TensorInfo[];
        const equation = (attrs as { equation: string }).equation;
        const { allDims, summedDims, idDims } = backend_util.decodeEinsumEquation(equation, operands.length);
        backend_util.checkEinsumDimSizes(allDims.length, idDims, operands as tf.Tensor[]);
        const { path, steps } = backend_util.getEinsumComputePath(summedDims, idDims);
        const scope = new Scope(backend as KernelBackend, backendName);
        try {
          let out: TensorInfo | null = null;
          let remaining = allDims.length;
          steps.forEach((step, i) => {
            for (const term of step) {
              const { permutationIndices, expandDims } = backend_util.getEinsumPermutation(remaining, idDims[term]);
              let x = scope.transpose(operands[term], permutationIndices);
              const shape = x.shape.slice();
              for (const d of expandDims) shape.splice(d, 0, 1);
              x = scope.reshape(x, shape);
              out = out === null ? x : scope.run('Multiply', { a: x, b: out });
            }
            if (i < steps.length - 1) {
              if (path[i] >= 0 && out) out = scope.sum(out, [path[i] - (allDims.length - remaining)]);
              remaining--;
            }
          });
          if (!out) throw new Error(`einsum "${equation}": no operands`);
          let result: TensorInfo = out;
          if (operands.some((t) => t.dataId === result.dataId)) result = scope.run('Reshape', { x: result }, { shape: result.shape });
          scope.dispose(result);
          return result;
        } catch (e) {
          scope.dispose();
          throw e;
        }
      },
    },
  ];
}
