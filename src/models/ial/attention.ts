// Attention blocks that rescale a residual branch before the skip addition (spec §1.5), by name:
// `gca` (global convolution-attention: the paper's block), `se` (squeeze-and-excitation) and
// `cbam` (channel + spatial attention) for the ablation, `none` for plain residual blocks. Each
// returns the rescaled branch and, where it has one, a per-clip channel descriptor [B, C] that the
// block's auxiliary classifier reads (GCA: the frame mean of the global depth-wise conv output).
import { tf } from '../../engine/backend.js';
import { relu, sigmoid } from '../../nn/activations.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Module, Sequential } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { Registry } from '../../registry.js';
import { gcaScale } from './gca-scale.js';

export interface AttentionResult {
  y: tf.Tensor4D;
  /** [clips, C] descriptor for the auxiliary classifier (absent: no aux head). */
  descriptor?: tf.Tensor2D;
}

export interface ChannelAttention extends Module {
  /** y: residual branch [clips·frames, H, W, C], frames of a clip contiguous. */
  apply(y: tf.Tensor4D, frames: number): AttentionResult;
}

export interface AttentionOptions {
  channels: number;
  /** Spatial size [H, W] of the branch (GCA's global kernel covers all of it). */
  map: [number, number];
  /** Channel reduction r of the bottleneck (16 in the reference). */
  reduction: number;
  rng: Rng;
}

export type AttentionFactory = (o: AttentionOptions) => ChannelAttention | undefined;

/** PyTorch/reference conv init: kaiming-normal, mode fan_out, ReLU gain. */
const convInit = (shape: number[], _fanIn: number, fanOut: number, rng: Rng) => kaimingNormal(shape, fanOut, 'relu', 0, rng);

const conv1x1 = (cin: number, cout: number, rng: Rng) => new Conv2d(cin, cout, 1, { bias: false, rng, weightInit: convInit });

/** Depth-wise conv whose kernel covers the whole [H, W] map ('valid'): one learned weighted sum
 *  over all positions per channel, [N, H, W, C] → [N, 1, 1, C]. Written as multiply + sum, which
 *  differentiates cheaply on every backend; the weight keeps the depth-wise layout [H, W, C, 1]. */
export class GlobalDepthwiseConv extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly channels: number,
    readonly map: [number, number],
    rng: Rng,
  ) {
    super();
    const [h, w] = map;
    // torch fans of a [C, 1, h, w] depth-wise weight: fan_out = C·h·w.
    this.weight = this.registerParameter('weight', kaimingNormal([h, w, channels, 1], channels * h * w, 'relu', 0, rng), { layout: 'depthwise' });
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [h, w] = this.map;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== this.channels) {
      throw new Error(`GlobalDepthwiseConv: expected [N, ${h}, ${w}, ${this.channels}], got [${x.shape}]`);
    }
    return tf.tidy(() => tf.sum(tf.mul(x, tf.reshape(this.weight, [1, h, w, this.channels])), [1, 2], true));
  }
}

const reduced = (c: number, r: number) => Math.max(1, Math.floor(c / r));

/** GCA (spec §1.5): g = DWConv_{H×W}(F); s = σ(W2·ReLU(W1·g)); S = √(2s·mean_t(2s) + 1e-5); F·S. */
export class GcaAttention extends Module implements ChannelAttention {
  readonly gc: Sequential;
  readonly fc1: Sequential;
  readonly fc2: Sequential;

  constructor(readonly o: AttentionOptions) {
    super();
    const c = o.channels;
    const r = reduced(c, o.reduction);
    // Sequential wrappers keep the reference's names: gc.0.weight, fc1.0.weight, fc2.0.weight.
    this.gc = this.registerModule('gc', new Sequential(new GlobalDepthwiseConv(c, o.map, o.rng)));
    this.fc1 = this.registerModule('fc1', new Sequential(conv1x1(c, r, o.rng), relu));
    this.fc2 = this.registerModule('fc2', new Sequential(conv1x1(r, c, o.rng), sigmoid));
  }

