// face-api.js's facial-expression net (Vincent Mühler; MIT licence, the weights ship inside
// @vladmandic/face-api as model/face_expression_model.*): a face-pretrained trunk that was trained
// for expressions, not identity. Its author: "trained on a variety of images from publicly
// available datasets as well as images scraped from the web" (which datasets is not said).
//
// Layout (face-api's FaceFeatureExtractor + FaceExpressionNet): four dense blocks of 32, 64, 128
// and 256 channels at 112 px, each halving the map: conv0 (3x3/2 'same': a plain conv in the first
// block, depthwise-separable after), then three depthwise-separable 3x3 convs, each taking the
// ReLU of the sum of all earlier outputs of the block; the block returns the ReLU of the sum of
// all four. 'same' is TF's (the odd padding pixel after), every conv has a bias and there is no
// batch norm. Then a 7x7 average pool (global at 112 px: ferkit pools globally at any size) and
// fc 256 → 7. Inputs are RGB, normalised as (x − [122.782, 117.001, 104.298]) / 255.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { defaultRandom } from '../../nn/random.js';
import { tfjsWeightTaker } from '../../nn/tfjs-weights.js';
import type { Rng } from '../../util/rng.js';
import { registerLayerEmitter, type ExportContext, type Value } from '../../onnx/index.js';
import * as ops from '../../onnx/ops.js';
import { Backbone, registerBackboneEmitter, type BackboneOptions, type PretrainedHead } from './backbone.js';

/** The net's input normalisation on ferkit's [0, 1] scale (the same as face-resnet's). */
export const FACE_EXPRESSION_INPUT = { mean: [122.782 / 255, 117.001 / 255, 104.298 / 255], std: [1, 1, 1] };

/** face-api's expression labels in its output order, as canonical class names. */
export const FACE_API_EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'] as const;

const WIDTHS = [32, 64, 128, 256];

// Without batch norm, PyTorch's default conv init shrinks the signal layer by layer; He init
// with unit gain (fan-in) keeps it about level through the blocks' sums, for a trunk trained
// without --pretrained.
const convInit = (shape: number[], fanIn: number, _fanOut: number, rng: Rng) => kaimingNormal(shape, fanIn, 'linear', 0, rng);

/** A depthwise 3x3 conv (no bias) then a pointwise 1x1 conv with a bias: tf.separableConv2d + bias. */
class SeparableConv extends Module {
  readonly depthwise: Conv2d;
  readonly pointwise: Conv2d;
  constructor(cin: number, cout: number, stride: number, rng: Rng) {
    super();
    this.depthwise = this.registerModule('depthwise', new Conv2d(cin, cin, 3, { stride, padding: 'same', groups: cin, bias: false, rng, weightInit: convInit }));
    this.pointwise = this.registerModule('pointwise', new Conv2d(cin, cout, 1, { rng, weightInit: convInit }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.pointwise.forward(this.depthwise.forward(x));
  }
}

class DenseBlock extends Module {
  readonly convs: (Conv2d | SeparableConv)[];
  constructor(cin: number, cout: number, first: boolean, rng: Rng) {
    super();
    const conv0 = first ? new Conv2d(cin, cout, 3, { stride: 2, padding: 'same', rng, weightInit: convInit }) : new SeparableConv(cin, cout, 2, rng);
    this.convs = [conv0, new SeparableConv(cout, cout, 1, rng), new SeparableConv(cout, cout, 1, rng), new SeparableConv(cout, cout, 1, rng)];
    this.convs.forEach((c, i) => this.registerModule(`conv${i}`, c));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // out1 = relu(conv0(x)); out_k = conv_k(relu(out1 + … + out_{k-1})); y = relu(Σ out).
      let sum = relu(this.convs[0]!.forward(x));
      for (let k = 1; k < 4; k++) sum = tf.add(sum, this.convs[k]!.forward(k === 1 ? sum : relu(sum)));
      return relu(sum);
    });
  }
}

export class FaceExpressionNet extends Backbone {
  readonly featureDim = 256;
  readonly blocks: DenseBlock[] = [];

  constructor(options: BackboneOptions = {}) {
    super();
    const rng = options.rng ?? defaultRandom();
    if ((options.widthMultiplier ?? 1) !== 1) throw new Error('face-expression: the pretrained trunk has a fixed width (no width multiplier)');
    const inChannels = options.inChannels ?? 3;
    if (inChannels !== 3) throw new Error(`face-expression takes RGB input (3 channels; grey faces are replicated), got ${inChannels}`);
    let cin = 3;
    WIDTHS.forEach((w, i) => {
      this.blocks.push(this.registerModule(`dense${i}`, new DenseBlock(cin, w, i === 0, rng)));
      cin = w;
    });
    if (options.numClasses) this.fc = this.registerModule('fc', new Linear(this.featureDim, options.numClasses, { rng }));
  }

