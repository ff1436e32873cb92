// ARBEx's attentive correction (spec §3.1 step 5): q, k, v = Linear(e → C·Ka) each, then
// multi-head attention (PyTorch nn.MultiheadAttention: packed in-projection, out-projection),
// softmax over C·Ka and the sum over each class's Ka slots. The reference feeds 2-D tensors, so
// its attention runs across the samples of the batch ('batch' mode); 'sample' mode lets each
// sample attend only to itself, which is what the reference computes for a batch of one.
import { tf } from '../../engine/backend.js';
import { xavierUniform } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';

export type AttentionMode = 'batch' | 'sample';
export const ATTENTION_MODES: readonly AttentionMode[] = ['batch', 'sample'];

/** nn.MultiheadAttention over a sequence [L, E] (no batch axis), PyTorch's parameter names. */
export class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;

  constructor(
    readonly embedDim: number,
    readonly heads: number,
    rng: Rng,
  ) {
    super();
    if (!(Number.isInteger(heads) && heads > 0 && embedDim % heads === 0)) {
      throw new Error(`MultiheadAttention: ${heads} heads do not divide the ${embedDim}-d embedding`);
    }
    // PyTorch: xavier_uniform on the packed [3E, E] weight, zero biases (stored here as [E, 3E]).
    this.inProjWeight = this.registerParameter('in_proj_weight', xavierUniform([embedDim, 3 * embedDim], embedDim, 3 * embedDim, 1, rng), { layout: 'linear' });
    this.inProjBias = this.registerParameter('in_proj_bias', tf.zeros([3 * embedDim]));
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { rng }));
    tf.tidy(() => this.outProj.bias!.assign(tf.zerosLike(this.outProj.bias!)));
  }

  forward(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, mode: AttentionMode): tf.Tensor2D {
    const e = this.embedDim;
    return tf.tidy(() => {
      const proj = (x: tf.Tensor2D, i: number) =>
        tf.add(tf.matMul(x, tf.slice(this.inProjWeight, [0, i * e], [e, e]) as tf.Tensor2D), tf.slice(this.inProjBias, [i * e], [e])) as tf.Tensor2D;
      const vp = proj(v, 2);
      // Softmax over a single key is 1: each sample's output is its own projected value.
      if (mode === 'sample') return this.outProj.forward(vp) as tf.Tensor2D;
      const n = q.shape[0];
      const hd = e / this.heads;
      const split = (x: tf.Tensor2D) => tf.transpose(tf.reshape(x, [n, this.heads, hd]), [1, 0, 2]) as tf.Tensor3D;
      const scores = tf.matMul(split(tf.mul(proj(q, 0), 1 / Math.sqrt(hd)) as tf.Tensor2D), split(proj(k, 1)), false, true);
      const mixed = tf.matMul(tf.softmax(scores), split(vp));
      return this.outProj.forward(tf.reshape(tf.transpose(mixed, [1, 0, 2]), [n, e])) as tf.Tensor2D;
    });
  }
}

/** The reference's SelfAttn: embeddings [N, D] → a distribution over classes [N, C]. */
export class SelfAttention extends Module {
  readonly Q: Linear;
  readonly K: Linear;
  readonly V: Linear;
  readonly attnFn: MultiheadAttention;

  constructor(
    dim: number,
    readonly classes: number,
    readonly slots: number,
    heads: number,
    readonly mode: AttentionMode,
    rng: Rng,
  ) {
    super();
    const out = classes * slots;
    this.Q = this.registerModule('Q', new Linear(dim, out, { rng }));
    this.K = this.registerModule('K', new Linear(dim, out, { rng }));
    this.V = this.registerModule('V', new Linear(dim, out, { rng }));
    this.attnFn = this.registerModule('attn_fn', new MultiheadAttention(out, heads, rng));
  }

  forward(e: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const o = this.attnFn.forward(this.Q.forward(e) as tf.Tensor2D, this.K.forward(e) as tf.Tensor2D, this.V.forward(e) as tf.Tensor2D, this.mode);
      return tf.sum(tf.reshape(tf.softmax(o), [-1, this.classes, this.slots]), -1) as tf.Tensor2D;
    });
  }
}
