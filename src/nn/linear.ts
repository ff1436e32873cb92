// Fully connected layer; weight stored [in, out] so the forward is one matMul (PyTorch: [out, in]).
import { tf } from '../engine/backend.js';
import { fanInUniform, kaimingUniform } from './init.js';
import { Module, type Forward } from './module.js';
import type { Rng } from '../util/rng.js';
import { defaultRandom } from './random.js';

export class Linear extends Module implements Forward {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; rng?: Rng } = {},
  ) {
    super();
    const rng = options.rng ?? defaultRandom();
    // PyTorch's reset_parameters: kaiming_uniform(a=√5) weight, U(±1/√in) bias.
    this.weight = this.registerParameter('weight', kaimingUniform([inFeatures, outFeatures], inFeatures, Math.sqrt(5), rng), { layout: 'linear' });
    if (options.bias ?? true) this.bias = this.registerParameter('bias', fanInUniform([outFeatures], inFeatures, rng));
  }

  /** x: [..., in] → [..., out]. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures}, ${this.outFeatures}): last input dimension is ${x.shape[x.rank - 1]}, shape [${x.shape}]`);
    }
    return tf.tidy(() => {
      const flat = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
