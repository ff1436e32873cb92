// Kernels the TF.js wasm backend lacks for training (or runs slowly), registered by ferkit.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { convGradKernels } from './conv-grads.js';
import { einsumKernels } from './einsum.js';
import { oneHotKernels } from './one-hot.js';
import { segmentSumKernels } from './segment-sum.js';

/** The kernels ferkit provides for a backend built on the wasm kernel set. */
export function trainingKernels(backendName = 'wasm'): KernelConfig[] {
  return [...convGradKernels(backendName), ...segmentSumKernels(backendName), ...einsumKernels(backendName)];
}

let registered = false;

/** Register (replacing the wasm backend's slow Conv2DBackpropInput and its faulty OneHot) once
 *  per process. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const originalOneHot = tf.getKernel(tf.OneHot, 'wasm');
  if (!originalOneHot) throw new Error('wasm backend has no OneHot kernel');
  for (const config of [...trainingKernels('wasm'), ...oneHotKernels('wasm', originalOneHot.kernelFunc)]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
