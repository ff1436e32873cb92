// The residual blocks of the IAL network (spec §1.4): conv3×3(s) → BN → ReLU → conv3×3 → BN →
// [attention rescale] → + identity → ReLU, bias-free convs with the reference's kaiming-normal
// (fan_out) init. With an attention block that has a descriptor, the block also carries the
// auxiliary classifier AUX_fc = Linear(C→2C) → Linear(2C→K), both bias-free, no activation (§1.6).
import { tf } from '../../engine/backend.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import type { Rng } from '../../util/rng.js';
import { attentions, type ChannelAttention } from './attention.js';

const convInit = (shape: number[], _fanIn: number, fanOut: number, rng: Rng) => kaimingNormal(shape, fanOut, 'relu', 0, rng);

export function conv(cin: number, cout: number, k: number, stride: number, rng: Rng): Conv2d {
  return new Conv2d(cin, cout, k, { stride, padding: Math.floor(k / 2), bias: false, rng, weightInit: convInit });
}

/** Output side of a k=3, s=2, p=1 conv or max-pool (PyTorch's floor rule). */
export const halve = (n: number): number => Math.floor((n - 1) / 2) + 1;

/** AUX_fc: Linear(C→2C) → Linear(2C→K), both bias-free, no activation (§1.6). */
function auxHead(c: number, classes: number, rng: Rng): Sequential {
  return new Sequential(new Linear(c, 2 * c, { bias: false, rng }), new Linear(2 * c, classes, { bias: false, rng }));
}

export interface BlockOptions {
  cin: number;
  cout: number;
  stride: number;
  /** Spatial size [H, W] of the block's output (GCA's kernel covers it). */
  map: [number, number];
  /** Attention registry name ('none' for a plain block). */
  attention: string;
  reduction: number;
  /** Classes of the auxiliary classifier; 0 leaves it out. */
  auxClasses: number;
  rng: Rng;
}

export interface BlockOutput {
  y: tf.Tensor4D;
  /** [clips, K] auxiliary logits (only blocks with an aux head). */
  aux?: tf.Tensor2D;
}

export class IalBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample?: Sequential;
  readonly attn?: ChannelAttention;
  readonly AUX_fc?: Sequential;

  constructor(o: BlockOptions) {
    super();
    this.conv1 = this.registerModule('conv1', conv(o.cin, o.cout, 3, o.stride, o.rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(o.cout));
    this.conv2 = this.registerModule('conv2', conv(o.cout, o.cout, 3, 1, o.rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(o.cout));
    if (o.stride !== 1 || o.cin !== o.cout) {
      this.downsample = this.registerModule('downsample', new Sequential(conv(o.cin, o.cout, 1, o.stride, o.rng), new BatchNorm2d(o.cout)));
    }
    const attn = attentions.get(o.attention).create({ channels: o.cout, map: o.map, reduction: o.reduction, rng: o.rng });
    if (attn) {
      this.attn = this.registerModule('attn', attn);
      if (o.auxClasses > 0) this.AUX_fc = this.registerModule('AUX_fc', auxHead(o.cout, o.auxClasses, o.rng));
    }
  }

  /** x: [clips·frames, H, W, C]. */
  forward(x: tf.Tensor4D, frames: number): BlockOutput {
    let aux: tf.Tensor2D | undefined;
    const y = tf.tidy(() => {
      let out = this.bn2.forward(this.conv2.forward(this.bn1.forwardRelu(this.conv1.forward(x)))) as tf.Tensor4D;
      if (this.attn) {
        const a = this.attn.apply(out, frames);
        out = a.y;
        if (a.descriptor && this.AUX_fc) aux = tf.keep(this.AUX_fc.forward(a.descriptor) as tf.Tensor2D);
      }
      return tf.relu(tf.add(out, this.downsample ? this.downsample.forward(x) : x)) as tf.Tensor4D;
    });
    return { y, aux };
  }
}

/** A stage: blocks in sequence, the first with the stride; the aux logits of its last block. */
export class IalStage extends Module {
  private readonly blocks: IalBlock[] = [];

  constructor(o: BlockOptions & { blocks: number }) {
    super();
    for (let i = 0; i < o.blocks; i++) {
      const block = new IalBlock({ ...o, cin: i === 0 ? o.cin : o.cout, stride: i === 0 ? o.stride : 1 });
      this.registerModule(String(i), block);
      this.blocks.push(block);
    }
  }

  forward(x: tf.Tensor4D, frames: number): BlockOutput {
    let h = x;
    let aux: tf.Tensor2D | undefined;
    for (const b of this.blocks) {
      const out = b.forward(h, frames);
      if (h !== x) h.dispose();
      if (out.aux) {
        aux?.dispose();
        aux = out.aux;
      }
      h = out.y;
    }
    return { y: h, aux };
  }
}

/**
 * The attention block (and its aux head) on a whole stage's output, for a pretrained frame encoder
 * (face-resnet). The reference's stages are single blocks whose GCA rescales the residual branch
 * just before the skip, so GCA ends each attended stage; dlib's stages are 3-4 pretrained blocks,
 * and rescaling the output of a stage's last block is the equivalent that leaves every pretrained
 * block as dlib trained it (its weights load, freeze and export unchanged). The one difference:
 * the scale applies after the last block's skip and ReLU rather than to its branch alone.
 */
export class StageAttention extends Module {
  readonly attn: ChannelAttention;
  readonly AUX_fc?: Sequential;

  constructor(o: Omit<BlockOptions, 'cin' | 'stride'>) {
    super();
    const attn = attentions.get(o.attention).create({ channels: o.cout, map: o.map, reduction: o.reduction, rng: o.rng });
    if (!attn) throw new Error(`StageAttention: attention "${o.attention}" has no block`);
    this.attn = this.registerModule('attn', attn);
    if (o.auxClasses > 0) this.AUX_fc = this.registerModule('AUX_fc', auxHead(o.cout, o.auxClasses, o.rng));
  }

  /** x: a stage's output [clips·frames, H, W, C]. */
  forward(x: tf.Tensor4D, frames: number): BlockOutput {
    let aux: tf.Tensor2D | undefined;
    const y = tf.tidy(() => {
      const a = this.attn.apply(x, frames);
      if (a.descriptor && this.AUX_fc) aux = tf.keep(this.AUX_fc.forward(a.descriptor) as tf.Tensor2D);
      return a.y;
    });
    return { y, aux };
  }
}
