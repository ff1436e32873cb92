// Max pooling whose gradient does not use the backend's MaxPoolGrad: TF.js 4.22's wasm
// MaxPoolGrad drops gradient (the last output positions get none; measured against the cpu
// backend and PyTorch), which would silently corrupt training. The forward stays tf.maxPool;
// the backward routes each output's gradient to the first maximum of its window in scan order,
// as PyTorch does (it matters on ties, e.g. all-zero windows after ReLU).
import { tf } from '../engine/backend.js';
import { NATIVE_MAX_POOL_GRAD } from '../engine/native.js';

/** One-hot depthwise filter [kh, kw, C, kh·kw]: output channel c·kh·kw + t reads window tap t. */
function tapFilter(kh: number, kw: number, c: number): tf.Tensor4D {
  const taps = kh * kw;
  const data = new Float32Array(kh * kw * c * taps);
  for (let t = 0; t < taps; t++) for (let ch = 0; ch < c; ch++) data[(t * c + ch) * taps + t] = 1;
  return tf.tensor4d(data, [kh, kw, c, taps]);
}

/** 'valid' max pooling of an NHWC tensor padded with -inf by `padding` [ph, pw] on each side
 *  (inside, so the native gradient writes the unpadded gradient directly: the gradient of a
 *  separate pad is a strided slice, slow on wasm). */
export function maxPoolValid(x: tf.Tensor4D, kernel: [number, number], stride: [number, number], padding: [number, number] = [0, 0]): tf.Tensor4D {
  const [kh, kw] = kernel;
  const [ph, pw] = padding;
  const taps = kh * kw;
  const f = tf.customGrad(((xIn: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const xp = ph || pw ? (tf.pad(xIn, [[0, 0], [ph, ph], [pw, pw], [0, 0]], -Infinity) as tf.Tensor4D) : xIn;
    const y = tf.maxPool(xp, kernel, stride, 'valid');
    save([xp, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
        // The native kernel (when built) does the same routing in one pass.
        if (tf.getKernel(NATIVE_MAX_POOL_GRAD, tf.getBackend())) {
          return [tf.engine().runKernel(NATIVE_MAX_POOL_GRAD, { x: xs, dy }, { kernel, stride, padding } as never) as tf.Tensor4D];
        }
        const [n, h, w, c] = xs.shape;
        const [, oh, ow] = ys.shape;
        // Every window's taps as channels, by a depthwise conv with one-hot filters (XNNPACK-fast;
        // strided slicing is slow on wasm). -inf padding becomes finite so 0·x stays 0.
        const filter = tapFilter(kh, kw, c);
        const finite = tf.maximum(xs, -3e38) as tf.Tensor4D;
        const values = tf.reshape(tf.depthwiseConv2d(finite, filter, stride, 'valid'), [n, oh, ow, c, taps]);
        // first maximum in scan order (argMax keeps the first of ties); wasm's broadcasting
        // Equal is very slow, argMax + oneHot is not
        const first = tf.oneHot(tf.argMax(values, 4), taps, 1, 0, 'float32');
        const routed = tf.reshape(tf.mul(first, tf.reshape(dy, [n, oh, ow, c, 1])), [n, oh, ow, c * taps]);
        // scatter back: the input gradient of that same depthwise conv
        const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: routed, filter }, {
          strides: stride,
          pad: 'valid',
          dilations: [1, 1],
          inputShape: [n, h, w, c],
        }) as tf.Tensor4D;
        return [ph || pw ? tf.slice(dx, [0, ph, pw, 0], [n, h - 2 * ph, w - 2 * pw, c]) : dx];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}
