// The plain baseline: a backbone and a linear classifier trained with cross-entropy (optionally
// label-smoothed, optionally with IAL's intensity-aware term). Also the shape every static method's model starts from.
import { tf } from '../../engine/backend.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { crossEntropy, smoothTargets } from '../../losses/ce.js';
import { intensityAwareLoss } from '../../losses/ial.js';
import { numberOption, type Options } from '../method-options.js';
import { backbones, type Backbone } from '../backbones/registry.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import type { Objective, TrainBatch } from '../methods.js';

/** Builds the configured backbone without a head (features only). */
export function buildBackbone(config: ModelConfig, rng: Rng): Backbone {
  return backbones.get(config.backbone).create({ ...(config.backboneOptions ?? {}), inChannels: config.input.channels, numClasses: 0, rng });
}

export class ClassifierModel extends Module implements FerModel {
  readonly backbone: Backbone;
  readonly dropout?: Dropout;
  readonly fc: Linear;

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
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

/** CE objective options: label smoothing ε, and λ of an added intensity-aware term (spec §1.9:
 *  IAL works on any classifier's logits, so static models can use it too; 0 leaves it out). */
export interface CrossEntropyOptions {
  labelSmoothing: number;
  ialLambda: number;
}

export function crossEntropyOptions(o: Options): CrossEntropyOptions {
  return {
    labelSmoothing: numberOption(o, 'labelSmoothing', 0, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    ialLambda: numberOption(o, 'ialLambda', 0, (v) => v >= 0, 'a number ≥ 0'),
  };
}

/** CE(z, y) (label-smoothed when ε > 0) + λ·IAL(z, y), IAL on the hard labels. */
export class CrossEntropyObjective implements Objective {
  readonly softTargets = true;
  constructor(readonly options: CrossEntropyOptions = { labelSmoothing: 0, ialLambda: 0 }) {}
  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    const { labelSmoothing, ialLambda } = this.options;
    return tf.tidy(() => {
      const { logits } = model.forward(batch.x);
      batch.onScores?.(logits);
      const c = logits.shape[1];
      // Soft targets are smoothed the same way: (1 − ε)·t + ε/C.
      const target = batch.target
        ? labelSmoothing > 0
          ? tf.add(tf.mul(batch.target, 1 - labelSmoothing), labelSmoothing / c)
          : batch.target
        : labelSmoothing > 0
          ? smoothTargets(batch.y, c, labelSmoothing)
          : batch.y;
      const ce = crossEntropy(logits, target as tf.Tensor1D | tf.Tensor2D);
      return ialLambda > 0 ? (tf.add(ce, tf.mul(intensityAwareLoss(logits, batch.y), ialLambda)) as tf.Scalar) : ce;
    });
  }
}
