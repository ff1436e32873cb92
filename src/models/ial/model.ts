// The IAL + GCA dynamic FER network (Li et al., AAAI 2023; spec §1.4): per frame a residual stem
// and three stages (GCA in layer2 and layer3, with auxiliary classifiers on their descriptors) or a
// registered backbone as the frame encoder (face-resnet, face-pretrained; GCA and the aux heads on
// its last two stages' outputs),
// dynamic-static fusion over adjacent frames, a temporal transformer over the T−1 fused frame
// tokens, their mean and a linear classifier (optionally plus a per-frame head on the encoder's
// pooled map, methodOptions.frameHead). The NR-DFERNet variant (§1.13) replaces the mean by
// a mean class token and, at test time, filters neutral with per-snippet predictions.
// Input: clips [N, T, H, W, C]; names follow the reference (s_former.layer2.0.conv1.weight, fc_f).
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { normal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import { globalAvgPool, MaxPool2d } from '../../nn/pool.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { snippetFilter, SNIPPET_FILTER_DEFAULTS } from '../../losses/snippet-filter.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import { headColumnsByName } from '../backbones/backbone.js';
import { backbones, type Backbone } from '../backbones/registry.js';
import { GcaAttention } from './attention.js';
import { conv, halve, IalStage, StageAttention } from './blocks.js';
import { DynamicStaticFusion } from './dsf.js';
import { IAL_BACKBONE, ialNetworkOptions, type IalNetworkOptions } from './options.js';
import { Transformer } from './transformer.js';

export { IAL_BACKBONE } from './options.js';

/** Everything before the classifier (the reference's `s_former`): clip → frame tokens. */
export class IalNetwork extends Module {
  /** The own trunk (backbone ial-resnet): stem, max-pool and layer1-3. */
  readonly conv1?: Sequential;
  readonly bn1?: BatchNorm2d;
  readonly maxpool = new MaxPool2d(3, 2, 1);
  readonly stages: IalStage[] = [];
  /** Or a registered backbone as the frame encoder, with attention blocks after some of its parts
   *  (keyed by part index: 0 the stem, i stage i). */
  encoder?: Backbone;
  readonly stageAttention = new Map<number, StageAttention>();
  readonly dsf: DynamicStaticFusion;
  readonly temporal_transformer: Transformer;
  readonly pos_embedding: tf.Variable;
  /** Features of one temporal token (C·H'·W': 4096 at full size). */
  readonly tokenDim: number;
  /** Features of one frame's pooled last map (the encoder's featureDim, or the own trunk's C). */
  readonly frameDim: number;

  constructor(
    readonly o: IalNetworkOptions,
    rng: Rng,
  ) {
    super();
    let map: [number, number];
    let channels: number;
    if (o.backbone === IAL_BACKBONE) {
      const [c1, c2, c3] = o.widths;
      // Stem: conv3×3 s2 → BN → ReLU → conv3×3 → (bn1 → ReLU → max-pool s2).
      this.conv1 = this.registerModule('conv1', new Sequential(conv(o.inChannels, c1, 3, 2, rng), new BatchNorm2d(c1), relu, conv(c1, c1, 3, 1, rng)));
      this.bn1 = this.registerModule('bn1', new BatchNorm2d(c1));
      map = [halve(halve(o.size[0])), halve(halve(o.size[1]))];
      let cin = c1;
      [c1, c2, c3].forEach((cout, i) => {
        const stride = i === 0 ? 1 : 2;
        if (stride === 2) map = [halve(map[0]), halve(map[1])];
        const attend = o.attentionStages!.includes(i + 1);
        const stage = new IalStage({
          cin,
          cout,
          stride,
          blocks: o.layers[i],
          map,
          attention: attend ? o.attention : 'none',
          reduction: o.reduction,
          auxClasses: attend && o.aux ? o.numClasses : 0,
          rng,
        });
        this.stages.push(this.registerModule(`layer${i + 1}`, stage));
        cin = cout;
      });
      channels = c3;
    } else {
      ({ map, channels } = this.buildEncoder(o, rng));
    }
    this.dsf = this.registerModule('dsf', new DynamicStaticFusion({ channels, map, blocks: o.layers[3], spatial: o.spatial, rng }));
    this.tokenDim = channels * this.dsf.outMap[0] * this.dsf.outMap[1];
    this.frameDim = this.encoder ? this.encoder.featureDim : channels;
    this.temporal_transformer = this.registerModule('temporal_transformer', new Transformer({ dim: this.tokenDim, ...o.temporal }, rng));
    // One row per frame (the reference's 16; the mean variant uses T−1, the class-token one T).
    this.pos_embedding = this.registerParameter('pos_embedding', normal([1, o.frames, this.tokenDim], 0, 1, rng));
  }

  /** A registered backbone (its stages as dlib or torchvision lay them out) as the frame encoder,
   *  with the attention block and aux head after each attended stage (default: the last two). */
  private buildEncoder(o: IalNetworkOptions, rng: Rng): { map: [number, number]; channels: number } {
    const encoder = backbones.get(o.backbone).create({ ...o.backboneOptions, inChannels: o.inChannels, rng });
    if (!encoder.parts || !encoder.runParts || !encoder.partShapes) {
      encoder.dispose();
      throw new Error(`ial: backbone ${o.backbone} cannot be the frame encoder (it has no named parts with known map sizes); use ${IAL_BACKBONE} or face-resnet`);
    }
    this.encoder = this.registerModule('encoder', encoder);
    const parts = encoder.parts();
    const shapes = encoder.partShapes(o.size);
    const last = parts.length - 1;
    const attended = o.attentionStages ?? (last >= 2 ? [last - 1, last] : [last]);
    if (!attended.every((s) => Number.isInteger(s) && s >= 1 && s <= last)) {
      throw new Error(`option attentionStages lists stages of the ${o.backbone} encoder, 1-${last} (${parts.slice(1).map((p) => p[0]).join(', ')}), got ${JSON.stringify(attended)}`);
    }
    if (o.attention !== 'none') {
      for (const s of [...attended].sort((a, b) => a - b)) {
        const [h, w, c] = shapes[s]!;
        const block = new StageAttention({ cout: c, map: [h, w], attention: o.attention, reduction: o.reduction, auxClasses: o.aux ? o.numClasses : 0, rng });
        this.stageAttention.set(s, this.registerModule(`${parts[s]![0]}_attention`, block));
      }
    }
    const [h, w, channels] = shapes[last]!;
    return { map: [h, w], channels };
  }

  /** Frames [N·T, H, W, C] → the encoder's last map, and the aux logits keyed aux<stage>. */
  private frameMaps(x: tf.Tensor4D, frames: number, aux: Record<string, tf.Tensor2D>): tf.Tensor4D {
    if (this.encoder) {
      let h = x;
      const parts = this.encoder.parts!().length;
      for (let i = 0; i < parts; i++) {
        h = this.encoder.runParts!(h, i, i + 1);
        const attention = this.stageAttention.get(i);
        if (!attention) continue;
        const out = attention.forward(h, frames);
        h = out.y;
        if (out.aux) aux[`aux${i}`] = tf.keep(out.aux);
      }
      return h;
    }
    const stem = this.conv1!.forward(x);
    let h = this.maxpool.forward(this.bn1!.forwardRelu(stem)) as tf.Tensor4D;
    this.stages.forEach((stage, i) => {
      const out = stage.forward(h, frames);
      h = out.y;
      if (out.aux) aux[`aux${i + 1}`] = tf.keep(out.aux);
    });
    return h;
  }

  /** x: [N, T, H, W, C] → frame tokens [N, T−1, tokenDim] (before positional embedding), the
   *  aux logits of the attention stages, keyed aux<stage> (aux2, aux3 for the reference's), and
   *  with `pool` each frame's pooled last map [N·T, frameDim] (the encoder's own pooling). */
  forward(x: tf.Tensor, pool = false): { tokens: tf.Tensor3D; aux: Record<string, tf.Tensor2D>; pooled?: tf.Tensor2D } {
    const { frames, size, inChannels } = this.o;
    if (x.rank !== 5 || x.shape[1] !== frames || x.shape[2] !== size[0] || x.shape[3] !== size[1] || x.shape[4] !== inChannels) {
      throw new Error(`ial: expected clips [N, ${frames}, ${size[0]}, ${size[1]}, ${inChannels}], got [${x.shape}]`);
    }
    const n = x.shape[0];
    const aux: Record<string, tf.Tensor2D> = {};
    let pooled: tf.Tensor2D | undefined;
    const tokens = tf.tidy(() => {
      const h = this.frameMaps(tf.reshape(x, [n * frames, size[0], size[1], inChannels]) as tf.Tensor4D, frames, aux);
      if (pool) pooled = tf.keep(this.encoder ? this.encoder.pool(h) : globalAvgPool(h));
      const fused = this.dsf.forward(h, frames); // [N·(T−1), H', W', C]
      // Channel-major flatten (c·H'W' + h·W' + w) as the reference's reshape of NCHW maps, so
      // pos_embedding and fc_f weights have PyTorch's meaning.
      return tf.reshape(tf.transpose(fused, [0, 3, 1, 2]), [n, frames - 1, this.tokenDim]) as tf.Tensor3D;
    });
    return { tokens, aux, pooled };
  }

  /** Tokens [M, L, D] + pos_embedding[:, :L] through the temporal transformer. */
  temporal(tokens: tf.Tensor3D): tf.Tensor3D {
    const l = tokens.shape[1];
    return tf.tidy(() => this.temporal_transformer.forward(tf.add(tokens, tf.slice(this.pos_embedding, [0, 0, 0], [1, l, this.tokenDim]))) as tf.Tensor3D);
  }
}

/** [M, L, D] → [M, 1 + L, D] with the tokens' mean in front (NR-DFERNet's dynamic class token). */
function withMeanToken(tokens: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => tf.concat([tf.mean(tokens, 1, true), tokens], 1) as tf.Tensor3D);
}

