// What every method's feature extractor offers, whatever network is behind it.
import type { tf } from '../../engine/backend.js';
import type { Module } from '../../nn/module.js';
import type { Random } from '../../nn/random.js';

export interface BackboneOptions {
  /** 3 for RGB, 1 for grey images. */
  inChannels?: number;
  /** Scales every stage's width (0.5 halves the channels). */
  widthMultiplier?: number;
  /** Adds a classifier (`fc`); forward then returns logits. 0/absent: pooled features. */
  numClasses?: number;
  rng?: Random;
}

export interface Backbone extends Module {
  /** Size of the pooled feature vector. */
  readonly featureDim: number;
  /** NHWC images → [N, featureDim] features (or [N, numClasses] logits when built with a head).
   *  `training` switches train/eval mode first (BatchNorm statistics) when given. */
  forward(x: tf.Tensor, training?: boolean): tf.Tensor2D;
  /** Pooled features, ignoring any classifier head. */
  features(x: tf.Tensor, training?: boolean): tf.Tensor2D;
  /** Named parts from input to output (`stem`, `stage1`, ...): what `--freeze` names. */
  parts?(): [string, Module[]][];
  /** Loads the weights the backbone was pretrained with (face-resnet: dlib's face recognition). */
  loadPretrained?(): void;
}
