// ARBEx's MLP head (spec §3.3): per hidden layer Linear → ReLU → [BatchNorm1d] → Dropout, then
// Linear → classes. Laid out as the reference's `net` Sequential so its weights map by name.
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm1d } from '../../nn/norm.js';
import type { Rng } from '../../util/rng.js';

export interface MlpHeadOptions {
  /** Hidden widths; [] is a single Linear layer. */
  hidden: number[];
  batchNorm: boolean;
  dropout: number;
  rng: Rng;
}

export class MlpHead extends Module {
  readonly net: Sequential;

  constructor(inFeatures: number, classes: number, o: MlpHeadOptions) {
    super();
    this.net = this.registerModule('net', new Sequential());
    let cin = inFeatures;
    for (const h of o.hidden) {
      this.net.append(new Linear(cin, h, { rng: o.rng })).append(relu);
      if (o.batchNorm) this.net.append(new BatchNorm1d(h));
      this.net.append(new Dropout(o.dropout, { rng: o.rng }));
      cin = h;
    }
    this.net.append(new Linear(cin, classes, { rng: o.rng }));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return this.net.forward(x) as tf.Tensor2D;
  }
}
