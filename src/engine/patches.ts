// Fixes to tfjs-core 4.22 behaviour that training depends on, applied once per process.
import * as tf from '@tensorflow/tfjs-core';

let applied = false;

/**
 * Ops with optional inputs (tf.batchNorm without scale/offset) hand the engine `undefined` inputs.
 * While recording a gradient the engine then clones `undefined` (crashing in the backend's Identity
 * kernel) and walks it as a tape input. Absent inputs are dropped before a kernel runs, and an
 * absent trailing saved input is left off; the gradient functions already treat a missing saved
 * input as absent (FusedBatchNorm uses scale = 1).
 */
export function applyEnginePatches(): void {
  if (applied) return;
  const engine = tf.engine() as unknown as {
    saveTensorsForBackwardMode: (tensors: Array<tf.Tensor | undefined>) => Array<tf.Tensor | undefined>;
    keep: (t: tf.Tensor) => tf.Tensor;
    clone: (t: tf.Tensor) => tf.Tensor;
    runKernel: (name: string, inputs: Record<string, tf.Tensor | undefined>, attrs?: unknown) => unknown;
  };
  if (typeof engine.saveTensorsForBackwardMode !== 'function') {
    throw new Error('tfjs-core internals changed: Engine.saveTensorsForBackwardMode is missing (ferkit pins tfjs 4.22)');
  }
  const runKernel = engine.runKernel;
  engine.runKernel = function (name, inputs, attrs) {
    let present = inputs;
    for (const key in inputs) {
      if (inputs[key] == null) {
        present = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v != null));
        break;
      }
    }
    return runKernel.call(this, name, present, attrs);
  };
  // Saved tensors are disposed one by one after backprop, so an absent one cannot stay in the
  // list; trailing absent inputs (FusedBatchNorm's scale) can be left off without shifting others.
  engine.saveTensorsForBackwardMode = function (tensors) {
    let end = tensors.length;
    while (end > 0 && tensors[end - 1] == null) end--;
    return tensors.slice(0, end).map((t) => {
      if (t == null) throw new Error('TF.js: a gradient needs an optional input that was not given');
      return this.keep(this.clone(t));
    });
  };
  applied = true;
}
