// Max pooling whose gradient does not use the backend's MaxPoolGrad: TF.js 4.22's wasm
// MaxPoolGrad drops gradient (the last output positions get none; measured against the cpu
// backend and PyTorch), which would silently corrupt training. The forward stays tf.maxPool;
// the backward routes each output's gradient to the first maximum of its window in scan order,
// as PyTorch does (it matters on ties, e.g. all-zero windows after ReLU).
import { tf } from '../engine/backend.js';

/** Rows/cols p, p+s, …, p+s·(o-1) of x ([N, H, W, C]), by reshape and slice (both differentiable
 *  on every backend); x must have at least p + s·o rows/cols. */
function window(x: tf.Tensor4D, p: number, q: number, s: number, oh: number, ow: number): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const block = tf.slice(x, [0, p, q, 0], [n, s * oh, s * ow, c]);
  const picked = tf.slice(tf.reshape(block, [n, oh, s, ow, s, c]), [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]);
  return tf.reshape(picked, [n, oh, ow, c]);
}

/** Inverse of `window`: a [N, H, W, C] tensor, zero except v at rows p + s·i, cols q + s·j. */
function place(v: tf.Tensor4D, p: number, q: number, s: number, h: number, w: number): tf.Tensor4D {
  const [n, oh, ow, c] = v.shape;
  const spread = tf.pad(tf.reshape(v, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
  return tf.pad(tf.reshape(spread, [n, oh * s, ow * s, c]), [[0, 0], [p, h - p - oh * s], [q, w - q - ow * s], [0, 0]]);
}

/** 'valid' max pooling of an already padded NHWC tensor (equal strides). */
export function maxPoolValid(x: tf.Tensor4D, kernel: [number, number], stride: [number, number]): tf.Tensor4D {
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  if (sh !== sw) throw new Error(`maxPool: strides ${stride} differ; only equal strides are supported`);
  const f = tf.customGrad(((xIn: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const y = tf.maxPool(xIn, kernel, stride, 'valid');
    save([xIn, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [n, h, w, c] = xs.shape;
        const [, oh, ow] = ys.shape;
        // extend with -inf so every window offset's reshape fits
        const eh = Math.max(0, kh - 1 + sh * oh - h);
        const ew = Math.max(0, kw - 1 + sw * ow - w);
        const xe = eh || ew ? (tf.pad(xs, [[0, 0], [0, eh], [0, ew], [0, 0]], -Infinity) as tf.Tensor4D) : xs;
        let taken: tf.Tensor = tf.zeros([n, oh, ow, c]);
        let dx: tf.Tensor = tf.zeros(xe.shape);
        for (let p = 0; p < kh; p++) {
          for (let q = 0; q < kw; q++) {
            const hit = tf.mul(tf.cast(tf.equal(window(xe, p, q, sh, oh, ow), ys), 'float32'), tf.sub(1, taken));
            taken = tf.add(taken, hit);
            dx = tf.add(dx, place(tf.mul(dy, hit) as tf.Tensor4D, p, q, sh, h + eh, w + ew));
          }
        }
        return [tf.slice(dx, [0, 0, 0, 0], [n, h, w, c])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}
