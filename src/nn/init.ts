// PyTorch's weight initialisers (torch.nn.init), drawing from the seeded Rng. Fans are passed
// explicitly because TF layouts ([kh,kw,in,out], [in,out]) differ from PyTorch's: callers know
// which dimension is which.
import { tf } from '../engine/backend.js';
import type { Rng } from '../util/rng.js';
import { defaultRandom } from './random.js';

export type Nonlinearity = 'relu' | 'leaky_relu' | 'linear' | 'sigmoid' | 'tanh';

/** torch.nn.init.calculate_gain. */
function gain(nonlinearity: Nonlinearity, a = 0.01): number {
  switch (nonlinearity) {
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + a * a));
    case 'tanh':
      return 5 / 3;
    default:
      return 1;
  }
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function normal(shape: number[], mean = 0, std = 1, rng: Rng = defaultRandom()): tf.Tensor {
  return tf.tensor(rng.fillNormal(size(shape), mean, std), shape, 'float32');
}

export function uniform(shape: number[], low: number, high: number, rng: Rng = defaultRandom()): tf.Tensor {
  return tf.tensor(rng.fillUniform(size(shape), low, high), shape, 'float32');
}

/** kaiming_normal_: N(0, gain/√fan). ResNet convs use fan = fan_out (out·kh·kw), relu. */
export function kaimingNormal(shape: number[], fan: number, nonlinearity: Nonlinearity = 'relu', a = 0, rng: Rng = defaultRandom()): tf.Tensor {
  const g = nonlinearity === 'leaky_relu' ? gain('leaky_relu', a) : gain(nonlinearity);
  return normal(shape, 0, g / Math.sqrt(fan), rng);
}

/** kaiming_uniform_ with leaky_relu gain; PyTorch's Linear/Conv default uses a = √5, which gives
 *  the bound 1/√fan_in. */
export function kaimingUniform(shape: number[], fanIn: number, a = Math.sqrt(5), rng: Rng = defaultRandom()): tf.Tensor {
  const bound = Math.sqrt(3) * (gain('leaky_relu', a) / Math.sqrt(fanIn));
  return uniform(shape, -bound, bound, rng);
}

/** PyTorch's default bias of Linear/Conv: U(-1/√fan_in, 1/√fan_in). */
export function fanInUniform(shape: number[], fanIn: number, rng: Rng = defaultRandom()): tf.Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound, rng);
}

export function xavierUniform(shape: number[], fanIn: number, fanOut: number, g = 1, rng: Rng = defaultRandom()): tf.Tensor {
  const bound = g * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound, rng);
}
