// Inverted dropout: zero with probability p and scale survivors by 1/(1-p), in training only.
import { tf } from '../engine/backend.js';
import { Module, type Forward } from './module.js';
import type { Rng } from '../util/rng.js';
import { defaultRandom } from './random.js';

export class Dropout extends Module implements Forward {
  private readonly rng: Rng;

  constructor(
    readonly p = 0.5,
    options: { rng?: Rng } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    this.rng = options.rng ?? defaultRandom();
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return tf.zerosLike(x);
    // Seeded from our stream so masks are reproducible across runs and resumes.
    const seed = this.rng.tfSeed();
    return tf.tidy(() => {
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), this.p), x.dtype);
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.p)));
    });
  }
}
