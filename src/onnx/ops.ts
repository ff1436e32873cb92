// ONNX nodes for the operations ferkit's modules compute, with TF.js's semantics and shape
// arithmetic: what the per-class emitters are built from.
import { toTorchLayout } from '../nn/torch-layout.js';
import type { Conv2d } from '../nn/conv.js';
import type { BatchNorm } from '../nn/norm.js';
import type { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import type { ExportContext } from './emitters.js';
import type { Value } from './graph.js';

type TfPad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function need4d(what: string, x: Value): void {
  if (x.shape.length !== 4) throw new Error(`ONNX export: ${what} expects a 4-D (image) value, got shape [${x.shape}]`);
}

export function relu(ctx: ExportContext, x: Value, base = 'relu'): Value {
  return ctx.g.node('Relu', [x.name], x.shape, {}, base);
}

export function add(ctx: ExportContext, a: Value, b: Value, base = 'add'): Value {
  return ctx.g.node('Add', [a.name, b.name], a.shape, {}, base);
}

/** NCHW [N, C, H, W] → [N, C] (TF.js: mean over H and W of NHWC). */
export function globalAvgPool(ctx: ExportContext, x: Value, base = 'gap'): Value {
  need4d('global average pooling', x);
  const [n, c] = x.shape;
  const pooled = ctx.g.node('GlobalAveragePool', [x.name], [n, c, 1, 1], {}, base);
  return ctx.g.node('Flatten', [pooled.name], [n, c], { axis: 1 }, `${base}/flat`);
}

/** Max pooling with -inf padding, floor output size (nn.MaxPool2d). */
export function maxPool(ctx: ExportContext, x: Value, kernel: [number, number], stride: [number, number], padding: [number, number], base: string): Value {
  need4d('MaxPool2d', x);
  const [n, c, h, w] = x.shape;
  const [ph, pw] = padding;
  const out = [n, c, Math.floor((h + 2 * ph - kernel[0]) / stride[0]) + 1, Math.floor((w + 2 * pw - kernel[1]) / stride[1]) + 1];
  return ctx.g.node('MaxPool', [x.name], out, { kernel_shape: kernel, strides: stride, pads: [ph, pw, ph, pw] }, base);
}

/** The Conv2d's padding as TF.js sees it (kept private by Conv2d; read here, not changed). */
function convPad(conv: Conv2d): TfPad {
  return (conv as unknown as { pad: TfPad }).pad;
}

export function conv2d(ctx: ExportContext, conv: Conv2d, x: Value): Value {
  need4d(`Conv2d "${ctx.path(conv)}"`, x);
  const [n, cin, h, w] = x.shape;
  if (cin !== conv.inChannels) throw new Error(`ONNX export: Conv2d "${ctx.path(conv)}" takes ${conv.inChannels} channels, gets ${cin}`);
  const [kh, kw] = conv.kernel;
  const [sh, sw] = conv.stride;
  const [dh, dw] = conv.dilation;
  const depthwise = conv.groups !== 1;
  const torchDims = depthwise ? [conv.outChannels, 1, kh, kw] : [conv.outChannels, cin / conv.groups, kh, kw];
  const weight = ctx.param(conv.weight, ctx.name(conv, 'weight'), torchDims, () => {
    const wt = toTorchLayout(conv.weight, depthwise ? 'depthwise' : 'conv2d');
    const data = ctx.read(wt);
    wt.dispose();
    return data;
  });
  const inputs = [x.name, weight];
  if (conv.bias) inputs.push(ctx.param(conv.bias, ctx.name(conv, 'bias'), [conv.outChannels]));
  const attrs: Record<string, number[] | number | string> = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], group: conv.groups };
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  const pad = convPad(conv);
  let oh: number, ow: number;
  if (pad === 'same') {
    attrs.auto_pad = 'SAME_UPPER'; // TF's 'same': the odd pixel of padding goes after
    oh = Math.ceil(h / sh);
    ow = Math.ceil(w / sw);
  } else {
    const [, [t, b], [l, r]] = pad === 'valid' ? [[0, 0], [0, 0], [0, 0]] : pad;
    attrs.pads = [t, l, b, r];
    oh = Math.floor((h + t + b - ekh) / sh) + 1;
    ow = Math.floor((w + l + r - ekw) / sw) + 1;
  }
  if (oh < 1 || ow < 1) throw new Error(`ONNX export: Conv2d "${ctx.path(conv)}" gets a ${h}x${w} input, too small for its kernel`);
  return ctx.g.node('Conv', inputs, [n, conv.outChannels, oh, ow], attrs, ctx.name(conv, 'Conv'));
}

/** Eval-mode BatchNorm with the running statistics. 4-D NCHW and [N, C] map to ONNX directly;
 *  [N, L, C] sequences are transposed around it. A later pass folds it into a preceding Conv. */
