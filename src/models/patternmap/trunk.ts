// The EFE trunk's feature map G (before global pooling). Backbones only promise pooled features,
// so the spatial map is read per backbone class from the backbone's own public layers; a backbone
// registers here once and any method needing feature maps can use it.
import { tf } from '../../engine/backend.js';
import { Conv2d } from '../../nn/conv.js';
import type { Module } from '../../nn/module.js';
import { FaceResNet } from '../backbones/face-resnet.js';
import { FerCnn } from '../backbones/fer-cnn.js';
import { ResNet } from '../backbones/resnet.js';
import type { Backbone } from '../backbones/backbone.js';

type FeatureMapFn<B> = (b: B, x: tf.Tensor) => tf.Tensor4D;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const featureMaps = new Map<abstract new (...args: any[]) => Backbone, FeatureMapFn<any>>();

export function registerFeatureMap<B extends Backbone>(cls: abstract new (...args: never[]) => B, fn: FeatureMapFn<B>): void {
  featureMaps.set(cls as never, fn);
}

// FerCnn.features' own rule: pool between stages unless the map is already below 6x6.
registerFeatureMap(FerCnn, (b, x) => {
  let h = x;
  b.stages.forEach((stage, i) => {
    if (i > 0 && Math.min(h.shape[1]!, h.shape[2]!) >= 6) h = b.pool.forward(h);
    h = stage.forward(h);
  });
  return h as tf.Tensor4D;
});

registerFeatureMap(ResNet, (b, x) => {
  let h = b.maxpool.forward(b.bn1.forwardRelu(b.conv1.forward(x)));
  for (const stage of b.layers) h = stage.forward(h);
  return h as tf.Tensor4D;
});

registerFeatureMap(FaceResNet, (b, x) => b.featureMap(x));

/** NHWC feature map of the last stage; `training` sets BatchNorm mode first when given. */
export function featureMap(b: Backbone, x: tf.Tensor, training?: boolean): tf.Tensor4D {
  if (training !== undefined && training !== b.training) b.train(training);
  for (const [cls, fn] of featureMaps) if (b instanceof cls) return tf.tidy(() => fn(b, x));
  throw new Error(`${b.constructor.name}: no feature-map reader registered (src/models/patternmap/trunk.ts)`);
}

/** Parameters of the first `convs` conv layers of a module and the layers before the next conv
 *  (their BatchNorms), in registration order: the seed's "first five conv layers" to freeze. */
export function leadingConvParams(m: Module, convs: number): Set<tf.Variable> {
  const out = new Set<tf.Variable>();
  let seen = 0;
  for (const [, mod] of m.namedModules()) {
    if (mod instanceof Conv2d) seen++;
    if (seen > convs) break;
    if (seen === 0) continue;
    for (const [name, v] of mod.namedParameters()) if (!name.includes('.')) out.add(v);
  }
  return out;
}
