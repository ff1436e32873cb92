// Kernels the TF.js wasm backend lacks for training (or runs slowly), registered by ferkit.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { convGradKernels } from './conv-grads.js';
import { einsumKernels } from './einsum.js';
import { matmulKernels } from './matmul.js';
import { oneHotKernels } from './one-hot.js';
import { segmentSumKernels } from './segment-sum.js';

/** The kernels ferkit provides for a backend built on the wasm kernel set. */
export function trainingKernels(backendName = 'wasm'): KernelConfig[] {
  return [...convGradKernels(backendName), ...segmentSumKernels(backendName), ...einsumKernels(backendName)];
}

let registered = false;

function originalKernel(name: string): tf.KernelFunc {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc;
}

/** Wrappers around wasm kernels that are wrong (OneHot's dtype) or slow (transposed matmuls). */
function fixedKernels(): KernelConfig[] {
  return [
    ...oneHotKernels('wasm', originalKernel(tf.OneHot)),
    ...matmulKernels('wasm', { batchMatMul: originalKernel(tf.BatchMatMul), fusedMatMul: originalKernel(tf._FusedMatMul) }),
  ];
}

/** Register ours (replacing the wasm backend's slow Conv2DBackpropInput, its faulty OneHot and its
 *  slow transposed matmuls) once per process. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of [...trainingKernels('wasm'), ...fixedKernels()]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
