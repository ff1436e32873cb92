// The plain baseline: a backbone and a linear classifier trained with cross-entropy (optionally
// label-smoothed). Also the shape every static method's model starts from.
import { tf } from '../../engine/backend.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { defaultRandom, type Random } from '../../nn/random.js';
import { crossEntropy, smoothTargets } from '../../losses/ce.js';
import { backbones, type Backbone } from '../backbones/registry.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import type { MethodDef, Objective, TrainBatch } from '../methods.js';

/** Builds the configured backbone without a head (features only). */
export function buildBackbone(config: ModelConfig, rng: Random): Backbone {
  return backbones.get(config.backbone).create({ ...(config.backboneOptions ?? {}), inChannels: config.input.channels, numClasses: 0, rng });
}

export class ClassifierModel extends Module implements FerModel {
  readonly backbone: Backbone;
  readonly dropout?: Dropout;
  readonly fc: Linear;

  constructor(
    readonly config: ModelConfig,
    rng: Random = defaultRandom(),
  ) {
    super();
    this.backbone = this.registerModule('backbone', buildBackbone(config, rng));
    const p = Number(config.methodOptions?.dropout ?? 0);
    if (p > 0) this.dropout = this.registerModule('dropout', new Dropout(p, { rng }));
    this.fc = this.registerModule('fc', new Linear(this.backbone.featureDim, config.classes.length, { rng }));
  }

  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    if (training !== undefined && training !== this.training) this.train(training);
    const embedding = this.backbone.features(x);
    const logits = tf.tidy(() => this.fc.forward(this.dropout ? this.dropout.forward(embedding) : embedding) as tf.Tensor2D);
    return { logits, embedding };
  }
}

export class CrossEntropyObjective implements Objective {
  constructor(private readonly labelSmoothing = 0) {}
  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = model.forward(batch.x);
      const target = this.labelSmoothing > 0 ? smoothTargets(batch.y, logits.shape[1], this.labelSmoothing) : batch.y;
      return crossEntropy(logits, target);
    });
  }
}

export const ceMethod: MethodDef = {
  kind: 'image',
  defaults: {
    backbone: 'fer-cnn',
    methodOptions: { dropout: 0.3 },
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    trainAugment: 'fer-train',
    testAugment: 'fer-test',
  },
  createModel: (config, rng) => new ClassifierModel(config, rng),
  createObjective: (_model, options) => new CrossEntropyObjective(Number(options.labelSmoothing ?? 0)),
};
