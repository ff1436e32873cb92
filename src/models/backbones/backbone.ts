// What every method's feature extractor offers, whatever network is behind it: a spatial feature
// map and the pooling that turns it into features (features = pool(featureMap(x))), in TF.js and
// in ONNX alike. A backbone class extends Backbone (writing its feature map, and pool when it
// is not global average pooling) and registers its ONNX feature map with registerBackboneEmitter.
import { tf } from '../../engine/backend.js';
import type { Dropout } from '../../nn/dropout.js';
import type { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { globalAvgPool } from '../../nn/pool.js';
import type { Rng } from '../../util/rng.js';
import { registerLayerEmitter, type ExportContext, type ModuleClass, type Value } from '../../onnx/index.js';
import * as ops from '../../onnx/ops.js';

/** A pretrained classifier: weight [featureDim, classes.length] row-major, canonical class names. */
export interface PretrainedHead {
  classes: string[];
  weight: Float32Array;
  bias: Float32Array;
}

/** `fc`'s weight [in, classes.length] and bias with each class's column taken from `head` by
 *  name (head.weight laid out [in, head.classes.length]); classes the head lacks keep fc's own
 *  values and are listed in `fresh`. */
export function headColumnsByName(fc: Linear, classes: readonly string[], head: PretrainedHead): { weight: Float32Array; bias: Float32Array; fresh: string[] } {
  const k = head.classes.length;
  const c = classes.length;
  const weight = fc.weight.dataSync().slice() as Float32Array;
  const bias = fc.bias!.dataSync().slice() as Float32Array;
  const fresh: string[] = [];
  classes.forEach((name, j) => {
    const i = head.classes.indexOf(name);
    if (i < 0) return void fresh.push(name);
    for (let r = 0; r < fc.inFeatures; r++) weight[r * c + j] = head.weight[r * k + i]!;
    bias[j] = head.bias[i]!;
  });
  return { weight, bias, fresh };
}

export interface BackboneOptions {
  /** 3 for RGB, 1 for grey images. */
  inChannels?: number;
  /** Scales every stage's width (0.5 halves the channels). */
  widthMultiplier?: number;
  /** Adds a classifier (`fc`); forward then returns logits. 0/absent: pooled features. */
  numClasses?: number;
  rng?: Rng;
}

/** A feature extractor: features = pool(featureMap(x)); forward adds the optional head (dropout,
 *  then fc). Subclasses write `map` (the feature map in the current mode) and `pool` when it is
 *  not global average pooling. */
export abstract class Backbone extends Module {
  /** Size of the pooled feature vector. */
  abstract readonly featureDim: number;
  dropout?: Dropout;
  fc?: Linear;
  /** Named parts from input to output (`stem`, `stage1`, ...): what `--freeze` names. */
  parts?(): [string, Module[]][];
  /** Runs parts [from, to) of `parts()` on x (part 0 takes images): cached frozen features enter
   *  at the first trainable part. */
  runParts?(x: tf.Tensor, from: number, to?: number): tf.Tensor4D;
  /** [h, w, C] of each part's output for an input of [height, width] (a clip model's frame
   *  encoder sizes the blocks it attaches between parts from them). */
  partShapes?(size: [number, number]): [number, number, number][];
  /** Pooled features from the output of parts [0, from): `features(x)` resumed at part `from`. */
  featuresFrom?(map: tf.Tensor, from: number): tf.Tensor2D;
  /** Loads the weights the backbone was pretrained with (face-resnet: dlib's face recognition). */
  loadPretrained?(): void;
  /** The classifier the weights were pretrained with, when they come with one over expression
   *  classes (face-expression): a model's head over the same classes can start from it. */
  pretrainedHead?(): PretrainedHead;

  protected abstract map(x: tf.Tensor): tf.Tensor4D;

  /** NHWC images → the last stage's NHWC feature map [N, h, w, C] (pattern-map works on it).
   *  `training` switches train/eval mode first (BatchNorm statistics) when given. */
  featureMap(x: tf.Tensor, training?: boolean): tf.Tensor4D {
    if (training !== undefined && training !== this.training) this.train(training);
    return tf.tidy(() => this.map(x));
  }

  /** Feature map → [N, featureDim] features. */
  pool(map: tf.Tensor4D): tf.Tensor2D {
    return globalAvgPool(map);
  }

  features(x: tf.Tensor, training?: boolean): tf.Tensor2D {
    return tf.tidy(() => this.pool(this.featureMap(x, training)));
  }

  /** Features, or [N, numClasses] logits when built with a head. */
  forward(x: tf.Tensor, training?: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.features(x, training);
      if (!this.fc) return f;
      return this.fc.forward(this.dropout ? this.dropout.forward(f) : f) as tf.Tensor2D;
    });
  }
}

/** A backbone's ONNX form: its feature map, its pooling when not global average pooling, and
 *  parts [from, to) of `parts()` when it has them (blocks attached between parts). */
export interface BackboneEmitter<B extends Backbone> {
  featureMap(ctx: ExportContext, b: B, x: Value): Value;
  pool?(ctx: ExportContext, b: B, map: Value): Value;
  runParts?(ctx: ExportContext, b: B, x: Value, from: number, to: number): Value;
}

const backboneEmitters = new Map<ModuleClass, BackboneEmitter<Backbone>>();

/** Registers a backbone class's ONNX feature map (and pooling); its forward (pool, then the head)
 *  exports from them. */
export function registerBackboneEmitter<B extends Backbone>(cls: ModuleClass<B>, emit: BackboneEmitter<B>): void {
  backboneEmitters.set(cls, emit as unknown as BackboneEmitter<Backbone>);
  registerLayerEmitter(cls, (ctx, m, x) => {
    const map = emit.featureMap(ctx, m, x);
    const f = emit.pool ? emit.pool(ctx, m, map) : ops.globalAvgPool(ctx, map, ctx.name(m, 'avgpool'));
    return m.fc ? ops.linear(ctx, m.fc, ops.maybe(ctx, m.dropout, f)) : f;
  });
}

function emitterOf(ctx: ExportContext, b: Backbone): BackboneEmitter<Backbone> {
  const e = [...backboneEmitters].find(([cls]) => b instanceof cls)?.[1];
  if (!e) throw new Error(`ONNX export: no feature-map emitter for backbone "${ctx.path(b)}" of class ${b.constructor.name}`);
  return e;
}

/** The last stage's NCHW feature map of a backbone, as Backbone.featureMap (pattern-map). */
export function emitFeatureMap(ctx: ExportContext, b: Backbone, x: Value): Value {
  return emitterOf(ctx, b).featureMap(ctx, b, x);
}

/** A backbone's pooling of its NCHW map into [N, featureDim] features, as Backbone.pool. */
export function emitPool(ctx: ExportContext, b: Backbone, map: Value): Value {
  const e = emitterOf(ctx, b);
  return e.pool ? e.pool(ctx, b, map) : ops.globalAvgPool(ctx, map, ctx.name(b, 'avgpool'));
}

/** Parts [from, to) of a backbone in NCHW, as Backbone.runParts (the IAL frame encoder). */
export function emitParts(ctx: ExportContext, b: Backbone, x: Value, from: number, to: number): Value {
  const e = emitterOf(ctx, b);
  if (!e.runParts) throw new Error(`ONNX export: backbone "${ctx.path(b)}" of class ${b.constructor.name} has no emitter for its parts`);
  return e.runParts(ctx, b, x, from, to);
}
