// ResNet (He et al. 2016) laid out exactly like torchvision's resnet18/34/50: same modules,
// same parameter names (conv1.weight, bn1.running_mean, layer2.0.downsample.0.weight, fc.bias),
// same initialisation, so torchvision state dicts load through loadTorchStateDict. NHWC, any
// input size.
import { tf } from '../../engine/backend.js';
import { relu } from '../../nn/activations.js';
import { Conv2d } from '../../nn/conv.js';
import { kaimingNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module, Sequential, type Forward } from '../../nn/module.js';
import { BatchNorm2d } from '../../nn/norm.js';
import { MaxPool2d } from '../../nn/pool.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import { registerLayerEmitter, type ExportContext, type Value } from '../../onnx/index.js';
import * as ops from '../../onnx/ops.js';
import { Backbone, registerBackboneEmitter, type BackboneOptions } from './backbone.js';

export interface ResNetOptions extends BackboneOptions {
  /** torchvision's zero_init_residual: last BN of each block starts at γ = 0. */
  zeroInitResidual?: boolean;
}

/** torchvision's conv init: kaiming_normal_(mode='fan_out', nonlinearity='relu'). */
const convInit = (shape: number[], _fanIn: number, fanOut: number, rng: Rng) => kaimingNormal(shape, fanOut, 'relu', 0, rng);

function conv(cin: number, cout: number, k: number, stride: number, rng: Rng): Conv2d {
  return new Conv2d(cin, cout, k, { stride, padding: Math.floor(k / 2), bias: false, rng, weightInit: convInit });
}

interface Block extends Forward {
  readonly lastBn: BatchNorm2d;
}

class BasicBlock extends Module implements Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample?: Sequential;

  constructor(cin: number, width: number, stride: number, rng: Rng) {
    super();
    this.conv1 = this.registerModule('conv1', conv(cin, width, 3, stride, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', conv(width, width, 3, 1, rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    if (stride !== 1 || cin !== width) {
      this.downsample = this.registerModule('downsample', new Sequential(conv(cin, width, 1, stride, rng), new BatchNorm2d(width)));
    }
  }

  get lastBn(): BatchNorm2d {
    return this.bn2;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.bn2.forward(this.conv2.forward(this.bn1.forwardRelu(this.conv1.forward(x))));
      return relu(tf.add(y, this.downsample ? this.downsample.forward(x) : x));
    });
  }
}

/** torchvision's Bottleneck (ResNet v1.5: the stride sits on the 3x3 conv). */
class Bottleneck extends Module implements Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample?: Sequential;

  constructor(cin: number, width: number, stride: number, rng: Rng) {
    super();
    const out = width * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', conv(cin, width, 1, 1, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', conv(width, width, 3, stride, rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv(width, out, 1, 1, rng));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    if (stride !== 1 || cin !== out) {
      this.downsample = this.registerModule('downsample', new Sequential(conv(cin, out, 1, stride, rng), new BatchNorm2d(out)));
    }
  }

  get lastBn(): BatchNorm2d {
    return this.bn3;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = this.bn1.forwardRelu(this.conv1.forward(x));
      y = this.bn2.forwardRelu(this.conv2.forward(y));
      y = this.bn3.forward(this.conv3.forward(y));
      return relu(tf.add(y, this.downsample ? this.downsample.forward(x) : x));
    });
  }
}

type BlockClass = (typeof BasicBlock | typeof Bottleneck) & { expansion: number };

const RESNET_LAYOUTS: Record<number, { block: BlockClass; layers: [number, number, number, number] }> = {
  18: { block: BasicBlock, layers: [2, 2, 2, 2] },
  34: { block: BasicBlock, layers: [3, 4, 6, 3] },
  50: { block: Bottleneck, layers: [3, 4, 6, 3] },
};

export class ResNet extends Backbone {
  readonly featureDim: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layers: Sequential[] = [];

  constructor(
    readonly depth: 18 | 34 | 50,
    options: ResNetOptions = {},
  ) {
    super();
    const spec = RESNET_LAYOUTS[depth];
    if (!spec) throw new Error(`ResNet: unsupported depth ${depth}; known: ${Object.keys(RESNET_LAYOUTS).join(', ')}`);
    const rng = options.rng ?? defaultRandom();
    const m = options.widthMultiplier ?? 1;
    if (!(m > 0)) throw new Error(`ResNet: widthMultiplier must be positive, got ${m}`);
    const width = (c: number) => Math.max(1, Math.round(c * m));
    const inChannels = options.inChannels ?? 3;
    let cin = width(64);
    this.conv1 = this.registerModule('conv1', conv(inChannels, cin, 7, 2, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(cin));
    this.maxpool = new MaxPool2d(3, 2, 1); // no parameters: not registered, as in torchvision's names
    [64, 128, 256, 512].forEach((w, i) => {
      const stage = new Sequential();
      for (let b = 0; b < spec.layers[i]; b++) {
        const block = new spec.block(cin, width(w), b === 0 && i > 0 ? 2 : 1, rng);
        stage.append(block);
        cin = width(w) * spec.block.expansion;
      }
      this.layers.push(this.registerModule(`layer${i + 1}`, stage));
    });
    this.featureDim = cin;
    if (options.zeroInitResidual) {
      for (const stage of this.layers) {
        for (let b = 0; b < stage.length; b++) {
          const gamma = (stage.get(b) as unknown as Block).lastBn.weight;
          if (gamma) tf.tidy(() => gamma.assign(tf.zerosLike(gamma)));
        }
      }
    }
    if (options.numClasses) this.fc = this.registerModule('fc', new Linear(cin, options.numClasses, { rng }));
  }

  override parts(): [string, Module[]][] {
    return [['stem', [this.conv1, this.bn1]], ...this.layers.map((l, i) => [`stage${i + 1}`, [l]] as [string, Module[]])];
  }

  protected map(x: tf.Tensor): tf.Tensor4D {
    let h = this.maxpool.forward(this.bn1.forwardRelu(this.conv1.forward(x)));
    for (const stage of this.layers) h = stage.forward(h);
    return h as tf.Tensor4D;
  }
}

export const resnet18 = (options: ResNetOptions = {}) => new ResNet(18, options);
export const resnet34 = (options: ResNetOptions = {}) => new ResNet(34, options);
export const resnet50 = (options: ResNetOptions = {}) => new ResNet(50, options);

const block = (ctx: ExportContext, m: BasicBlock | Bottleneck, x: Value, body: Value) => {
  const skip = m.downsample ? ctx.emit(m.downsample, x) : x;
  return ops.relu(ctx, ops.add(ctx, body, skip, ctx.name(m, 'add')), ctx.name(m, 'relu'));
};

registerLayerEmitter(BasicBlock, (ctx, m, x) => {
  const y = ops.relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu1'));
  return block(ctx, m, x, ctx.emit(m.bn2, ctx.emit(m.conv2, y)));
});

registerLayerEmitter(Bottleneck, (ctx, m, x) => {
  let y = ops.relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu1'));
  y = ops.relu(ctx, ctx.emit(m.bn2, ctx.emit(m.conv2, y)), ctx.name(m, 'relu2'));
  return block(ctx, m, x, ctx.emit(m.bn3, ctx.emit(m.conv3, y)));
});

registerBackboneEmitter(ResNet, {
  featureMap: (ctx, m, x) => {
    let h = ops.relu(ctx, ctx.emit(m.bn1, ctx.emit(m.conv1, x)), ctx.name(m, 'relu'));
    h = ctx.emit(m.maxpool, h);
    for (const stage of m.layers) h = ctx.emit(stage, h);
    return h;
  },
});
