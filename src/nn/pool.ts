// Pooling with PyTorch's semantics on NHWC tensors.
import { tf } from '../engine/backend.js';
import { pair, type Pair } from './conv.js';
import { maxPoolValid } from './max-pool-op.js';
import { Module, type Forward } from './module.js';

/** nn.MaxPool2d: padding is implicit -inf (never the max), output floor((H + 2p - k)/s) + 1.
 *  Its gradient avoids wasm's broken MaxPoolGrad (see max-pool-op.ts). */
export class MaxPool2d extends Module implements Forward {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernel: Pair, stride?: Pair, padding: Pair = 0) {
    super();
    this.kernel = pair(kernel);
    this.stride = pair(stride ?? kernel);
    this.padding = pair(padding);
    if (this.padding[0] > this.kernel[0] / 2 || this.padding[1] > this.kernel[1] / 2) {
      throw new Error(`MaxPool2d: padding ${this.padding} must be at most half the kernel ${this.kernel} (as in PyTorch)`);
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) throw new Error(`MaxPool2d: expected NHWC input, got [${x.shape}]`);
    const [ph, pw] = this.padding;
    // TF's 'same' pads asymmetrically; pad explicitly with -inf and pool 'valid' instead.
    return tf.tidy(() => maxPoolValid(x as tf.Tensor4D, this.kernel, this.stride, [ph, pw]));
  }
}

/** Mean over H and W: [N, H, W, C] → [N, C]. */
export function globalAvgPool(x: tf.Tensor): tf.Tensor2D {
  if (x.rank !== 4) throw new Error(`globalAvgPool: expected NHWC input, got [${x.shape}]`);
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * nn.AdaptiveAvgPool2d: output [N, oh, ow, C]; bin i covers rows floor(i·H/oh) .. ceil((i+1)·H/oh).
 */
export class AdaptiveAvgPool2d extends Module implements Forward {
  readonly output: [number, number];

  constructor(output: Pair) {
    super();
    this.output = pair(output);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) throw new Error(`AdaptiveAvgPool2d: expected NHWC input, got [${x.shape}]`);
    const [, h, w] = x.shape;
    const [oh, ow] = this.output;
    if (oh === 1 && ow === 1) return tf.mean(x, [1, 2], true);
    if (h % oh === 0 && w % ow === 0) return tf.avgPool(x as tf.Tensor4D, [h / oh, w / ow], [h / oh, w / ow], 'valid');
    return tf.tidy(() => {
      const rows: tf.Tensor[] = [];
      for (let i = 0; i < oh; i++) {
        const r0 = Math.floor((i * h) / oh);
        const r1 = Math.ceil(((i + 1) * h) / oh);
        const cols: tf.Tensor[] = [];
        for (let j = 0; j < ow; j++) {
          const c0 = Math.floor((j * w) / ow);
          const c1 = Math.ceil(((j + 1) * w) / ow);
          cols.push(tf.mean(tf.slice(x, [0, r0, c0, 0], [-1, r1 - r0, c1 - c0, -1]), [1, 2], true));
        }
        rows.push(tf.concat(cols, 2));
      }
      return tf.concat(rows, 1);
    });
  }
}

/** [N, ...] → [N, prod(...)]. NHWC order: a Linear after it sees (h, w, c), not PyTorch's (c, h, w). */
export class Flatten extends Module implements Forward {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.reshape(x, [x.shape[0], -1]);
  }
}