  apply(y: tf.Tensor4D, frames: number): AttentionResult {
    return tf.tidy(() => {
      const n = y.shape[0];
      const c = this.o.channels;
      const g = this.gc.forward(y); // [N, 1, 1, C]
      const s = this.fc2.forward(this.fc1.forward(g));
      const scale = gcaScale(tf.reshape(s, [n / frames, frames, c]) as tf.Tensor3D);
      const descriptor = tf.mean(tf.reshape(g, [n / frames, frames, c]), 1) as tf.Tensor2D;
      return { y: tf.mul(y, tf.reshape(scale, [n, 1, 1, c])) as tf.Tensor4D, descriptor };
    });
  }
}

/** SE (Hu et al.): per-frame global average → C/r → ReLU → C → sigmoid, F·s. Bias-free like GCA. */
export class SeAttention extends Module implements ChannelAttention {
  readonly fc1: Sequential;
  readonly fc2: Sequential;

  constructor(readonly o: AttentionOptions) {
    super();
    const r = reduced(o.channels, o.reduction);
    this.fc1 = this.registerModule('fc1', new Sequential(conv1x1(o.channels, r, o.rng), relu));
    this.fc2 = this.registerModule('fc2', new Sequential(conv1x1(r, o.channels, o.rng), sigmoid));
  }

  apply(y: tf.Tensor4D, frames: number): AttentionResult {
    return tf.tidy(() => {
      const n = y.shape[0];
      const c = this.o.channels;
      const g = tf.mean(y, [1, 2], true);
      const s = this.fc2.forward(this.fc1.forward(g));
      const descriptor = tf.mean(tf.reshape(g, [n / frames, frames, c]), 1) as tf.Tensor2D;
      return { y: tf.mul(y, s) as tf.Tensor4D, descriptor };
    });
  }
}

/** CBAM (Woo et al.): channel attention σ(MLP(avg) + MLP(max)), then spatial attention
 *  σ(conv7×7([mean_c, max_c])). The aux descriptor is the frame mean of the average pool. */
export class CbamAttention extends Module implements ChannelAttention {
  readonly mlp: Sequential;
  readonly spatial: Conv2d;

  constructor(readonly o: AttentionOptions) {
    super();
    const r = reduced(o.channels, o.reduction);
    this.mlp = this.registerModule('mlp', new Sequential(conv1x1(o.channels, r, o.rng), relu, conv1x1(r, o.channels, o.rng)));
    this.spatial = this.registerModule('spatial', new Conv2d(2, 1, 7, { padding: 3, bias: false, rng: o.rng, weightInit: convInit }));
  }

  apply(y: tf.Tensor4D, frames: number): AttentionResult {
    return tf.tidy(() => {
      const n = y.shape[0];
      const c = this.o.channels;
      const avg = tf.mean(y, [1, 2], true);
      const ch = tf.sigmoid(tf.add(this.mlp.forward(avg), this.mlp.forward(tf.max(y, [1, 2], true))));
      const yc = tf.mul(y, ch);
      const pooled = tf.concat([tf.mean(yc, 3, true), tf.max(yc, 3, true)], 3);
      const sp = tf.sigmoid(this.spatial.forward(pooled));
      const descriptor = tf.mean(tf.reshape(avg, [n / frames, frames, c]), 1) as tf.Tensor2D;
      return { y: tf.mul(yc, sp) as tf.Tensor4D, descriptor };
    });
  }
}

export const attentions = new Registry<AttentionFactory>('attention block')
  .register({ name: 'gca', description: 'global convolution-attention: whole-map depth-wise conv, 2·sigmoid, clip-mean, square-root scale (IAL paper)', create: (o) => new GcaAttention(o) })
  .register({ name: 'se', description: 'squeeze-and-excitation: global average pool, bottleneck, sigmoid', create: (o) => new SeAttention(o) })
  .register({ name: 'cbam', description: 'CBAM: channel attention (avg + max) then 7x7 spatial attention', create: (o) => new CbamAttention(o) })
  .register({ name: 'none', description: 'no attention: plain residual blocks, no auxiliary classifiers', create: () => undefined });