  /** Named parts for freezing (`--freeze dense0,dense1`). */
  override parts(): [string, Module[]][] {
    return this.blocks.map((b, i) => [`dense${i}`, [b]]);
  }

  override runParts(x: tf.Tensor, from: number, to = this.blocks.length): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x;
      for (let i = from; i < to; i++) h = this.blocks[i]!.forward(h);
      return h as tf.Tensor4D;
    });
  }

  protected map(x: tf.Tensor): tf.Tensor4D {
    return this.runParts(x, 0);
  }

  /** [h, w, C] after each block: TF 'same' stride 2 gives ceil(s / 2). */
  override partShapes([h, w]: [number, number]): [number, number, number][] {
    let side = [h, w];
    return WIDTHS.map((c) => {
      side = side.map((s) => Math.ceil(s / 2));
      return [side[0]!, side[1]!, c] as [number, number, number];
    });
  }

  override featuresFrom(map: tf.Tensor, from: number): tf.Tensor2D {
    return tf.tidy(() => this.pool(this.runParts(map, from)));
  }

  /** The classifier read with the weights by loadPretrained (one read of the manifest serves both). */
  private loadedHead?: PretrainedHead;

  /** Loads face-api's expression-net weights into the four blocks. */
  override loadPretrained(manifest = faceExpressionManifest()): void {
    const take = tfjsWeightTaker(manifest);
    const put = (conv: Conv2d, name: string) => {
      const t = take(name, conv.weight.shape);
      tf.tidy(() => conv.weight.assign(tf.tensor(t.data, t.shape)));
    };
    const putBias = (conv: Conv2d, name: string) => {
      const t = take(name, [conv.outChannels]);
      tf.tidy(() => conv.bias!.assign(tf.tensor(t.data)));
    };
    this.blocks.forEach((block, i) => {
      block.convs.forEach((c, k) => {
        const p = `dense${i}/conv${k}`;
        if (c instanceof Conv2d) {
          put(c, `${p}/filters`);
          putBias(c, `${p}/bias`);
        } else {
          put(c.depthwise, `${p}/depthwise_filter`);
          put(c.pointwise, `${p}/pointwise_filter`);
          putBias(c.pointwise, `${p}/bias`);
        }
      });
    });
    this.loadedHead = headOf(take);
  }

  /** face-api's classifier over its seven expressions, for a head that starts where face-api's
   *  net ends (zero-shot equal to face-api's expression net). */
  override pretrainedHead(): PretrainedHead {
    return this.loadedHead ?? headOf(tfjsWeightTaker(faceExpressionManifest()));
  }
}

function headOf(take: ReturnType<typeof tfjsWeightTaker>): PretrainedHead {
  return { classes: [...FACE_API_EXPRESSIONS], weight: take('fc/weights', [256, 7]).data, bias: take('fc/bias', [7]).data };
}

/** face-api's manifest of the expression-net weights (read from disk, never fetched). */
function faceExpressionManifest(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model', 'face_expression_model-weights_manifest.json');
}

export const faceExpression = (options: BackboneOptions = {}) => new FaceExpressionNet(options);

// ONNX, the eval forward in NCHW ('same' convs emit as SAME_UPPER, TF's convention).
registerLayerEmitter(SeparableConv, (ctx, m, x) => ctx.emit(m.pointwise, ctx.emit(m.depthwise, x)));

registerLayerEmitter(DenseBlock, (ctx, m, x) => {
  let sum = ops.relu(ctx, ctx.emit(m.convs[0]!, x), ctx.name(m, 'relu0'));
  for (let k = 1; k < 4; k++) {
    const input = k === 1 ? sum : ops.relu(ctx, sum, ctx.name(m, `relu${k}`));
    sum = ops.add(ctx, sum, ctx.emit(m.convs[k]!, input), ctx.name(m, `add${k}`));
  }
  return ops.relu(ctx, sum, ctx.name(m, 'relu'));
});

function emitParts(ctx: ExportContext, m: FaceExpressionNet, x: Value, from: number, to: number): Value {
  let h = x;
  for (let i = from; i < to; i++) h = ctx.emit(m.blocks[i]!, h);
  return h;
}

registerBackboneEmitter(FaceExpressionNet, {
  featureMap: (ctx, m, x) => emitParts(ctx, m, x, 0, m.blocks.length),
  runParts: emitParts,
});
