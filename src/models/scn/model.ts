// Self-Cure Network (spec §2.3): a backbone's pooled features feed two heads, the classifier
// z = fc(x) and the importance weight α = sigmoid(Linear(x → 1)); the output is α·z. Names follow
// the reference (`fc`, `alpha.0`) so its head weights map one to one.
import { tf } from '../../engine/backend.js';
import { sigmoid } from '../../nn/activations.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import type { Backbone } from '../backbones/registry.js';
import { buildBackbone } from '../ce/model.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import { numberOption } from '../method-options.js';

export interface ScnHeads {
  /** [N] importance weights α ∈ (0,1). */
  alpha: tf.Tensor1D;
  /** [N, C] unweighted logits z. */
  z: tf.Tensor2D;
}

export class ScnModel extends Module implements FerModel {
  readonly backbone: Backbone;
  readonly dropout?: Dropout;
  readonly fc: Linear;
  readonly alpha: Sequential;

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
  ) {
    super();
    const o = config.methodOptions ?? {};
    this.backbone = this.registerModule('backbone', buildBackbone(config, rng));
    // The reference builds its dropout inside forward (always on); this one follows train/eval.
    const p = numberOption(o, 'dropout', 0, (v) => v >= 0 && v < 1, 'in [0, 1)');
    if (p > 0) this.dropout = this.registerModule('dropout', new Dropout(p, { rng }));
    const dim = this.backbone.featureDim;
    this.fc = this.registerModule('fc', new Linear(dim, config.classes.length, { rng }));
    this.alpha = this.registerModule('alpha', new Sequential(new Linear(dim, 1, { rng }), sigmoid));
  }

  /** Both heads on features (dropout first, as the reference applies it to both). */
  heads(features: tf.Tensor2D): ScnHeads {
    return tf.tidy(() => {
      const x = this.dropout ? (this.dropout.forward(features) as tf.Tensor2D) : features;
      return {
        alpha: tf.reshape(this.alpha.forward(x), [-1]) as tf.Tensor1D,
        z: this.fc.forward(x) as tf.Tensor2D,
      };
    });
  }

  /** logits = α·z (what the loss and the relabel rule see; argmax equals argmax z since α > 0),
   *  extras.attention = α [N], extras.unweighted = z. */
  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    if (training !== undefined && training !== this.training) this.train(training);
    const embedding = this.backbone.features(x);
    const { alpha, z } = this.heads(embedding);
    const logits = tf.tidy(() => tf.mul(z, tf.reshape(alpha, [-1, 1])) as tf.Tensor2D);
    return { logits, embedding, extras: { attention: alpha, unweighted: z } };
  }
}