export function batchNorm(ctx: ExportContext, bn: BatchNorm, x: Value): Value {
  const c = bn.numFeatures;
  const rank = x.shape.length;
  const channelAxis = rank === 3 ? 2 : 1;
  if (x.shape[channelAxis] !== c) throw new Error(`ONNX export: ${bn.constructor.name} "${ctx.path(bn)}" has ${c} channels, its input is [${x.shape}]`);
  const ones = new Float32Array(c).fill(1);
  const inputs = [
    ctx.g.weight(ctx.name(bn, 'weight'), bn.weight ? ctx.read(bn.weight) : ones, [c]),
    ctx.g.weight(ctx.name(bn, 'bias'), bn.bias ? ctx.read(bn.bias) : new Float32Array(c), [c]),
    ctx.g.weight(ctx.name(bn, 'running_mean'), ctx.read(bn.runningMean), [c]),
    ctx.g.weight(ctx.name(bn, 'running_var'), ctx.read(bn.runningVar), [c]),
  ];
  const attrs = { epsilon: { float: bn.eps } };
  if (rank !== 3) return ctx.g.node('BatchNormalization', [x.name, ...inputs], x.shape, attrs, ctx.name(bn, 'BatchNorm'));
  const [n, l] = x.shape;
  const t = ctx.g.node('Transpose', [x.name], [n, c, l], { perm: [0, 2, 1] }, ctx.name(bn, 'to_ncl'));
  const y = ctx.g.node('BatchNormalization', [t.name, ...inputs], t.shape, attrs, ctx.name(bn, 'BatchNorm'));
  return ctx.g.node('Transpose', [y.name], x.shape, { perm: [0, 2, 1] }, ctx.name(bn, 'to_nlc'));
}

/** x [..., in] → [..., out]; weight stays [in, out] (Gemm/MatMul without transposition). */
export function linear(ctx: ExportContext, fc: Linear, x: Value): Value {
  const rank = x.shape.length;
  if (rank === 4) throw new Error(`ONNX export: Linear "${ctx.path(fc)}" on a 4-D image value (NHWC channels) is not supported; flatten or pool first`);
  if (x.shape[rank - 1] !== fc.inFeatures) throw new Error(`ONNX export: Linear "${ctx.path(fc)}" takes ${fc.inFeatures} features, its input is [${x.shape}]`);
  const out = [...x.shape.slice(0, -1), fc.outFeatures];
  const w = ctx.param(fc.weight, ctx.name(fc, 'weight'), [fc.inFeatures, fc.outFeatures]);
  const b = fc.bias ? ctx.param(fc.bias, ctx.name(fc, 'bias'), [fc.outFeatures]) : undefined;
  if (rank === 2) return ctx.g.node('Gemm', b ? [x.name, w, b] : [x.name, w], out, {}, ctx.name(fc, 'Gemm'));
  const y = ctx.g.node('MatMul', [x.name, w], out, {}, ctx.name(fc, 'MatMul'));
  return b ? ctx.g.node('Add', [y.name, b], out, {}, ctx.name(fc, 'bias')) : y;
}

/** Applies a module to a value through the registry, or passes it through when absent. */
export function maybe(ctx: ExportContext, m: Module | undefined, x: Value): Value {
  return m ? ctx.emit(m, x) : x;
}

/** A float constant (a scalar by default) for elementwise ops with broadcasting. */
export function constant(ctx: ExportContext, values: number | number[], base: string, dims?: number[]): string {
  const data = Float32Array.from(typeof values === 'number' ? [values] : values);
  return ctx.g.weight(base, data, dims ?? (typeof values === 'number' ? [] : [data.length]));
}

/** Elementwise binary op on values or constants (by name); `shape` of the result. */
export function binary(ctx: ExportContext, op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max', a: Value | string, b: Value | string, shape: number[], base: string): Value {
  const name = (v: Value | string) => (typeof v === 'string' ? v : v.name);
  return ctx.g.node(op, [name(a), name(b)], shape, {}, base);
}

/** Reshape to `shape` (-1 once: the batch). */
export function reshape(ctx: ExportContext, x: Value, shape: number[], base: string): Value {
  return ctx.g.node('Reshape', [x.name, ctx.g.int64s(`${base}/shape`, shape)], shape, {}, base);
}

/** Sum over one axis (opset 13: the axes are an input). */
export function reduceSum(ctx: ExportContext, x: Value, axis: number, keepDims: boolean, base: string): Value {
  const a = axis < 0 ? x.shape.length + axis : axis;
  const shape = keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return ctx.g.node('ReduceSum', [x.name, ctx.g.int64s(`${base}/axes`, [a])], shape, { keepdims: keepDims ? 1 : 0 }, base);
}

export function softmax(ctx: ExportContext, x: Value, base: string): Value {
  return ctx.g.node('Softmax', [x.name], x.shape, { axis: -1 }, base);
}
