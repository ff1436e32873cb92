// ARBEx reliability balancing (spec §3.1) on any backbone's embedding e: the MLP head's label
// distribution p = softmax(head(e)/τ), the anchor distribution s (K learnable anchors per class),
// the attention distribution a, their normalised-entropy confidences, and the balanced
// distribution (1 − t)·p + t·(c·p + (1 − c)·(c_g·s + c_a·a)/(c_g + c_a)) with trust t.
import { tf } from '../../engine/backend.js';
import { normal } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { anchorSimilarities, confidence, reliabilityBalance } from '../../losses/arbex.js';
import type { Backbone } from '../backbones/registry.js';
import { buildBackbone } from '../ce/model.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import { booleanOption, choiceOption, numberListOption, numberOption, type Options } from '../method-options.js';
import { ATTENTION_MODES, SelfAttention, type AttentionMode } from './attention.js';
import { MlpHead } from './head.js';

export interface ArbexModelOptions {
  /** MLP hidden widths ([] = linear); the paper's [64, 64], the code's [384, 192, 96]. */
  hiddenSizes: number[];
  headBatchNorm: boolean;
  headDropout: number;
  /** K anchors per class (CLI default 1, class default 10). */
  anchors: number;
  /** 'zeros' as the reference; 'normal' (std anchorStd) breaks the symmetry between anchors. */
  anchorInit: 'zeros' | 'normal';
  anchorStd: number;
  /** τ, the head's softmax temperature. */
  temperature: number;
  /** δ, the anchor-similarity temperature (the code ties it to τ; here it is its own option). */
  delta: number;
  /** Ka attention slots per class and heads of the multi-head attention (over C·Ka dims). */
  attentionSlots: number;
  attentionHeads: number;
  attentionMode: AttentionMode;
  /** Trust used by forward() at inference: 1 = the full balanced distribution, 0 = the head alone
   *  (the reference's default test path). */
  testTrust: number;
}

function arbexModelOptions(o: Options): ArbexModelOptions {
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  const temperature = numberOption(o, 'temperature', 1, (v) => v > 0, 'positive');
  return {
    hiddenSizes: numberListOption(o, 'hiddenSizes', [])!,
    headBatchNorm: booleanOption(o, 'headBatchNorm', true),
    headDropout: numberOption(o, 'headDropout', 0.5, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    anchors: numberOption(o, 'anchors', 10, positiveInt, 'a positive integer'),
    anchorInit: choiceOption(o, 'anchorInit', 'zeros', ['zeros', 'normal'] as const),
    anchorStd: numberOption(o, 'anchorStd', 0.01, (v) => v >= 0, '≥ 0'),
    temperature,
    delta: numberOption(o, 'delta', temperature, (v) => v > 0, 'positive'),
    attentionSlots: numberOption(o, 'attentionSlots', 1, positiveInt, 'a positive integer'),
    attentionHeads: numberOption(o, 'attentionHeads', 1, positiveInt, 'a positive integer'),
    attentionMode: choiceOption(o, 'attentionMode', 'sample', ATTENTION_MODES),
    testTrust: numberOption(o, 'testTrust', 1, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
  };
}

/** Every intermediate of one reliability-balanced forward pass. */
// A type alias (not an interface) so tf.tidy accepts it as a tensor container.
export type ArbexParts = {
  embedding: tf.Tensor2D;
  logits: tf.Tensor2D;
  /** Head distribution p and its confidence c. */
  p: tf.Tensor2D;
  c: tf.Tensor1D;
  /** Anchor distances [N, C, K], anchor distribution s and c_g. */
  distances: tf.Tensor3D;
  s: tf.Tensor2D;
  cg: tf.Tensor1D;
  /** Attention distribution a and c_a. */
  a: tf.Tensor2D;
  ca: tf.Tensor1D;
  /** The balanced distribution at the given trust. */
  final: tf.Tensor2D;
};

export class ArbexModel extends Module implements FerModel {
  readonly options: ArbexModelOptions;
  readonly backbone: Backbone;
  readonly head: MlpHead;
  readonly anchors: tf.Variable;
  readonly attn: SelfAttention;

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
  ) {
    super();
    const o = (this.options = arbexModelOptions(config.methodOptions ?? {}));
    const classes = config.classes.length;
    this.backbone = this.registerModule('backbone', buildBackbone(config, rng));
    const dim = this.backbone.featureDim;
    this.head = this.registerModule('head', new MlpHead(dim, classes, { hidden: o.hiddenSizes, batchNorm: o.headBatchNorm, dropout: o.headDropout, rng }));
    const shape = [classes, o.anchors, dim];
    this.anchors = this.registerParameter('anchors', o.anchorInit === 'zeros' ? tf.zeros(shape) : normal(shape, 0, o.anchorStd, rng));
    this.attn = this.registerModule('attn', new SelfAttention(dim, classes, o.attentionSlots, o.attentionHeads, o.attentionMode, rng));
  }

  get embeddingDim(): number {
    return this.backbone.featureDim;
  }

  /** The whole pipeline at trust t (training uses the objective's ramp, inference testTrust). */
  balance(x: tf.Tensor, trust: number, training?: boolean): ArbexParts {
    if (training !== undefined && training !== this.training) this.train(training);
    const embedding = this.backbone.features(x);
    return tf.tidy(() => this.balanceEmbedding(embedding, trust, embedding));
  }

  /** Reliability balancing on given embeddings (backbone-agnostic entry point). */
  balanceEmbedding(e: tf.Tensor2D, trust: number, keepEmbedding?: tf.Tensor2D): ArbexParts {
    return tf.tidy(() => {
      const logits = this.head.forward(e);
      const p = tf.softmax(tf.div(logits, this.options.temperature)) as tf.Tensor2D;
      const { distances, similarity: s } = anchorSimilarities(e, this.anchors as tf.Tensor3D, this.options.delta);
      const a = this.attn.forward(e);
      const { final, c, cg, ca } = reliabilityBalance(p, s, a, trust);
      return { embedding: keepEmbedding ?? tf.clone(e), logits, p, c, distances, s, cg, a, ca, final };
    });
  }

  /** probs: the balanced distribution at testTrust; confidence: its normalised-entropy
   *  confidence; extras: the head, anchor and attention distributions and their confidences. */
  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    const parts = this.balance(x, this.options.testTrust, training);
    const conf = tf.tidy(() => confidence(parts.final) as tf.Tensor1D);
    parts.distances.dispose();
    return {
      logits: parts.logits,
      probs: parts.final,
      confidence: conf,
      embedding: parts.embedding,
      extras: { headProbs: parts.p, headConfidence: parts.c, anchorSimilarity: parts.s, anchorConfidence: parts.cg, attention: parts.a, attentionConfidence: parts.ca },
    };
  }
}
