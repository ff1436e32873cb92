// Gradients of conv2d and depthwise conv2d written as forward convolutions, which the wasm
// backend runs on XNNPACK. The wasm backend has no Conv2DBackpropFilter and no depthwise
// gradients, and its own Conv2DBackpropInput is a slow direct loop (engine-notes.md).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { composedKernel, cropForPadding, dilateSpatial, flipSpatial, selectTaps, type Scope } from './compose.js';

type Conv2DInfo = backend_util.Conv2DInfo;
type PadAttr = 'valid' | 'same' | number | backend_util.ExplicitPadding;

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: NamedAttrMap,
  depthwise: boolean,
): Conv2DInfo {
  const format = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'channelsLast') {
    throw new Error(`conv gradient on wasm: only NHWC data is supported, got ${format}`);
  }
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as PadAttr,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

/**
 * The padded input rows/cols that a conv actually reads, as (crop or pad) amounts: a forward conv
 * with stride s reads (out-1)*s + (k-1)*d + 1 positions of the padded input.
 */
function usedInputWindow(info: Conv2DInfo): [number, number, number, number] {
  const needH = (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1;
  const needW = (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1;
  const { top, left } = info.padInfo;
  return [top, needH - info.inHeight - top, left, needW - info.inWidth - left];
}

/**
 * Padding that turns "correlate the stride-dilated output gradient with the flipped filter" into
 * the input gradient: top = (k-1)d - pad_top, bottom = in + pad_top - 1 - (out-1)s.
 */
function inputGradPadding(info: Conv2DInfo): [number, number, number, number] {
  const kh = (info.filterHeight - 1) * info.dilationHeight;
  const kw = (info.filterWidth - 1) * info.dilationWidth;
  const { top, left } = info.padInfo;
  return [
    kh - top,
    info.inHeight + top - 1 - (info.outHeight - 1) * info.strideHeight,
    kw - left,
    info.inWidth + left - 1 - (info.outWidth - 1) * info.strideWidth,
  ];
}

function explicit(p: [number, number, number, number]): backend_util.ExplicitPadding {
  return [
    [0, 0],
    [p[0], p[1]],
    [p[2], p[3]],
    [0, 0],
  ];
}

// ---- Conv2D ------------------------------------------------------------------------------------

/** dW[kh,kw,ci,co] = Σ x_pad[n, oh·s+kh, ow·s+kw, ci]·dy[n,oh,ow,co]: a conv whose batch is Cin,
 *  whose channels are N, and whose filter is dy, with dilation = the forward stride. */
function conv2dFilterGrad(scope: Scope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const [kh, kw, cin, cout] = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  const [n, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  if (kh === 1 && kw === 1 && info.padInfo.top === 0 && info.padInfo.left === 0) {
    // 1x1 filter: a plain matmul of the (strided) input with dy over all N·OH·OW positions.
    let xs = x;
    if (info.strideHeight > 1 || info.strideWidth > 1) {
      xs = scope.run('StridedSlice', { x }, {
        begin: [0, 0, 0, 0],
        end: [n, (oh - 1) * info.strideHeight + 1, (ow - 1) * info.strideWidth + 1, cin],
        strides: [1, info.strideHeight, info.strideWidth, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      });
    }
    const a = scope.reshape(xs, [1, n * oh * ow, cin]);
    const b = scope.reshape(dy, [1, n * oh * ow, cout]);
    const g = scope.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false });
    return scope.reshape(g, [1, 1, cin, cout]);
  }
  const { x: xc, pads } = cropForPadding(scope, x, usedInputWindow(info));
  const xp = scope.pad(xc, [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]]);
  if (useIm2col(info)) {
    return filterGradIm2col(scope, xp, dy, info);
  }
  const xt = scope.transpose(xp, [3, 1, 2, 0]); // [Cin, Hp, Wp, N]
  const dyt = scope.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Cout]
  const g = scope.run('Conv2D', { x: xt, filter: dyt }, {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: 'valid',
    dataFormat: 'NHWC',
  }); // [Cin, KH, KW, Cout]
  return scope.transpose(g, [1, 2, 0, 3]);
}

/** Filter-gradient form: 'auto' picks per shape; 'im2col' and 'conv' force one (benchmarks). */
export type FilterGradMode = 'auto' | 'im2col' | 'conv';
let filterGradMode: FilterGradMode = (process.env.FERKIT_FILTER_GRAD as FilterGradMode | undefined) ?? 'auto';
export function setFilterGradMode(mode: FilterGradMode): void {
  filterGradMode = mode;
}

/** Measured (conv-grads bench, batch 32 at 48x48): im2col wins only for very few input channels
 *  (1→16: 8.8 ms vs 21 ms); from 16 channels up the conv form is 1.1-12x faster. */
