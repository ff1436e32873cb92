// Emitters for the backbones (ResNet family, fer-cnn) and the classifier model: each mirrors its
// class's eval forward, which is code (fer-cnn's pooling depends on the feature-map size).
import { Conv2d } from '../../nn/conv.js';
import type { Module } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import { FerCnn, poolsBeforeStage } from '../../models/backbones/fer-cnn.js';
import { BasicBlock, Bottleneck, ResNet } from '../../models/backbones/resnet.js';
import { ClassifierModel } from '../../models/ce/model.js';
import type { Backbone } from '../../models/backbones/backbone.js';
import { registerLayerEmitter, registerModelEmitter, type ExportContext, type ModuleClass } from './emitters.js';
import type { Value } from './graph.js';
import { add, globalAvgPool, linear, maybe, relu } from './ops.js';

const block = (ctx: ExportContext, m: Module, x: Value, body: Value) => {
  const skip = 'downsample' in m && m.downsample ? ctx.emit(m.downsample as Module, x) : x;
  return relu(ctx, add(ctx, body, skip, ctx.name(m, 'add')), ctx.name(m, 'relu'));
};

registerLayerEmitter(BasicBlock, (ctx, m, x) => {
  const y = relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu1'));
  return block(ctx, m, x, ctx.emit(m.bn2, ctx.emit(m.conv2, y)));
});

registerLayerEmitter(Bottleneck, (ctx, m, x) => {
  let y = relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu1'));
  y = relu(ctx, ctx.emit(m.bn2, ctx.emit(m.conv2, y)), ctx.name(m, 'relu2'));
  return block(ctx, m, x, ctx.emit(m.bn3, ctx.emit(m.conv3, y)));
});

type FeatureMapEmitter<B extends Backbone> = (ctx: ExportContext, b: B, x: Value) => Value;
const featureMapEmitters = new Map<ModuleClass, FeatureMapEmitter<Backbone>>();

/** The last stage's NCHW feature map of a backbone (before pooling), for methods that work on it
 *  (pattern-map); a backbone class registers how to read it, as in patternmap/trunk.ts. */
export function registerFeatureMapEmitter<B extends Backbone>(cls: ModuleClass<B>, emit: FeatureMapEmitter<B>): void {
  featureMapEmitters.set(cls, emit as FeatureMapEmitter<Backbone>);
}

export function emitFeatureMap(ctx: ExportContext, b: Backbone, x: Value): Value {
  for (const [cls, emit] of featureMapEmitters) if (b instanceof cls) return emit(ctx, b, x);
  throw new Error(`ONNX export: no feature-map emitter for backbone "${ctx.path(b)}" of class ${b.constructor.name}`);
}

registerFeatureMapEmitter(ResNet, (ctx, m, x) => {
  let h = relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu'));
  h = ctx.emit(m.maxpool, h);
  for (const stage of m.layers) h = ctx.emit(stage, h);
  return h;
});

registerLayerEmitter(ResNet, (ctx, m, x) => {
  const f = globalAvgPool(ctx, emitFeatureMap(ctx, m, x), ctx.name(m, 'avgpool'));
  return m.fc ? linear(ctx, m.fc, f) : f;
});

/** fer-cnn's stages hold conv → BN → ReLU blocks (a class private to fer-cnn.ts): read by shape. */
function convBnRelu(ctx: ExportContext, m: Module, x: Value): Value {
  const { conv, bn } = m as unknown as { conv?: unknown; bn?: unknown };
  if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d) || m.namedChildren().length !== 2) {
    throw new Error(`ONNX export: fer-cnn block "${ctx.path(m)}" (${m.constructor.name}) is not a conv + bn block`);
  }
  return relu(ctx, ctx.emit(bn, ctx.emit(conv, x)), ctx.name(m, 'relu'));
}

registerFeatureMapEmitter(FerCnn, (ctx, m, x) => {
  let h = x;
  m.stages.forEach((stage, i) => {
    if (poolsBeforeStage(i, h.shape[2], h.shape[3])) h = ctx.emit(m.pool, h); // NCHW here
    for (const [, b] of stage.namedChildren()) h = convBnRelu(ctx, b, h);
  });
  return h;
});

registerLayerEmitter(FerCnn, (ctx, m, x) => {
  const f = globalAvgPool(ctx, emitFeatureMap(ctx, m, x), ctx.name(m, 'avgpool'));
  return m.fc ? linear(ctx, m.fc, maybe(ctx, m.dropout, f)) : f;
});

registerModelEmitter(ClassifierModel, (ctx, m, x) => {
  const embedding = ctx.emit(m.backbone, x);
  const logits = ctx.emit(m.fc, maybe(ctx, m.dropout, embedding));
  return { logits, embedding };
});
