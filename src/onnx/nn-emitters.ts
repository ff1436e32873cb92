// Emitters for the generic layers of src/nn.
import * as activations from '../nn/activations.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { Identity, Lambda, Sequential, type TensorFn } from '../nn/module.js';
import { BatchNorm, LayerNorm } from '../nn/norm.js';
import { AdaptiveAvgPool2d, Flatten, MaxPool2d } from '../nn/pool.js';
import { registerLayerEmitter, type ExportContext } from './emitters.js';
import type { Value } from './graph.js';
import { batchNorm, binary, constant, conv2d, linear, maxPool } from './ops.js';

type FnEmitter = (ctx: ExportContext, x: Value, base: string) => Value;

const unary =
  (op: string): FnEmitter =>
  (ctx, x, base) =>
    ctx.g.node(op, [x.name], x.shape, {}, base);

/** The activation functions a Lambda (a function inside Sequential) may wrap, by identity. */
const functionEmitters = new Map<TensorFn, FnEmitter>([
  [activations.relu, unary('Relu')],
  [activations.sigmoid, unary('Sigmoid')],
  [activations.tanh, unary('Tanh')],
  [
    activations.geluTanh,
    // ½x(1 + tanh(√(2/π)(x + 0.044715x³))), in TF.js's order of operations (Gelu is opset 20)
    (ctx, x, base) => {
      const k = (v: number, what: string) => constant(ctx, v, `${base}/${what}`);
      const cube = ctx.g.node('Pow', [x.name, k(3, 'three')], x.shape, {}, `${base}/cube`);
      const sum = binary(ctx, 'Add', x, binary(ctx, 'Mul', cube, k(0.044715, 'c'), x.shape, `${base}/cube_c`), x.shape, `${base}/inner_sum`);
      const th = ctx.g.node('Tanh', [binary(ctx, 'Mul', sum, k(Math.sqrt(2 / Math.PI), 'sqrt_2_pi'), x.shape, `${base}/inner`).name], x.shape, {}, `${base}/tanh`);
      const half = binary(ctx, 'Mul', x, k(0.5, 'half'), x.shape, `${base}/half_x`);
      return binary(ctx, 'Mul', half, binary(ctx, 'Add', th, k(1, 'one'), x.shape, `${base}/one_plus`), x.shape, base);
    },
  ],
  [
    activations.silu,
    (ctx, x, base) => {
      const s = ctx.g.node('Sigmoid', [x.name], x.shape, {}, `${base}/sigmoid`);
      return ctx.g.node('Mul', [x.name, s.name], x.shape, {}, base);
    },
  ],
]);

registerLayerEmitter(Conv2d, (ctx, m, x) => conv2d(ctx, m, x));
registerLayerEmitter(BatchNorm, (ctx, m, x) => batchNorm(ctx, m, x));
registerLayerEmitter(Linear, (ctx, m, x) => linear(ctx, m, x));
registerLayerEmitter(Dropout, (_ctx, _m, x) => x); // eval mode: the identity
registerLayerEmitter(Identity, (_ctx, _m, x) => x);
registerLayerEmitter(MaxPool2d, (ctx, m, x) => maxPool(ctx, x, m.kernel, m.stride, m.padding, ctx.name(m, 'MaxPool')));

registerLayerEmitter(Sequential, (ctx, m, x) => {
  let h = x;
  for (const [, child] of m.namedChildren()) h = ctx.emit(child, h);
  return h;
});

registerLayerEmitter(Lambda, (ctx, m, x) => {
  const e = functionEmitters.get(m.fn);
  if (!e) throw new Error(`ONNX export: function "${m.label}" at "${ctx.path(m)}" has no emitter; known: relu, sigmoid, tanh, silu, geluTanh`);
  return e(ctx, x, ctx.name(m, m.label));
});

registerLayerEmitter(AdaptiveAvgPool2d, (ctx, m, x) => {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = m.output;
  if (oh === 1 && ow === 1) return ctx.g.node('GlobalAveragePool', [x.name], [n, c, 1, 1], {}, ctx.name(m, 'GlobalAveragePool'));
  if (h % oh !== 0 || w % ow !== 0) {
    throw new Error(`ONNX export: AdaptiveAvgPool2d "${ctx.path(m)}" from ${h}x${w} to ${oh}x${ow} (uneven bins) is not supported`);
  }
  const k = [h / oh, w / ow];
  return ctx.g.node('AveragePool', [x.name], [n, c, oh, ow], { kernel_shape: k, strides: k }, ctx.name(m, 'AveragePool'));
});

registerLayerEmitter(Flatten, (ctx, m, x) => {
  const [n, ...rest] = x.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  if (x.shape.length !== 4) return ctx.g.node('Flatten', [x.name], [n, size], { axis: 1 }, ctx.name(m, 'Flatten'));
  // TF.js flattens NHWC in (h, w, c) order: back to channels-last first so a Linear after it
  // sees the features in the order it was trained on.
  const [, c, h, w] = x.shape;
  const t = ctx.g.node('Transpose', [x.name], [n, h, w, c], { perm: [0, 2, 3, 1] }, ctx.name(m, 'to_nhwc'));
  return ctx.g.node('Flatten', [t.name], [n, size], { axis: 1 }, ctx.name(m, 'Flatten'));
});

// (x − mean)·(var + ε)^−½·γ + β over the trailing dims, as TF.js's moments (LayerNormalization is
// opset 17).
registerLayerEmitter(LayerNorm, (ctx, m, x) => {
  const k = m.shape.length;
  if (x.shape.slice(-k).join() !== m.shape.join()) throw new Error(`ONNX export: LayerNorm "${ctx.path(m)}" over [${m.shape}], its input is [${x.shape}]`);
  const axes = m.shape.map((_, i) => x.shape.length - k + i);
  const stat = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const mean = ctx.g.node('ReduceMean', [x.name], stat, { axes, keepdims: 1 }, ctx.name(m, 'mean'));
  const centred = binary(ctx, 'Sub', x, mean, x.shape, ctx.name(m, 'centred'));
  const variance = ctx.g.node('ReduceMean', [binary(ctx, 'Mul', centred, centred, x.shape, ctx.name(m, 'sq')).name], stat, { axes, keepdims: 1 }, ctx.name(m, 'var'));
  const std = ctx.g.node('Sqrt', [binary(ctx, 'Add', variance, constant(ctx, m.eps, ctx.name(m, 'eps')), stat, ctx.name(m, 'var_eps')).name], stat, {}, ctx.name(m, 'std'));
  let y = binary(ctx, 'Div', centred, std, x.shape, ctx.name(m, 'normed'));
  if (m.weight) y = binary(ctx, 'Mul', y, ctx.param(m.weight, ctx.name(m, 'weight'), m.shape), x.shape, ctx.name(m, 'scaled'));
  if (m.bias) y = binary(ctx, 'Add', y, ctx.param(m.bias, ctx.name(m, 'bias'), m.shape), x.shape, ctx.name(m, 'shifted'));
  return y;
});
