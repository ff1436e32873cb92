// Test-only backbone whose features are its input, flattened: lets a test choose the embedding a
// method's heads see, so golden values can run through the model's own forward and objective.
import { tf } from '../../src/engine/backend.js';
import { Backbone } from '../../src/models/backbones/backbone.js';
import { backbones, type BackboneOptions } from '../../src/models/backbones/registry.js';

/** The feature map is the input; pooling flattens it. */
class IdentityBackbone extends Backbone {
  constructor(readonly featureDim: number) {
    super();
  }
  protected map(x: tf.Tensor): tf.Tensor4D {
    return x.clone() as tf.Tensor4D;
  }
  override pool(map: tf.Tensor4D): tf.Tensor2D {
    return tf.reshape(map, [map.shape[0], -1]) as tf.Tensor2D;
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
