// dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1, Davis King): a half-width
// ResNet-34 with 29 conv layers trained on ~3 million faces of 7,485 identities for a 128-D face
// descriptor. Its weights ship inside @vladmandic/face-api (model/face_recognition_model.*), so a
// face-pretrained trunk needs no download; dlib's author released them into the public domain.
//
// Layout (face-api's FaceRecognitionNet, which mirrors dlib's anet_type): a 7x7/2 'valid' conv and
// a 3x3/2 'valid' max-pool (the stem), then residual blocks of two 3x3 convs in stages of
// 32 (x3), 64 (down + 3), 128 (down + 2), 256 (down + 2) and a last 256 down block. A down block's
// first conv is 3x3/2 'valid'; its shortcut is a 2x2 average pool, zero-padded in channels, and
// the conv branch is zero-padded by one row/column where the pool's map is larger. dlib's affine
// layers (batch norm folded into a scale and shift) load as BatchNorm2d with running mean = −conv
// bias and running var = 1 − ε, so eval mode is exact and fine-tuning may use batch statistics.
// Inputs are RGB, normalised as (x − [122.782, 117.001, 104.298]) / 255. Inputs below ~112 px would
// shrink a down block's map below its 3x3 kernel: the conv branch is then zero-padded to 3x3 (and
// a 1x1 map is its own shortcut), an extension of dlib's layout that leaves 112 px and up exact.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import { globalAvgPool, MaxPool2d } from '../../nn/pool.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { tfjsWeightTaker } from '../../nn/tfjs-weights.js';
import { registerLayerEmitter, type ExportContext, type Value } from '../../onnx/index.js';
import * as ops from '../../onnx/ops.js';
import { Backbone, registerBackboneEmitter, type BackboneOptions } from './backbone.js';

/** The trunk's own input normalisation, on the [0, 1] scale ferkit's InputSpec uses. */
export const FACE_RESNET_INPUT = { mean: [122.782 / 255, 117.001 / 255, 104.298 / 255], std: [1, 1, 1] };

export interface FaceResNetOptions extends BackboneOptions {
  /** Stages kept after the stem, 1-5 (default 5: the whole trunk). Fewer = an earlier cut. */
  stages?: number;
  /** Adds dlib's 128-D descriptor layer (fc 256 → 128, no bias) after pooling: features are then
   *  the face descriptor (needs all 5 stages). */
  descriptor?: boolean;
}

/** [name, width, blocks, starts with a down block] of stages 1-5, as face-api names them. */
const STAGES: [number, number, boolean][] = [
  [32, 3, false],
  [64, 4, true],
  [128, 3, true],
  [256, 3, true],
  [256, 1, true],
];

const convInit = (shape: number[], _fanIn: number, fanOut: number, rng: Rng) => kaimingNormal(shape, fanOut, 'relu', 0, rng);

export class ConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(cin: number, cout: number, kernel: number, stride: number, rng: Rng) {
    super();
    // Stride-2 convs are 'valid' in dlib; stride-1 ones keep the size.
    this.conv = this.registerModule('conv', new Conv2d(cin, cout, kernel, { stride, padding: stride === 1 ? (kernel - 1) / 2 : 0, bias: false, rng, weightInit: convInit }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}

/** Zero rows/columns added at the bottom/right to make x at least h x w. */
function padTo(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, xh, xw] = x.shape;
  return xh >= h && xw >= w ? x : tf.pad(x, [[0, 0], [0, Math.max(0, h - xh)], [0, Math.max(0, w - xw)], [0, 0]]);
}

/** 2x2/2 'valid' average pooling as reshape + mean (differentiable on every backend). */
function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  const even = h === 2 * oh && w === 2 * ow ? x : tf.slice(x, [0, 0, 0, 0], [n, 2 * oh, 2 * ow, c]);
  return tf.mean(tf.reshape(even, [n, oh, 2, ow, 2, c]), [2, 4]) as tf.Tensor4D;
}

/** The output side of a down block for an input side s (also what the ONNX emitter uses). */
const downSide = (s: number): number => Math.max(1, Math.floor(s / 2));

class FaceResidual extends Module {
  readonly conv1: ConvBn;
  readonly conv2: ConvBn;
  constructor(
    readonly cin: number,
    readonly cout: number,
    readonly down: boolean,
    rng: Rng,
  ) {
    super();
    this.conv1 = this.registerModule('conv1', new ConvBn(cin, cout, 3, down ? 2 : 1, rng));
    this.conv2 = this.registerModule('conv2', new ConvBn(cout, cout, 3, 1, rng));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x4 = x as tf.Tensor4D;
      if (!this.down) return relu(tf.add(this.conv2.forward(relu(this.conv1.forward(x4))), x4));
      const [, h, w] = x4.shape;
      const oh = downSide(h);
      const ow = downSide(w);
      let y = this.conv2.forward(relu(this.conv1.forward(padTo(x4, 3, 3)))) as tf.Tensor4D;
      y = padTo(y, oh, ow);
      let skip = h >= 2 && w >= 2 ? avgPool2(x4) : x4;
      if (this.cout > this.cin) skip = tf.pad(skip, [[0, 0], [0, 0], [0, 0], [0, this.cout - this.cin]]);
      return relu(tf.add(y, skip));
    });
  }
}