function useIm2col(info: Conv2DInfo): boolean {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (filterGradMode !== 'auto') return filterGradMode === 'im2col';
  return info.inChannels <= 4 && info.strideHeight === 1 && info.strideWidth === 1;
}

/**
 * dW as one matmul: the KH·KW shifted (strided) views of the padded input, side by side, are the
 * im2col matrix [N·OH·OW, KH·KW·Cin]; its transpose times dy [N·OH·OW, Cout] is dW. XNNPACK's
 * matmul runs this far faster than a conv whose "filter" is the whole output gradient, which is
 * what the conv form becomes (tiny output, huge kernel).
 */
function filterGradIm2col(scope: Scope, xp: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const [kh, kw, cin, cout] = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  const [n, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  // Channels first, so each tap's view is already a [Cin, N·OH·OW] block of the transposed
  // im2col matrix and the product needs no transposed operand (wasm's slow path).
  const xt = scope.transpose(xp, [3, 0, 1, 2]); // [Cin, N, Hp, Wp]
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(
        sh === 1 && sw === 1
          ? scope.slice(xt, [0, 0, i, j], [cin, n, oh, ow])
          : scope.run('StridedSlice', { x: xt }, {
              begin: [0, 0, i, j],
              end: [cin, n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1],
              strides: [1, 1, sh, sw],
              beginMask: 0,
              endMask: 0,
              ellipsisMask: 0,
              newAxisMask: 0,
              shrinkAxisMask: 0,
            }),
      );
    }
  }
  const cols = taps.length === 1 ? taps[0] : scope.run('Concat', taps, { axis: 0 }); // [KH·KW·Cin, N, OH, OW]
  const a = scope.reshape(cols, [1, kh * kw * cin, n * oh * ow]);
  const b = scope.reshape(dy, [1, n * oh * ow, cout]);
  const g = scope.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  return scope.reshape(g, [kh, kw, cin, cout]);
}

/** dx = dy correlated with the spatially flipped, in/out-swapped filter (stride 1). */
function conv2dInputGradStride1(scope: Scope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { x: dyc, pads } = cropForPadding(scope, dy, inputGradPadding(info));
  const swapped = scope.transpose(flipSpatial(scope, filter), [0, 1, 3, 2]); // [KH, KW, Cout, Cin]
  return scope.run('Conv2D', { x: dyc, filter: swapped }, {
    strides: [1, 1],
    dilations: [info.dilationHeight, info.dilationWidth],
    pad: explicit(pads),
    dataFormat: 'NHWC',
  });
}

/**
 * Strided input gradient by phases: the input rows with i ≡ r (mod s) receive only the filter
 * taps kh ≡ (r + pad_top) (mod s), so each of the s² phases is a stride-1 correlation of dy with a
 * sub-filter, and the phases interleave into dx. This does the forward conv's work, where
 * correlating a zero-dilated dy would multiply s² times as many zeros.
 */
function conv2dInputGradPhases(scope: Scope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [n, cin] = [info.batchSize, info.inChannels];
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [oh, ow] = [info.outHeight, info.outWidth];
  const A = Math.ceil(info.inHeight / sh);
  const B = Math.ceil(info.inWidth / sw);
  const phase = (r: number, s: number, k: number, padBefore: number, outLen: number, dyLen: number) => {
    const c = (((r + padBefore) % s) + s) % s; // first tap of this phase
    const q = Math.floor((r + padBefore) / s);
    const taps = c < k ? Math.ceil((k - c) / s) : 0;
    // Correlating dy (length dyLen) with `taps` taps to give outLen outputs reads dy[a + q - (taps-1) + j].
    return { c, taps, before: taps - 1 - q, after: outLen - dyLen + q };
  };
  const rows: TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const ph = phase(rh, sh, kh, info.padInfo.top, A, oh);
    const cols: TensorInfo[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const pw = phase(rw, sw, kw, info.padInfo.left, B, ow);
      if (ph.taps === 0 || pw.taps === 0) {
        cols.push(scope.run('Fill', {}, { shape: [n, A, B, cin], value: 0, dtype: 'float32' }));
        continue;
      }
      // Taps c, c+s, ... of this phase, in reverse order (the correlation's flip).
      const tapsOf = (c: number, t: number, s: number) => Array.from({ length: t }, (_, j) => c + (t - 1 - j) * s);
      const sub = selectTaps(scope, filter, tapsOf(ph.c, ph.taps, sh), tapsOf(pw.c, pw.taps, sw));
      const swapped = scope.transpose(sub, [0, 1, 3, 2]); // [taps_h, taps_w, Cout, Cin]
      const { x: dyc, pads } = cropForPadding(scope, dy, [ph.before, ph.after, pw.before, pw.after]);
      cols.push(scope.run('Conv2D', { x: dyc, filter: swapped }, { strides: [1, 1], dilations: [1, 1], pad: explicit(pads), dataFormat: 'NHWC' }));
    }
    rows.push(scope.run('Pack', cols, { axis: 3 })); // [N, A, B, sw, Cin]
  }
  const packed = scope.run('Pack', rows, { axis: 2 }); // [N, A, sh, B, sw, Cin]
  const full = scope.reshape(packed, [n, A * sh, B * sw, cin]);
  return scope.slice(full, [0, 0, 0, 0], [n, info.inHeight, info.inWidth, cin]);
}

