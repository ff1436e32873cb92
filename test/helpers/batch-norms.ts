// Test helper: BatchNorm state far from its initial values, so exports that fold or drop
// BatchNorm wrongly show in the outputs.
import { tf } from '../../src/engine/backend.js';
import type { Module } from '../../src/nn/module.js';
import { BatchNorm } from '../../src/nn/norm.js';

/** Sets every BatchNorm's running statistics and affine parameters to seeded random values. */
export function scrambleBatchNorms(model: Module, seed: number): void {
  let s = seed;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm)) continue;
    const shape = m.runningMean.shape;
    tf.tidy(() => {
      m.runningMean.assign(tf.randomNormal(shape, 0, 0.3, 'float32', s++));
      m.runningVar.assign(tf.randomUniform(shape, 0.3, 3, 'float32', s++));
      m.weight?.assign(tf.randomUniform(shape, 0.5, 1.5, 'float32', s++));
      m.bias?.assign(tf.randomNormal(shape, 0, 0.2, 'float32', s++));
    });
  }
}
