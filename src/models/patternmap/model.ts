// The expression pattern-map model (Zhang & Yu 2022, spec: shared/specs/pattern-map.md):
// EFE  trunk feature map G → 1x1-conv sigmoid mask M → masked features Gms = M⊙G → classifier;
// EMR  Elman RNN over M's cells → refined mask M' and last hidden state h_n;
// EPMG encoder Gms → 128-d embedding e → classifier (the recognition output); decoder e → pattern
//      map P, one channel at the input size.
import { tf } from '../../engine/backend.js';
import { Conv2d } from '../../nn/conv.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { buildBackbone } from '../ce/model.js';
import type { Backbone } from '../backbones/backbone.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import { choiceOption, numberListOption, numberOption } from '../method-options.js';
import { ElmanRefiner, PatternDecoder, PatternEncoder } from './layers.js';

export interface PatternMapShape {
  maskHidden: number;
  embeddingDim: number;
  encoderHidden: number;
  classifierHidden: number;
  decoderChannels: number[];
  /** 'batch': BatchNorm on the masked features before the EPMG encoder (trunks without BatchNorm). */
  encoderNorm: 'none' | 'batch';
}

const PATTERN_MAP_SHAPE: PatternMapShape = { maskHidden: 16, embeddingDim: 128, encoderHidden: 256, classifierHidden: 64, decoderChannels: [64, 32, 16, 8, 4, 2, 1], encoderNorm: 'none' };

function patternMapShape(o: Record<string, unknown> = {}): PatternMapShape {
  const pos = (v: number) => Number.isInteger(v) && v > 0;
  const d = PATTERN_MAP_SHAPE;
  const decoderChannels = numberListOption(o, 'decoderChannels', d.decoderChannels)!;
  if (decoderChannels.at(-1) !== 1 || !decoderChannels.every(pos)) throw new Error(`option decoderChannels must be positive integers ending in 1, got ${JSON.stringify(decoderChannels)}`);
  return {
    maskHidden: numberOption(o, 'maskHidden', d.maskHidden, pos, 'a positive integer'),
    embeddingDim: numberOption(o, 'embeddingDim', d.embeddingDim, pos, 'a positive integer'),
    encoderHidden: numberOption(o, 'encoderHidden', d.encoderHidden, pos, 'a positive integer'),
    classifierHidden: numberOption(o, 'classifierHidden', d.classifierHidden, pos, 'a positive integer'),
    decoderChannels,
    encoderNorm: choiceOption(o, 'encoderNorm', d.encoderNorm, ['none', 'batch'] as const),
  };
}

export interface EfeOutput {
  /** Mask M [N, h, w] in (0,1). */
  mask: tf.Tensor3D;
  /** Masked features Gms [N, h, w, C]. */
  gms: tf.Tensor4D;
  efeLogits: tf.Tensor2D;
}

export interface EpmgOutput {
  embedding: tf.Tensor2D;
  logits: tf.Tensor2D;
  patternMap: tf.Tensor4D;
}

/** Classifier on the embedding: FC D→64, ReLU, FC 64→K. */
class EmbeddingClassifier extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number, classes: number, rng: Rng) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(dim, hidden, { rng }));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, classes, { rng }));
  }
  forward(e: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.fc2.forward(tf.relu(this.fc1.forward(e))) as tf.Tensor2D);
  }
}

export class PatternMapModel extends Module implements FerModel {
  readonly shape: PatternMapShape;
  /** Trunk grid side (7 for fer-cnn at 56x56, as VGG's pool5 at 224x224). */
  readonly grid: number;
  readonly backbone: Backbone;
  readonly maskNet: Conv2d;
  readonly efeHead: Linear;
  readonly refiner: ElmanRefiner;
  readonly encoder: PatternEncoder;
  readonly classifier: EmbeddingClassifier;
  readonly decoder: PatternDecoder;

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
  ) {
    super();
    const [h, w] = config.input.size;
    if (h !== w) throw new Error(`patternmap: square inputs only, got ${h}x${w}`);
    this.shape = patternMapShape(config.methodOptions);
    this.backbone = this.registerModule('backbone', buildBackbone(config, rng));
    const c = this.backbone.featureDim;
    this.grid = tf.tidy(() => this.backbone.featureMap(tf.zeros([1, h, w, config.input.channels]), false).shape[1]);
    this.backbone.train(true);
    this.maskNet = this.registerModule('maskNet', new Conv2d(c, 1, 1, { rng }));
    this.efeHead = this.registerModule('efeHead', new Linear(c, config.classes.length, { rng }));
    this.refiner = this.registerModule('refiner', new ElmanRefiner(this.shape.maskHidden, rng));
    this.encoder = this.registerModule('encoder', new PatternEncoder(c, this.grid, this.shape.encoderHidden, this.shape.embeddingDim, rng, this.shape.encoderNorm === 'batch'));
    this.classifier = this.registerModule('classifier', new EmbeddingClassifier(this.shape.embeddingDim, this.shape.classifierHidden, config.classes.length, rng));
    this.decoder = this.registerModule('decoder', new PatternDecoder(this.shape.embeddingDim, this.shape.decoderChannels, h, rng));
  }

  /** Parameters of each module group (the three training steps' optimizers). */
  groupParams(group: 'efe' | 'emr' | 'epmg'): tf.Variable[] {
    const mods: Module[] = group === 'efe' ? [this.backbone, this.maskNet, this.efeHead] : group === 'emr' ? [this.refiner] : [this.encoder, this.classifier, this.decoder];
    return mods.flatMap((m) => m.parameters());
  }

  efe(x: tf.Tensor, training?: boolean): EfeOutput {
    return tf.tidy(() => {
      const g = this.backbone.featureMap(x, training);
      const m = tf.sigmoid(this.maskNet.forward(g)) as tf.Tensor4D; // [N, h, w, 1]
      const gms = tf.mul(g, m) as tf.Tensor4D;
      const efeLogits = this.efeHead.forward(tf.mean(gms, [1, 2])) as tf.Tensor2D;
      return { mask: tf.squeeze(m, [3]) as tf.Tensor3D, gms, efeLogits };
    });
  }

  /** Refined mask M' [N, h, w] and h_n [N, hidden] from M [N, h, w] (row-major cell order). */
  emr(mask: tf.Tensor3D): { refined: tf.Tensor3D; hN: tf.Tensor2D } {
    const [n, h, w] = mask.shape;
    return tf.tidy(() => {
      const { refined, hN } = this.refiner.forward(tf.reshape(mask, [n, h * w]) as tf.Tensor2D);
      return { refined: tf.reshape(refined, [n, h, w]) as tf.Tensor3D, hN };
    });
  }

  epmg(gms: tf.Tensor4D): EpmgOutput {
    return tf.tidy(() => {
      const embedding = this.encoder.forward(gms);
      return { embedding, logits: this.classifier.forward(embedding), patternMap: this.decoder.forward(embedding) };
    });
  }

  /** logits: the EPMG classifier's (the recognition output); extras: refined mask M', raw mask M
   *  ([N, h, w]), pattern map P ([N, H, W, 1]) and the EFE classifier's logits. */
  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    if (training !== undefined && training !== this.training) this.train(training);
    const efe = this.efe(x);
    const { refined, hN } = this.emr(efe.mask);
    const epmg = this.epmg(efe.gms);
    tf.dispose([efe.gms, hN]);
    return { logits: epmg.logits, embedding: epmg.embedding, extras: { mask: refined, rawMask: efe.mask, patternMap: epmg.patternMap, efeLogits: efe.efeLogits } };
  }
}
