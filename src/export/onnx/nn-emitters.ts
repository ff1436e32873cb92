// Emitters for the generic layers of src/nn.
import * as activations from '../../nn/activations.js';
import { Conv2d } from '../../nn/conv.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { Identity, Lambda, Sequential, type TensorFn } from '../../nn/module.js';
import { BatchNorm } from '../../nn/norm.js';
import { AdaptiveAvgPool2d, Flatten, MaxPool2d } from '../../nn/pool.js';
import { registerLayerEmitter, type ExportContext } from './emitters.js';
import type { Value } from './graph.js';
import { batchNorm, conv2d, linear, maxPool } from './ops.js';

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
    activations.silu,
    (ctx, x, base) => {
      const s = ctx.g.node('Sigmoid', [x.name], x.shape, {}, `${base}/sigmoid`);
      return ctx.g.node('Mul', [x.name, s.name], x.shape, {}, base);
    },
  ],
]);

/** Lets other modules' activation functions export when wrapped in a Lambda. */
export function registerFunctionEmitter(fn: TensorFn, emit: FnEmitter): void {
  functionEmitters.set(fn, emit);
}

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
  if (!e) throw new Error(`ONNX export: function "${m.label}" at "${ctx.path(m)}" has no emitter; known: relu, sigmoid, tanh, silu`);
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
