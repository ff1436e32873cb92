// Dynamic-static fusion (NR-DFERNet's DSF, spec §1.7). Dynamic path: differences of the feature
// maps of adjacent frames, f_{t+1} − f_t, through residual blocks (`layer4`, the first strided).
// Static path: frames 0..T−2 through a strided conv-BN-ReLU (`patch_embedding`), the map's
// positions as tokens + a learned positional embedding, a spatial transformer. Output: their sum,
// T−1 maps per clip (static frame t paired with the motion t → t+1).
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { normal } from '../../nn/init.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import type { Rng } from '../../util/rng.js';
import { conv, halve, IalStage } from './blocks.js';
import { Transformer, type TransformerOptions } from './transformer.js';

export interface DsfOptions {
  channels: number;
  /** Input map [H, W] (7×7 at 112 px); the output is halved (4×4). */
  map: [number, number];
  /** Residual blocks of the dynamic path (3 in the reference). */
  blocks: number;
  spatial: Omit<TransformerOptions, 'dim'>;
  rng: Rng;
}

export class DynamicStaticFusion extends Module {
  readonly layer4: IalStage;
  readonly patch_embedding: Sequential;
  readonly pos_transformer: Transformer;
  readonly pos_embedding_pos: tf.Variable;
  /** Output map [H, W]. */
  readonly outMap: [number, number];

  constructor(readonly o: DsfOptions) {
    super();
    const c = o.channels;
    this.outMap = [halve(o.map[0]), halve(o.map[1])];
    const tokens = this.outMap[0] * this.outMap[1];
    this.layer4 = this.registerModule('layer4', new IalStage({ cin: c, cout: c, stride: 2, blocks: o.blocks, map: this.outMap, attention: 'none', reduction: 1, auxClasses: 0, rng: o.rng }));
    this.patch_embedding = this.registerModule('patch_embedding', new Sequential(conv(c, c, 3, 2, o.rng), new BatchNorm2d(c), relu));
    this.pos_transformer = this.registerModule('pos_transformer', new Transformer({ dim: c, ...o.spatial }, o.rng));
    // torch.randn: N(0, 1), one row per token of the static map.
    this.pos_embedding_pos = this.registerParameter('pos_embedding_pos', normal([1, tokens, c], 0, 1, o.rng));
  }

  /** f: [clips·T, H, W, C] → [clips·(T−1), H', W', C]. */
  forward(f: tf.Tensor4D, frames: number): tf.Tensor4D {
    const [n, h, w, c] = f.shape;
    const clips = n / frames;
    const [oh, ow] = this.outMap;
    return tf.tidy(() => {
      const seq = tf.reshape(f, [clips, frames, h, w, c]);
      const next = tf.reshape(tf.slice(seq, [0, 1, 0, 0, 0], [-1, frames - 1, -1, -1, -1]), [clips * (frames - 1), h, w, c]) as tf.Tensor4D;
      const prev = tf.reshape(tf.slice(seq, [0, 0, 0, 0, 0], [-1, frames - 1, -1, -1, -1]), [clips * (frames - 1), h, w, c]) as tf.Tensor4D;
      const dynamic = this.layer4.forward(tf.sub(next, prev) as tf.Tensor4D, frames - 1).y;
      // Token order h·W' + w with channels as features: NHWC's reshape is the reference's
      // view(-1, C, H'W').transpose(1, 2).
      const tokens = tf.add(tf.reshape(this.patch_embedding.forward(prev), [clips * (frames - 1), oh * ow, c]), this.pos_embedding_pos);
      const staticMap = tf.reshape(this.pos_transformer.forward(tokens), [clips * (frames - 1), oh, ow, c]);
      return tf.add(staticMap, dynamic) as tf.Tensor4D;
    });
  }
}