function conv2dInputGrad(scope: Scope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  if (info.strideHeight === 1 && info.strideWidth === 1) return conv2dInputGradStride1(scope, dy, filter, info);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    const dyu = dilateSpatial(scope, dy, info.strideHeight, info.strideWidth);
    return conv2dInputGradStride1(scope, dyu, filter, { ...info, outHeight: dyu.shape[1], outWidth: dyu.shape[2], strideHeight: 1, strideWidth: 1 });
  }
  return conv2dInputGradPhases(scope, dy, filter, info);
}

// ---- Depthwise ---------------------------------------------------------------------------------

/** Depthwise filter gradient: every (channel, image) pair becomes a channel of one depthwise conv
 *  whose filter is dy, then the images are summed. */
function depthwiseFilterGrad(scope: Scope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const [kh, kw, c] = [info.filterHeight, info.filterWidth, info.inChannels];
  const m = info.outChannels / c;
  const [n, oh, ow] = [info.batchSize, info.outHeight, info.outWidth];
  let xm = x;
  if (m > 1) {
    // Each of the M outputs of channel c reads input channel c: repeat it M times.
    const x5 = scope.reshape(x, [n, info.inHeight, info.inWidth, c, 1]);
    const tiled = scope.run('Tile', { x: x5 }, { reps: [1, 1, 1, 1, m] });
    xm = scope.reshape(tiled, [n, info.inHeight, info.inWidth, c * m]);
  }
  const cm = c * m;
  const { x: xc, pads } = cropForPadding(scope, xm, usedInputWindow(info));
  const xp = scope.pad(xc, [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]]);
  const [hp, wp] = [xp.shape[1], xp.shape[2]];
  const xt = scope.reshape(scope.transpose(xp, [1, 2, 3, 0]), [1, hp, wp, cm * n]);
  const dyt = scope.reshape(scope.transpose(dy, [1, 2, 3, 0]), [oh, ow, cm * n, 1]);
  const g = scope.run('DepthwiseConv2dNative', { x: xt, filter: dyt }, {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: 'valid',
    dataFormat: 'NHWC',
  }); // [1, KH, KW, CM·N]
  const summed = scope.sum(scope.reshape(g, [kh, kw, cm, n]), [3]);
  return scope.reshape(summed, [kh, kw, c, m]);
}

function depthwiseInputGrad(scope: Scope, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const [kh, kw, c] = [info.filterHeight, info.filterWidth, info.inChannels];
  const m = info.outChannels / c;
  const dyu = dilateSpatial(scope, dy, info.strideHeight, info.strideWidth);
  const { x: dyc, pads } = cropForPadding(scope, dyu, inputGradPadding(info));
  const flipped = scope.reshape(flipSpatial(scope, filter), [kh, kw, c * m, 1]);
  const g = scope.run('DepthwiseConv2dNative', { x: dyc, filter: flipped }, {
    strides: [1, 1],
    dilations: [info.dilationHeight, info.dilationWidth],
    pad: explicit(pads),
    dataFormat: 'NHWC',
  }); // [N, H, W, C·M]
  if (m === 1) return g;
  return scope.sum(scope.reshape(g, [info.batchSize, info.inHeight, info.inWidth, c, m]), [4]);
}

// ---- Kernel configs ----------------------------------------------------------------------------

export function convGradKernels(backendName: string): KernelConfig[] {
  return [
    {
      kernelName: tf.Conv2DBackpropFilter,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, { x, dy }, attrs) =>
        conv2dFilterGrad(scope, x, dy, convInfo(x.shape, attrs.filterShape as number[], attrs, false)),
      ),
    },
    {
      kernelName: tf.Conv2DBackpropInput,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, { dy, filter }, attrs) =>
        conv2dInputGrad(scope, dy, filter, convInfo(attrs.inputShape as number[], filter.shape, attrs, false)),
      ),
    },
    {
      kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, { x, dy }, attrs) =>
        depthwiseFilterGrad(scope, x, dy, convInfo(x.shape, attrs.filterShape as number[], attrs, true)),
      ),
    },
    {
      kernelName: tf.DepthwiseConv2dNativeBackpropInput,
      backendName,
      kernelFunc: composedKernel(backendName, (scope, { dy, filter }, attrs) =>
        depthwiseInputGrad(scope, dy, filter, convInfo(attrs.inputShape as number[], filter.shape, attrs, true)),
      ),
    },
  ];
}
