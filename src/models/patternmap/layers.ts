// The pattern-map method's own layers: a transposed convolution (the EPMG decoder), the Elman RNN
// mask refiner (EMR) and the encoder/decoder pair sized from the trunk grid and the input size.
import { tf } from '../../engine/backend.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal, uniform } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';

/** PyTorch ConvTranspose2d (symmetric padding): out = (in − 1)·stride − 2·padding + kernel.
 *  Weight in TF's conv2dTranspose layout [kh, kw, out, in]. */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly stride = 1,
    readonly padding = 0,
    rng: Rng = defaultRandom(),
  ) {
    super();
    // He-normal weights over the taps that reach one output (in·k²/stride²) and zero bias: with
    // PyTorch's default init the decoder's 2- and 4-channel ReLU layers often start dead (a
    // bias-dominated, spatially constant negative map), leaving a constant pattern map.
    const fan = (inChannels * kernel * kernel) / (stride * stride);
    this.weight = this.registerParameter('weight', kaimingNormal([kernel, kernel, outChannels, inChannels], fan, 'relu', 0, rng));
    this.bias = this.registerParameter('bias', tf.zeros([outChannels]));
  }
  outSize(n: number): number {
    return (n - 1) * this.stride - 2 * this.padding + this.kernel;
  }
  forward(x: tf.Tensor): tf.Tensor {
    const [n, h, w] = x.shape as number[];
    const shape: [number, number, number, number] = [n, this.outSize(h), this.outSize(w), this.outChannels];
    return tf.tidy(() => {
      const pad = this.padding === 0 ? 'valid' : this.padding;
      const y = tf.conv2dTranspose(x as tf.Tensor4D, this.weight as tf.Tensor4D, shape, this.stride, pad);
      return tf.add(y, this.bias);
    });
  }
}

/** EMR: an Elman RNN over the mask's cells as a sequence of scalars,
 *  h_t = tanh(x_t·W_h + h_{t−1}·U_h + b_h), y_t = sigmoid(h_t·W_y + b_y). */
export class ElmanRefiner extends Module {
  readonly wh: tf.Variable;
  readonly uh: tf.Variable;
  readonly bh: tf.Variable;
  readonly wy: tf.Variable;
  readonly by: tf.Variable;
  constructor(
    readonly hidden = 16,
    rng: Rng = defaultRandom(),
  ) {
    super();
    const k = 1 / Math.sqrt(hidden); // torch.nn.RNN's U(−1/√H, 1/√H)
    this.wh = this.registerParameter('wh', uniform([1, hidden], -k, k, rng));
    this.uh = this.registerParameter('uh', uniform([hidden, hidden], -k, k, rng));
    this.bh = this.registerParameter('bh', uniform([hidden], -k, k, rng));
    this.wy = this.registerParameter('wy', uniform([hidden, 1], -k, k, rng));
    this.by = this.registerParameter('by', uniform([1], -k, k, rng));
  }
  /** seq [N, T] → refined [N, T] in (0,1) and the last hidden state [N, hidden]. */
  forward(seq: tf.Tensor2D): { refined: tf.Tensor2D; hN: tf.Tensor2D } {
    const [n, t] = seq.shape;
    return tf.tidy(() => {
      const xs = tf.unstack(tf.reshape(seq, [n, t, 1]), 1) as tf.Tensor2D[];
      let h: tf.Tensor2D = tf.zeros([n, this.hidden]);
      const hs: tf.Tensor2D[] = [];
      for (const x of xs) {
        h = tf.tanh(tf.add(tf.add(tf.matMul(x, this.wh as tf.Tensor2D), tf.matMul(h, this.uh as tf.Tensor2D)), this.bh)) as tf.Tensor2D;
        hs.push(h);
      }
      const all = tf.reshape(tf.stack(hs, 1), [n * t, this.hidden]) as tf.Tensor2D;
      const refined = tf.reshape(tf.sigmoid(tf.add(tf.matMul(all, this.wy as tf.Tensor2D), this.by)), [n, t]) as tf.Tensor2D;
      return { refined, hN: h };
    });
  }
}

