// Textbook loops for conv gradients (NHWC, explicit padding), the reference where the cpu
// backend's kernels cannot serve: non-square filters with padding, depthwise dilation.
import type { HostTensor } from './backends.js';

export interface ConvGeometry {
  stride: [number, number];
  dilation: [number, number];
  /** top, bottom, left, right */
  pad: [number, number, number, number];
}

/** dW[kh,kw,ci,m] for a conv (groups = 1, M = Cout) or a depthwise conv (M = multiplier). */
export function naiveFilterGrad(x: HostTensor, dy: HostTensor, filterShape: number[], g: ConvGeometry, depthwise: boolean): HostTensor {
  const [n, h, w, cin] = x.shape;
  const [, oh, ow, cy] = dy.shape;
  const [kh, kw, , m] = filterShape;
  const out = new Float32Array(kh * kw * cin * m);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * g.stride[0] + p * g.dilation[0] - g.pad[0];
            const c = j * g.stride[1] + q * g.dilation[1] - g.pad[2];
            if (r < 0 || r >= h || c < 0 || c >= w) continue;
            for (let ci = 0; ci < cin; ci++) {
              const xv = x.data[((b * h + r) * w + c) * cin + ci];
              for (let k = 0; k < m; k++) {
                const co = depthwise ? ci * m + k : k;
                out[((p * kw + q) * cin + ci) * m + k] += xv * dy.data[((b * oh + i) * ow + j) * cy + co];
              }
            }
          }
  return { shape: filterShape.slice(), data: out };
}

export function naiveInputGrad(dy: HostTensor, filter: HostTensor, inputShape: number[], g: ConvGeometry, depthwise: boolean): HostTensor {
  const [n, h, w, cin] = inputShape;
  const [, oh, ow, cy] = dy.shape;
  const [kh, kw, , m] = filter.shape;
  const out = new Float32Array(n * h * w * cin);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * g.stride[0] + p * g.dilation[0] - g.pad[0];
            const c = j * g.stride[1] + q * g.dilation[1] - g.pad[2];
            if (r < 0 || r >= h || c < 0 || c >= w) continue;
            for (let ci = 0; ci < cin; ci++)
              for (let k = 0; k < m; k++) {
                const co = depthwise ? ci * m + k : k;
                out[((b * h + r) * w + c) * cin + ci] +=
                  filter.data[((p * kw + q) * cin + ci) * m + k] * dy.data[((b * oh + i) * ow + j) * cy + co];
              }
          }
  return { shape: inputShape.slice(), data: out };
}
