// ONNX for the dlib face-recognition trunk (models/backbones/face-resnet.ts), mirroring its eval
// forward in NCHW: 'valid' stride-2 convs, a 2x2 average-pool shortcut zero-padded in channels,
// and the zero rows/columns a down block adds where the pool's map is larger than the conv's.
import { downSide, FaceResidual, FaceResNet } from '../../models/backbones/face-resnet.js';
import { registerLayerEmitter, type ExportContext } from './emitters.js';
import type { Value } from './graph.js';
import { registerFeatureMapEmitter, emitFeatureMap } from './model-emitters.js';
import { add, globalAvgPool, linear, maxPool, relu } from './ops.js';

/** Zero padding at the end of each axis (opset 13 Pad: pads as an int64 input). */
function padEnd(ctx: ExportContext, x: Value, extra: number[], base: string): Value {
  if (extra.every((e) => e === 0)) return x;
  const pads = [...x.shape.map(() => 0), ...extra];
  return ctx.g.node('Pad', [x.name, ctx.g.int64s(`${base}/pads`, pads)], x.shape.map((d, i) => d + extra[i]!), {}, base);
}

registerLayerEmitter(FaceResidual, (ctx, m, x) => {
  const [n, c, h, w] = x.shape;
  const convBn = (cb: typeof m.conv1, v: Value) => ctx.emit(cb.bn, ctx.emit(cb.conv, v));
  if (!m.down) {
    const y = convBn(m.conv2, relu(ctx, convBn(m.conv1, x), ctx.name(m, 'relu1')));
    return relu(ctx, add(ctx, y, x, ctx.name(m, 'add')), ctx.name(m, 'relu'));
  }
  const oh = downSide(h!);
  const ow = downSide(w!);
  const xin = padEnd(ctx, x, [0, 0, Math.max(0, 3 - h!), Math.max(0, 3 - w!)], ctx.name(m, 'pad_in'));
  let y = convBn(m.conv2, relu(ctx, convBn(m.conv1, xin), ctx.name(m, 'relu1')));
  y = padEnd(ctx, y, [0, 0, oh - y.shape[2]!, ow - y.shape[3]!], ctx.name(m, 'pad_out'));
  let skip = x;
  if (h! >= 2 && w! >= 2) skip = ctx.g.node('AveragePool', [x.name], [n!, c!, oh, ow], { kernel_shape: [2, 2], strides: [2, 2] }, ctx.name(m, 'shortcut_pool'));
  skip = padEnd(ctx, skip, [0, m.cout - m.cin, 0, 0], ctx.name(m, 'shortcut_pad'));
  return relu(ctx, add(ctx, y, skip, ctx.name(m, 'add')), ctx.name(m, 'relu'));
});

registerFeatureMapEmitter(FaceResNet, (ctx, m, x) => {
  let h = relu(ctx, ctx.emit(m.stem.bn, ctx.emit(m.stem.conv, x)), ctx.name(m.stem, 'relu'));
  h = maxPool(ctx, h, m.pool.kernel, m.pool.stride, m.pool.padding, ctx.name(m, 'maxpool'));
  for (const stage of m.stageList) h = ctx.emit(stage, h);
  return h;
});

registerLayerEmitter(FaceResNet, (ctx, m, x) => {
  let f = globalAvgPool(ctx, emitFeatureMap(ctx, m, x), ctx.name(m, 'avgpool'));
  if (m.descriptor) f = linear(ctx, m.descriptor, f);
  return m.fc ? linear(ctx, m.fc, f) : f;
});