/** EPMG encoder: conv (grid−3)x(grid−3) C→256 + ReLU (4x4 on the seed's 7x7 grid, to 4x4), then
 *  conv 4x4 256→dim + sigmoid (to 1x1): the embedding. */
export class PatternEncoder extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  /** Optional BatchNorm on the masked features: a trunk without BatchNorm (face-api's expression
   *  net: values up to ~300) drives the sigmoid embedding into saturation, and step 3 stalls. */
  readonly norm?: BatchNorm2d;
  constructor(inChannels: number, grid: number, hidden: number, dim: number, rng: Rng, norm = false) {
    super();
    if (grid < 4) throw new Error(`pattern-map encoder needs a trunk grid of at least 4x4, got ${grid}x${grid}`);
    if (norm) this.norm = this.registerModule('norm', new BatchNorm2d(inChannels));
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, hidden, grid - 3, { rng }));
    this.conv2 = this.registerModule('conv2', new Conv2d(hidden, dim, 4, { rng }));
  }
  forward(g: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const x = this.norm ? this.norm.forward(g) : g;
      const e = tf.sigmoid(this.conv2.forward(tf.relu(this.conv1.forward(x))));
      return tf.reshape(e, [g.shape[0], -1]) as tf.Tensor2D;
    });
  }
}

/** Decoder stride plan for an input side: the seed's table garbles kernels/strides, so: layer 1
 *  k = side/2^u (1x1 → base), then u layers k4 s2 p1 (doubling), the rest k3 s1 p1 (same size);
 *  u is the largest ≤ 6 with side divisible by 2^u and a base of at least 3. */
export function decoderPlan(side: number, layers: number): Array<{ kernel: number; stride: number; padding: number }> {
  let u = 0;
  while (u < Math.min(6, layers - 1) && side % 2 ** (u + 1) === 0 && side / 2 ** (u + 1) >= 3) u++;
  const base = side / 2 ** u;
  const plan = [{ kernel: base, stride: 1, padding: 0 }];
  for (let i = 0; i < u; i++) plan.push({ kernel: 4, stride: 2, padding: 1 });
  while (plan.length < layers) plan.push({ kernel: 3, stride: 1, padding: 1 });
  return plan;
}

/** EPMG decoder: embedding [N, D] → one-channel pattern map [N, side, side, 1] in (0,1). */
export class PatternDecoder extends Module {
  readonly layers: ConvTranspose2d[];
  constructor(inChannels: number, channels: number[], side: number, rng: Rng) {
    super();
    const plan = decoderPlan(side, channels.length);
    let cin = inChannels;
    this.layers = channels.map((c, i) => {
      const l = this.registerModule(`deconv${i + 1}`, new ConvTranspose2d(cin, c, plan[i].kernel, plan[i].stride, plan[i].padding, rng));
      cin = c;
      return l;
    });
  }
  forward(e: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      let h: tf.Tensor = tf.reshape(e, [e.shape[0], 1, 1, e.shape[1]]);
      this.layers.forEach((l, i) => {
        h = l.forward(h);
        h = i === this.layers.length - 1 ? tf.sigmoid(h) : tf.relu(h);
      });
      return h as tf.Tensor4D;
    });
  }
}

/** Parameters of the first `convs` conv layers of a module and the layers before the next conv
 *  (their BatchNorms), in registration order: the seed's "first five conv layers" to freeze. */
export function leadingConvParams(m: Module, convs: number): Set<tf.Variable> {
  const out = new Set<tf.Variable>();
  let seen = 0;
  for (const [, mod] of m.namedModules()) {
    if (mod instanceof Conv2d) seen++;
    if (seen > convs) break;
    if (seen === 0) continue;
    for (const [name, v] of mod.namedParameters()) if (!name.includes('.')) out.add(v);
  }
  return out;
}