export class FaceResNet extends Backbone {
  readonly featureDim: number;
  readonly stem: ConvBn;
  readonly maxpool = new MaxPool2d(3, 2);
  readonly stageList: Sequential[] = [];
  readonly descriptor?: Linear;

  constructor(options: FaceResNetOptions = {}) {
    super();
    const rng = options.rng ?? defaultRandom();
    const kept = options.stages ?? 5;
    if (!(Number.isInteger(kept) && kept >= 1 && kept <= 5)) throw new Error(`face-resnet: stages must be 1 to 5, got ${kept}`);
    if ((options.widthMultiplier ?? 1) !== 1) throw new Error('face-resnet: the pretrained trunk has a fixed width (no width multiplier)');
    const inChannels = options.inChannels ?? 3;
    if (inChannels !== 3) throw new Error(`face-resnet takes RGB input (3 channels; grey faces are replicated), got ${inChannels}`);
    this.stem = this.registerModule('stem', new ConvBn(3, 32, 7, 2, rng));
    let cin = 32;
    STAGES.slice(0, kept).forEach(([width, blocks, down], i) => {
      const stage = new Sequential();
      for (let b = 0; b < blocks; b++) {
        stage.append(new FaceResidual(cin, width, down && b === 0, rng));
        cin = width;
      }
      this.stageList.push(this.registerModule(`stage${i + 1}`, stage));
    });
    if (options.descriptor) {
      if (kept !== 5) throw new Error('face-resnet: the 128-D descriptor needs all 5 stages');
      this.descriptor = this.registerModule('descriptor', new Linear(cin, 128, { bias: false, rng }));
    }
    this.featureDim = this.descriptor ? 128 : cin;
    if (options.numClasses) this.fc = this.registerModule('fc', new Linear(this.featureDim, options.numClasses, { rng }));
  }

  /** Named parts for freezing (`--freeze stem,stage1`). */
  override parts(): [string, Module[]][] {
    return [['stem', [this.stem]], ...this.stageList.map((s, i) => [`stage${i + 1}`, [s]] as [string, Module[]])];
  }

  override runParts(x: tf.Tensor, from: number, to = this.stageList.length + 1): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x;
      for (let i = from; i < to; i++) h = i === 0 ? this.maxpool.forward(relu(this.stem.forward(h))) : this.stageList[i - 1]!.forward(h);
      return h as tf.Tensor4D;
    });
  }

  protected map(x: tf.Tensor): tf.Tensor4D {
    return this.runParts(x, 0);
  }

  /** Global average pooling, then dlib's descriptor layer when kept. */
  override pool(map: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const f = globalAvgPool(map);
      return this.descriptor ? (this.descriptor.forward(f) as tf.Tensor2D) : f;
    });
  }

  /** [h, w, C] after the stem and each kept stage: 'valid' 7x7/2 conv and 3x3/2 pool, then each
   *  down block halves (downSide). */
  override partShapes([h, w]: [number, number]): [number, number, number][] {
    const valid = (s: number, k: number) => Math.floor((s - k) / 2) + 1;
    let side: [number, number] = [valid(valid(h, 7), 3), valid(valid(w, 7), 3)];
    if (side[0] < 1 || side[1] < 1) throw new Error(`face-resnet: an input of ${h}x${w} is too small (64 px or more)`);
    const out: [number, number, number][] = [[side[0], side[1], 32]];
    STAGES.slice(0, this.stageList.length).forEach(([width, , down]) => {
      if (down) side = [downSide(side[0]), downSide(side[1])];
      out.push([side[0], side[1], width]);
    });
    return out;
  }

  override featuresFrom(map: tf.Tensor, from: number): tf.Tensor2D {
    return tf.tidy(() => this.pool(this.runParts(map, from)));
  }

  /** Loads dlib's face-recognition weights (from @vladmandic/face-api) into the kept stages (and
   *  the descriptor layer when present); the classifier head, if any, is left as initialised. */
  override loadPretrained(manifest = faceRecognitionManifest()): void {
    const take = tfjsWeightTaker(manifest);
    const load = (m: ConvBn, prefix: string) => {
      const [kh, kw, ci, co] = m.conv.weight.shape;
      const filters = take(`${prefix}/conv/filters`, [kh, kw, ci, co]);
      const bias = take(`${prefix}/conv/bias`, [co]);
      const scale = take(`${prefix}/scale/weights`, [co]);
      const shift = take(`${prefix}/scale/biases`, [co]);
      const eps = m.bn.eps;
      tf.tidy(() => {
        m.conv.weight.assign(tf.tensor(filters.data, filters.shape));
        // (conv + b)·s + t  ==  γ (conv − μ) / √(σ² + ε) + β  with μ = −b, σ² = 1 − ε, γ = s, β = t.
        m.bn.weight!.assign(tf.tensor(scale.data));
        m.bn.bias!.assign(tf.tensor(shift.data));
        m.bn.runningMean.assign(tf.neg(tf.tensor(bias.data)));
        m.bn.runningVar.assign(tf.fill([co], 1 - eps));
      });
    };
    load(this.stem, 'conv32_down');
    const names: string[][] = [
      ['conv32_1', 'conv32_2', 'conv32_3'],
      ['conv64_down', 'conv64_1', 'conv64_2', 'conv64_3'],
      ['conv128_down', 'conv128_1', 'conv128_2'],
      ['conv256_down', 'conv256_1', 'conv256_2'],
      ['conv256_down_out'],
    ];
    this.stageList.forEach((stage, i) => {
      for (let b = 0; b < stage.length; b++) {
        const block = stage.get(b) as unknown as FaceResidual;
        load(block.conv1, `${names[i]![b]}/conv1`);
        load(block.conv2, `${names[i]![b]}/conv2`);
      }
    });
    if (this.descriptor) {
      const fc = take('fc', [256, 128]);
      tf.tidy(() => this.descriptor!.weight.assign(tf.tensor(fc.data, fc.shape)));
    }
  }
}

