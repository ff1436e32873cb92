// Conv2d with PyTorch's arguments on NHWC tensors. Weights are stored in TF layout
// [kh, kw, in, out] (depthwise: [kh, kw, C, multiplier]); torch-layout.ts converts to and from
// PyTorch's [out, in/groups, kh, kw].
import { tf } from '../engine/backend.js';
import { fanInUniform, kaimingUniform } from './init.js';
import { Module, type Forward } from './module.js';
import type { Rng } from '../util/rng.js';
import { defaultRandom } from './random.js';

/** number: PyTorch's symmetric padding; [ph, pw]; [top, bottom, left, right]; or TF's modes. */
type Padding = number | [number, number] | [number, number, number, number] | 'same' | 'valid';
export type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  /** 1, or inChannels for a depthwise convolution (outChannels a multiple of inChannels). */
  groups?: number;
  bias?: boolean;
  rng?: Rng;
  /** Weight initialiser (TF-layout shape, PyTorch fans); default PyTorch's kaiming-uniform(a=√5). */
  weightInit?: (shape: number[], fanIn: number, fanOut: number, rng: Rng) => tf.Tensor;
}

export const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

type TfPad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

/** Our padding spec → what tf.conv2d / tf.maxPool accept. */
function tfPadding(p: Padding): TfPad {
  if (p === 'same' || p === 'valid') return p;
  const [t, b, l, r] = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[0], p[1], p[1]] : p;
  if ([t, b, l, r].some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`invalid padding ${JSON.stringify(p)}: need non-negative integers`);
  if (t === 0 && b === 0 && l === 0 && r === 0) return 'valid';
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

export class Conv2d extends Module implements Forward {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  private readonly pad: TfPad;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernel = pair(kernel);
    this.stride = pair(options.stride ?? 1);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    this.pad = tfPadding(options.padding ?? 0);
    const depthwise = this.groups !== 1;
    if (depthwise && (this.groups !== inChannels || outChannels % inChannels !== 0)) {
      throw new Error(
        `Conv2d(${inChannels}, ${outChannels}): groups=${this.groups} unsupported; use 1, or inChannels with outChannels a multiple of it (depthwise)`,
      );
    }
    if (Math.max(...this.stride) > 1 && Math.max(...this.dilation) > 1) {
      throw new Error(`Conv2d: TF.js cannot combine stride ${this.stride} with dilation ${this.dilation}`);
    }
    const [kh, kw] = this.kernel;
    const rng = options.rng ?? defaultRandom();
    const fanIn = (inChannels / this.groups) * kh * kw;
    const shape = depthwise ? [kh, kw, inChannels, outChannels / inChannels] : [kh, kw, inChannels, outChannels];
    const fanOut = outChannels * kh * kw; // torch: weight.size(0) · receptive field
    const init = options.weightInit ?? ((sh, fi) => kaimingUniform(sh, fi, Math.sqrt(5), rng));
    this.weight = this.registerParameter('weight', init(shape, fanIn, fanOut, rng), {
      layout: depthwise ? 'depthwise' : 'conv2d',
    });
    if (options.bias ?? true) this.bias = this.registerParameter('bias', fanInUniform([outChannels], fanIn, rng));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`Conv2d(${this.inChannels}, ${this.outChannels}): expected NHWC input with ${this.inChannels} channels, got [${x.shape}]`);
    }
    const x4 = x as tf.Tensor4D;
    const w = this.weight as tf.Tensor4D;
    return tf.tidy(() => {
      let y: tf.Tensor;
      if (this.groups !== 1) y = tf.depthwiseConv2d(x4, w, this.stride, this.pad, 'NHWC', this.dilation);
      else if (this.dilation[0] === 1 && this.dilation[1] === 1) y = tf.conv2d(x4, w, this.stride, this.pad);
      // TF.js has no conv2d gradient for dilation > 1: convolve with the zero-dilated kernel.
      else y = tf.conv2d(x4, dilateKernel(w, this.dilation), this.stride, this.pad);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

/** [kh, kw, i, o] → [(kh-1)·dh+1, (kw-1)·dw+1, i, o] with zeros between the taps. */
function dilateKernel(w: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, ci, co]), [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}
