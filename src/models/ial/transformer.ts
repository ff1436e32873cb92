// The pre-norm transformer of the IAL reference (vit-pytorch style, spec §1.8), used twice: the
// spatial transformer on the static path of DSF and the temporal transformer over frame tokens.
// x + Attn(LN(x)), then x + FF(LN(x)); no final LayerNorm; GELU with the tanh approximation.
// Module names follow the reference (layers.0.0.fn.norm, layers.0.0.fn.fn.to_qkv, ...), so a
// state dict lines up with PyTorch's.
import { tf } from '../../engine/backend.js';
import { geluTanh } from '../../nn/activations.js';
import { Linear } from '../../nn/linear.js';
import { Identity, Module, ModuleList, Sequential, type Forward, type Layer } from '../../nn/module.js';
import { LayerNorm } from '../../nn/norm.js';
import type { Rng } from '../../util/rng.js';

export interface TransformerOptions {
  dim: number;
  depth: number;
  heads: number;
  dimHead: number;
  mlpDim: number;
}

/** Multi-head self-attention: qkv without bias, softmax(q·kᵀ/√d)·v, output projection with bias. */
export class Attention extends Module implements Forward {
  readonly to_qkv: Linear;
  readonly to_out: Sequential;
  private readonly inner: number;

  constructor(
    readonly dim: number,
    readonly heads: number,
    readonly dimHead: number,
    rng: Rng,
  ) {
    super();
    this.inner = heads * dimHead;
    this.to_qkv = this.registerModule('to_qkv', new Linear(dim, 3 * this.inner, { bias: false, rng }));
    // The reference wraps the projection in Sequential(Linear, Dropout(0)): `to_out.0.weight`.
    this.to_out = this.registerModule('to_out', new Sequential(new Linear(this.inner, dim, { rng })));
  }

  /** x: [B, n, dim] → [B, n, dim]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, n] = x.shape;
    const { heads: h, dimHead: d } = this;
    return tf.tidy(() => {
      const qkv = this.to_qkv.forward(x);
      // [B, n, h·d] → [B·h, n, d]
      const split = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [b, n, h, d]), [0, 2, 1, 3]), [b * h, n, d]) as tf.Tensor3D;
      const [q, k, v] = tf.split(qkv, 3, 2).map(split);
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), d ** -0.5));
      const out = tf.reshape(tf.transpose(tf.reshape(tf.matMul(attn, v), [b, h, n, d]), [0, 2, 1, 3]), [b, n, h * d]);
      return this.to_out.forward(out);
    });
  }
}

export class FeedForward extends Module implements Forward {
  readonly net: Sequential;

  constructor(dim: number, hidden: number, rng: Rng) {
    super();
    // Reference: Sequential(Linear, GELU, Dropout(0), Linear): parameters at net.0 and net.3.
    this.net = this.registerModule('net', new Sequential(new Linear(dim, hidden, { rng }), geluTanh, new Identity(), new Linear(hidden, dim, { rng })));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }
}

export class PreNorm extends Module implements Forward {
  readonly norm: LayerNorm;
  readonly fn: Layer;

  constructor(dim: number, fn: Layer) {
    super();
    this.norm = this.registerModule('norm', new LayerNorm(dim));
    this.fn = this.registerModule('fn', fn);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fn.forward(this.norm.forward(x)));
  }
}

/** x + fn(x). (The reference's Residual calls fn twice for its attention map; with dropout 0 that
 *  is the same value, so once here.) */
export class Residual extends Module implements Forward {
  readonly fn: PreNorm;

  constructor(fn: PreNorm) {
    super();
    this.fn = this.registerModule('fn', fn);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(x, this.fn.forward(x)));
  }
}

export class Transformer extends Module implements Forward {
  readonly layers: ModuleList<ModuleList<Residual>>;

  constructor(
    readonly options: TransformerOptions,
    rng: Rng,
  ) {
    super();
    const { dim, depth, heads, dimHead, mlpDim } = options;
    for (const [k, v] of Object.entries(options)) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Transformer: ${k} must be a positive integer, got ${v}`);
    }
    this.layers = this.registerModule('layers', new ModuleList<ModuleList<Residual>>());
    for (let i = 0; i < depth; i++) {
      this.layers.append(
        new ModuleList([new Residual(new PreNorm(dim, new Attention(dim, heads, dimHead, rng))), new Residual(new PreNorm(dim, new FeedForward(dim, mlpDim, rng)))]),
      );
    }
  }

  /** x: [B, n, dim] → [B, n, dim]. */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.options.dim) throw new Error(`Transformer(dim ${this.options.dim}): expected [B, n, ${this.options.dim}], got [${x.shape}]`);
    return tf.tidy(() => {
      let h = x;
      for (const [attn, ff] of this.layers) h = ff.forward(attn.forward(h));
      return h;
    });
  }
}