/** Token 0 of each sequence: [M, L, D] → [M, D]. */
function firstToken(seq: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(tf.slice(seq, [0, 0, 0], [-1, 1, -1]), [seq.shape[0], seq.shape[2]]) as tf.Tensor2D);
}

export class IalModel extends Module implements FerModel {
  readonly s_former: IalNetwork;
  readonly fc_f: Linear;
  /** The per-frame head (methodOptions.frameHead): named `fc` so --pretrained starts it from the
   *  trunk's pretrained classifier. */
  readonly fc?: Linear;
  readonly options: IalNetworkOptions;
  /** Index of the neutral class for the snippet filter (−1: no neutral class, no filter). */
  private readonly neutral: number;

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
  ) {
    super();
    if (config.backbone !== IAL_BACKBONE && !backbones.has(config.backbone)) {
      throw new Error(`ial: backbone "${config.backbone}" is neither the method's own trunk "${IAL_BACKBONE}" nor a registered backbone (face-resnet: the face-pretrained frame encoder)`);
    }
    this.options = ialNetworkOptions(config);
    this.s_former = this.registerModule('s_former', new IalNetwork(this.options, rng));
    this.fc_f = this.registerModule('fc_f', new Linear(this.s_former.tokenDim, config.classes.length, { rng }));
    if (this.options.frameHead) {
      this.fc = this.registerModule('fc', new Linear(this.s_former.frameDim, config.classes.length, { rng }));
      // The temporal classifier starts at zero, so the clip's logits are the frame head's at first,
      // and every GCA block starts as the identity (its last 1x1 conv at zero: 2·σ(0) = 1, so
      // S = √(1 + 1e-5)), so the frame head sees the trunk's own features: a trunk and classifier
      // taken from an image model (--pretrained, --init) keep their accuracy at the start.
      tf.tidy(() => {
        this.fc_f.weight.assign(tf.zerosLike(this.fc_f.weight));
        this.fc_f.bias?.assign(tf.zerosLike(this.fc_f.bias));
        for (const [, m] of this.namedModules()) {
          if (!(m instanceof GcaAttention)) continue;
          for (const v of m.fc2.parameters()) v.assign(tf.zerosLike(v));
        }
      });
    }
    this.neutral = config.classes.indexOf('neutral');
    const o = this.options;
    if (o.variant === 'nr-dfernet' && o.snippetFilter && this.neutral >= 0 && o.frames - 1 < o.snippetSize) {
      throw new Error(`ial: the snippet filter needs at least ${o.snippetSize} frame tokens (frames ≥ ${o.snippetSize + 1}), got ${o.frames} frames; set methodOptions.snippetFilter false`);
    }
  }

  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    if (training !== undefined && training !== this.training) this.train(training);
    const { tokens, aux, pooled } = this.s_former.forward(x, this.fc !== undefined);
    try {
      if (this.options.variant === 'ial') {
        const embedding = tf.tidy(() => tf.mean(this.s_former.temporal(tokens), 1) as tf.Tensor2D);
        return { logits: this.withFrameHead(this.fc_f.forward(embedding) as tf.Tensor2D, pooled), embedding, extras: aux };
      }
      const embedding = tf.tidy(() => firstToken(this.s_former.temporal(withMeanToken(tokens))));
      let logits = this.withFrameHead(this.fc_f.forward(embedding) as tf.Tensor2D, pooled);
      if (!this.training && this.options.snippetFilter && this.neutral >= 0) {
        const snippetProbs = this.snippetProbs(tokens);
        const filtered = this.filterNeutral(logits, snippetProbs);
        logits.dispose();
        logits = filtered;
        return { logits, embedding, extras: { ...aux, snippetProbs } };
      }
      return { logits, embedding, extras: aux };
    } finally {
      tokens.dispose();
      pooled?.dispose();
    }
  }

  /** `--init` from an image model on the encoder's trunk (a CE run on face-expression, say): its
   *  `backbone.*` weights become the frame encoder's and its classifier the frame head's, class by
   *  class by name; the attention blocks, DSF, the transformer and fc_f start fresh. */
  adoptWeights(tensors: Record<string, tf.Tensor>, source: { path: string; config?: ModelConfig }): { tensors: Record<string, tf.Tensor>; note: string } | undefined {
    const encoder = this.s_former.encoder;
    const trunkKeys = Object.keys(tensors).filter((k) => k.startsWith('backbone.'));
    if (!encoder || trunkKeys.length === 0 || Object.keys(tensors).some((k) => k.startsWith('s_former.'))) return undefined;
    const from = source.config;
    const what = `${source.path}: an image model${from ? ` (${from.method} on ${from.backbone})` : ''}`;
    if (from && (from.input.kind !== 'image' || from.backbone !== this.config.backbone)) {
      throw new Error(`${what} cannot start this clip model's frame encoder (${this.config.backbone}): give an image model on the same trunk`);
    }
    const [a, b] = [from?.input, this.config.input];
    if (a && (a.channels !== b.channels || a.mean.join() !== b.mean.join() || a.std.join() !== b.std.join())) {
      throw new Error(`${what} takes other input (channels ${a.channels}, mean [${a.mean}], std [${a.std}]) than this clip model (channels ${b.channels}, mean [${b.mean}], std [${b.std}])`);
    }
    const own = this.stateDict();
    const out: Record<string, tf.Tensor> = {};
    for (const k of trunkKeys) {
      const to = `s_former.encoder.${k.slice('backbone.'.length)}`;
      if (to in own) out[to] = tensors[k]!;
    }
    const lacking = Object.keys(own).filter((k) => k.startsWith('s_former.encoder.') && !(k in out));
    if (lacking.length) throw new Error(`${what} lacks weights of the frame encoder (${lacking.slice(0, 3).join(', ')}${lacking.length > 3 ? ', …' : ''}): not the same trunk`);
    let head = 'no frame head: the classifier is not taken';
    const w = tensors['fc.weight'];
    const bias = tensors['fc.bias'];
    if (this.fc && w && bias && from && w.shape[0] === this.fc.inFeatures) {
      // Columns by class name; classes the image model lacks keep their fresh start.
      const { weight, bias: b, fresh } = headColumnsByName(this.fc, this.config.classes, { classes: from.classes, weight: w.dataSync() as Float32Array, bias: bias.dataSync() as Float32Array });
      out['fc.weight'] = tf.tensor(weight, this.fc.weight.shape);
      out['fc.bias'] = tf.tensor(b, this.fc.bias!.shape);
      head = `the frame head from its classifier${fresh.length ? ` (${fresh.join(', ')}: not in it, fresh)` : ''}`;
    } else if (this.fc) {
      head = 'the frame head starts fresh (the image model has no matching classifier or no config.json)';
    }
    return { tensors: out, note: `frame encoder from ${what}; ${head}; attention, DSF, the transformer and fc_f start fresh` };
  }

  /** logits + the clip's mean of the frame head's logits (pooled: [N·T, frameDim]); consumes
   *  `logits` (returned as is without a frame head). */
  private withFrameHead(logits: tf.Tensor2D, pooled: tf.Tensor2D | undefined): tf.Tensor2D {
    if (!this.fc || !pooled) return logits;
    const [n, k] = logits.shape;
    const out = tf.tidy(() => tf.add(logits, tf.mean(tf.reshape(this.fc!.forward(pooled), [n, this.options.frames, k]), 1)) as tf.Tensor2D);
    logits.dispose();
    return out;
  }

  /** Overlapping snippets of the frame tokens ([0:3], [2:5], … at the defaults), each with its own
   *  mean token through the shared temporal transformer and classifier: [N, S, K] probabilities. */
  snippetProbs(tokens: tf.Tensor3D): tf.Tensor3D {
    const { snippetSize: size, snippetStride: stride } = this.options;
    const [n, l, d] = tokens.shape;
    const starts: number[] = [];
    for (let s = 0; s + size <= l; s += stride) starts.push(s);
    return tf.tidy(() => {
      // [S, N, size, D] → [S·N, size, D]; snippet-major, regrouped to [N, S, K] below.
      const snippets = tf.reshape(tf.stack(starts.map((s) => tf.slice(tokens, [0, s, 0], [-1, size, -1]))), [starts.length * n, size, d]) as tf.Tensor3D;
      const logits = this.fc_f.forward(firstToken(this.s_former.temporal(withMeanToken(snippets))));
      return tf.transpose(tf.reshape(tf.softmax(logits as tf.Tensor2D), [starts.length, n, -1]), [1, 0, 2]) as tf.Tensor3D;
    });
  }

  /** Sets the neutral logit to −1000 for the clips the snippet filter flags (spec §1.13). */
  private filterNeutral(logits: tf.Tensor2D, snippetProbs: tf.Tensor3D): tf.Tensor2D {
    const [n, s, k] = snippetProbs.shape;
    const p = snippetProbs.dataSync();
    const rows = logits.arraySync();
    for (let i = 0; i < n; i++) {
      const clip = Array.from({ length: s }, (_, j) => Array.from(p.subarray((i * s + j) * k, (i * s + j + 1) * k)));
      if (snippetFilter(clip, { ...SNIPPET_FILTER_DEFAULTS, neutral: this.neutral })) rows[i][this.neutral] = -1000;
    }
    return tf.tensor2d(rows, logits.shape);
  }
}

