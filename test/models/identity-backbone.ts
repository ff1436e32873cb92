// Test-only backbone whose features are its input, flattened: lets a test choose the embedding a
// method's heads see, so golden values can run through the model's own forward and objective.
import { tf } from '../../src/engine/backend.js';
import { Module } from '../../src/nn/module.js';
import { backbones, type Backbone, type BackboneOptions } from '../../src/models/backbones/registry.js';

class IdentityBackbone extends Module implements Backbone {
  constructor(readonly featureDim: number) {
    super();
  }
  features(x: tf.Tensor): tf.Tensor2D {
    return tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
  }
  forward(x: tf.Tensor): tf.Tensor2D {
    return this.features(x);
  }
}

export const IDENTITY = 'test-identity';
if (!backbones.has(IDENTITY)) {
  backbones.register({
    name: IDENTITY,
    description: 'test only: features = flattened input',
    create: (o?: BackboneOptions & { dim?: number }) => new IdentityBackbone(Number(o?.dim)),
  });
}

/** Embeddings [N, D] as NHWC inputs [N, 1, D, 1] for the identity backbone. */
export const asInput = (rows: number[][]): tf.Tensor4D => tf.tensor4d(rows.flat(), [rows.length, 1, rows[0].length, 1]);
