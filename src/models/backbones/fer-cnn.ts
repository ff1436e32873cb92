// A compact VGG-style CNN for small grey face crops (FER2013's 48x48): conv3x3-BN-ReLU pairs in
// four stages with max-pooling between them and global average pooling at the end. Small enough to
// train on a CPU in TF.js wasm (the ResNets are 10-50x the work per image), deep enough to reach
// mini-Xception accuracy on FER2013. Any input size works: the head sees pooled features.
import { tf } from '../../engine/backend.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import { MaxPool2d } from '../../nn/pool.js';
import { Dropout } from '../../nn/dropout.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import type { ExportContext, Value } from '../../onnx/index.js';
import { relu } from '../../onnx/ops.js';
import { Backbone, registerBackboneEmitter, type BackboneOptions } from './backbone.js';

export interface FerCnnOptions extends BackboneOptions {
  /** Channels per conv, stage by stage, before the width multiplier. */
  stages?: number[][];
  /** Dropout before the classifier (only with numClasses). */
  dropout?: number;
}

const FER_CNN_STAGES = [
  [32, 32],
  [64, 64],
  [128, 128],
  [256, 256],
];

/** Whether fer-cnn 2x2-pools an h x w map before stage i: between stages, never below 3x3 (keeps
 *  small inputs valid). The TF.js forward, the ONNX emitter and ensemble mirroring share it. */
export const poolsBeforeStage = (i: number, h: number, w: number): boolean => i > 0 && Math.min(h, w) >= 6;

class ConvBnRelu extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(cin: number, cout: number, rng: Rng) {
    super();
    const init = (shape: number[], _fanIn: number, fanOut: number, r: Rng) => kaimingNormal(shape, fanOut, 'relu', 0, r);
    this.conv = this.registerModule('conv', new Conv2d(cin, cout, 3, { padding: 1, bias: false, rng, weightInit: init }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.bn.forwardRelu(this.conv.forward(x)));
  }
}

class FerCnn extends Backbone {
  readonly featureDim: number;
  readonly stages: Sequential[] = [];
  readonly maxpool = new MaxPool2d(2);

  constructor(options: FerCnnOptions = {}) {
    super();
    const rng = options.rng ?? defaultRandom();
    const m = options.widthMultiplier ?? 1;
    if (!(m > 0)) throw new Error(`FerCnn: widthMultiplier must be positive, got ${m}`);
    let cin = options.inChannels ?? 1;
    (options.stages ?? FER_CNN_STAGES).forEach((widths, i) => {
      const stage = new Sequential();
      for (const w of widths) {
        const cout = Math.max(1, Math.round(w * m));
        stage.append(new ConvBnRelu(cin, cout, rng));
        cin = cout;
      }
      this.stages.push(this.registerModule(`stage${i + 1}`, stage));
    });
    this.featureDim = cin;
    if (options.numClasses) {
      if (options.dropout) this.dropout = this.registerModule('dropout', new Dropout(options.dropout, { rng }));
      this.fc = this.registerModule('fc', new Linear(cin, options.numClasses, { rng }));
    }
  }

  override parts(): [string, Module[]][] {
    return this.stages.map((s, i) => [`stage${i + 1}`, [s]]);
  }

  protected map(x: tf.Tensor): tf.Tensor4D {
    let h = x;
    this.stages.forEach((stage, i) => {
      if (poolsBeforeStage(i, h.shape[1]!, h.shape[2]!)) h = this.maxpool.forward(h);
      h = stage.forward(h);
    });
    return h as tf.Tensor4D;
  }
}

export const ferCnn = (options: FerCnnOptions = {}) => new FerCnn(options);

/** A stage's conv → BN → ReLU block; anything else in a stage is an error naming it. */
function convBnRelu(ctx: ExportContext, m: Module, x: Value): Value {
  if (!(m instanceof ConvBnRelu)) throw new Error(`ONNX export: fer-cnn block "${ctx.path(m)}" (${m.constructor.name}) is not a conv + bn block`);
  return relu(ctx, ctx.emit(m.bn, ctx.emit(m.conv, x)), ctx.name(m, 'relu'));
}

registerBackboneEmitter(FerCnn, {
  featureMap: (ctx, m, x) => {
    let h = x;
    m.stages.forEach((stage, i) => {
      if (poolsBeforeStage(i, h.shape[2]!, h.shape[3]!)) h = ctx.emit(m.maxpool, h); // NCHW here
      for (const [, b] of stage.namedChildren()) h = convBnRelu(ctx, b, h);
    });
    return h;
  },
});