/** face-api's manifest of the face-recognition weights (read from disk, never fetched). */
function faceRecognitionManifest(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model', 'face_recognition_model-weights_manifest.json');
}

export const faceResnet = (options: FaceResNetOptions = {}) => new FaceResNet(options);

// ONNX, mirroring the eval forward in NCHW: 'valid' stride-2 convs, a 2x2 average-pool shortcut
// zero-padded in channels, and the zero rows/columns a down block adds where the pool's map is
// larger than the conv's.
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
    const y = convBn(m.conv2, ops.relu(ctx, convBn(m.conv1, x), ctx.name(m, 'relu1')));
    return ops.relu(ctx, ops.add(ctx, y, x, ctx.name(m, 'add')), ctx.name(m, 'relu'));
  }
  const oh = downSide(h!);
  const ow = downSide(w!);
  const xin = padEnd(ctx, x, [0, 0, Math.max(0, 3 - h!), Math.max(0, 3 - w!)], ctx.name(m, 'pad_in'));
  let y = convBn(m.conv2, ops.relu(ctx, convBn(m.conv1, xin), ctx.name(m, 'relu1')));
  y = padEnd(ctx, y, [0, 0, oh - y.shape[2]!, ow - y.shape[3]!], ctx.name(m, 'pad_out'));
  let skip = x;
  if (h! >= 2 && w! >= 2) skip = ctx.g.node('AveragePool', [x.name], [n!, c!, oh, ow], { kernel_shape: [2, 2], strides: [2, 2] }, ctx.name(m, 'shortcut_pool'));
  skip = padEnd(ctx, skip, [0, m.cout - m.cin, 0, 0], ctx.name(m, 'shortcut_pad'));
  return ops.relu(ctx, ops.add(ctx, y, skip, ctx.name(m, 'add')), ctx.name(m, 'relu'));
});

/** Parts [from, to) (0: the stem with its max-pool, i: stage i), as FaceResNet.runParts. */
function emitFaceParts(ctx: ExportContext, m: FaceResNet, x: Value, from: number, to: number): Value {
  let h = x;
  for (let i = from; i < to; i++) {
    if (i > 0) {
      h = ctx.emit(m.stageList[i - 1]!, h);
      continue;
    }
    h = ops.relu(ctx, ctx.emit(m.stem.bn, ctx.emit(m.stem.conv, h)), ctx.name(m.stem, 'relu'));
    h = ops.maxPool(ctx, h, m.maxpool.kernel, m.maxpool.stride, m.maxpool.padding, ctx.name(m, 'maxpool'));
  }
  return h;
}

registerBackboneEmitter(FaceResNet, {
  featureMap: (ctx, m, x) => emitFaceParts(ctx, m, x, 0, m.stageList.length + 1),
  runParts: emitFaceParts,
  pool: (ctx, m, map) => {
    const f = ops.globalAvgPool(ctx, map, ctx.name(m, 'avgpool'));
    return m.descriptor ? ops.linear(ctx, m.descriptor, f) : f;
  },
});
