// Textbook loops for conv gradients (NHWC, explicit padding), the reference where the cpu
// backend's kernels cannot serve: non-square filters with padding, depthwise dilation.
import type { HostTensor } from './backends.js';

export interface ConvGeometry {
  stride: [number, number];
  dilation: [number, number];
  /** top, bottom, left, right */
  pad: [number, number, number, number];
}

/** Calls `visit(xIndexBase, dyIndexBase, tapIndexBase)` for every (output position, filter tap)
 *  pair that reads an input pixel inside the image; bases are offsets of channel 0. */
function forEachTap(
  xShape: number[],
  dyShape: number[],
  filterShape: number[],
  g: ConvGeometry,
  visit: (xBase: number, dyBase: number, tapBase: number) => void,
): void {
  const [n, h, w, cin] = xShape;
  const [, oh, ow, cy] = dyShape;
  const [kh, kw, , m] = filterShape;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * g.stride[0] + p * g.dilation[0] - g.pad[0];
            const c = j * g.stride[1] + q * g.dilation[1] - g.pad[2];
            if (r < 0 || r >= h || c < 0 || c >= w) continue;
            visit(((b * h + r) * w + c) * cin, ((b * oh + i) * ow + j) * cy, (p * kw + q) * cin * m);
          }
}

/** dW[kh,kw,ci,m] for a conv (groups = 1, M = Cout) or a depthwise conv (M = multiplier). */
export function naiveFilterGrad(x: HostTensor, dy: HostTensor, filterShape: number[], g: ConvGeometry, depthwise: boolean): HostTensor {
  const cin = x.shape[3];
  const m = filterShape[3];
  const out = new Float32Array(filterShape.reduce((a, b) => a * b, 1));
  forEachTap(x.shape, dy.shape, filterShape, g, (xb, db, tb) => {
    for (let ci = 0; ci < cin; ci++)
      for (let k = 0; k < m; k++) out[tb + ci * m + k] += x.data[xb + ci] * dy.data[db + (depthwise ? ci * m + k : k)];
  });
  return { shape: filterShape.slice(), data: out };
}

export function naiveInputGrad(dy: HostTensor, filter: HostTensor, inputShape: number[], g: ConvGeometry, depthwise: boolean): HostTensor {
  const cin = inputShape[3];
  const m = filter.shape[3];
  const out = new Float32Array(inputShape.reduce((a, b) => a * b, 1));
  forEachTap(inputShape, dy.shape, filter.shape, g, (xb, db, tb) => {
    for (let ci = 0; ci < cin; ci++)
      for (let k = 0; k < m; k++) out[xb + ci] += filter.data[tb + ci * m + k] * dy.data[db + (depthwise ? ci * m + k : k)];
  });
  return { shape: inputShape.slice(), data: out };
}
