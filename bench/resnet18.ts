// ResNet-18 in torchvision's layout, written directly on tfjs-core ops, for the engine benchmarks:
// the same network as bench/pytorch_resnet18.py, so the two sides time the same work.
import { tf } from '../src/engine/backend.js';
import { batchNormTrain } from '../src/nn/batch-norm-op.js';

interface BN {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}
interface Block {
  conv1: tf.Variable;
  bn1: BN;
  conv2: tf.Variable;
  bn2: BN;
  stride: number;
  down?: { conv: tf.Variable; bn: BN };
}

export class BenchResNet18 {
  readonly variables: tf.Variable[] = [];
  private readonly stem: tf.Variable;
  private readonly stemBn: BN;
  private readonly blocks: Block[] = [];
  private readonly fcW: tf.Variable;
  private readonly fcB: tf.Variable;

  constructor(numClasses: number, seed = 1) {
    let s = seed;
    const conv = (k: number, cin: number, cout: number) =>
      this.track(tf.variable(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cout)), 'float32', s++)));
    const bn = (c: number): BN => ({
      gamma: this.track(tf.variable(tf.ones([c]))),
      beta: this.track(tf.variable(tf.zeros([c]))),
      mean: tf.zeros([c]),
      variance: tf.ones([c]),
    });
    this.stem = conv(7, 3, 64);
    this.stemBn = bn(64);
    let cin = 64;
    for (const [cout, stride] of [
      [64, 1],
      [64, 1],
      [128, 2],
      [128, 1],
      [256, 2],
      [256, 1],
      [512, 2],
      [512, 1],
    ]) {
      const block: Block = { conv1: conv(3, cin, cout), bn1: bn(cout), conv2: conv(3, cout, cout), bn2: bn(cout), stride };
      if (stride !== 1 || cin !== cout) block.down = { conv: conv(1, cin, cout), bn: bn(cout) };
      this.blocks.push(block);
      cin = cout;
    }
    this.fcW = this.track(tf.variable(tf.randomUniform([512, numClasses], -1 / Math.sqrt(512), 1 / Math.sqrt(512), 'float32', s++)));
    this.fcB = this.track(tf.variable(tf.zeros([numClasses])));
  }

  private track(v: tf.Variable): tf.Variable {
    this.variables.push(v);
    return v;
  }

  /** PyTorch padding (symmetric) for the strided convs and the max-pool. */
  private conv(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
    return tf.conv2d(x, w, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  }

  /** Training-mode BatchNorm: batch statistics. */
  private bnTrain(x: tf.Tensor4D, p: BN): tf.Tensor4D {
    const { y, mean, variance } = batchNormTrain(x, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, 1e-5);
    tf.dispose([mean, variance]);
    return y as tf.Tensor4D;
  }

  /** Forward pass in training mode (batch-statistics BatchNorm) → logits. */
  forwardTrain(x: tf.Tensor4D): tf.Tensor2D {
    let h = tf.relu(this.bnTrain(this.conv(x, this.stem as tf.Tensor4D, 2, 3), this.stemBn));
    h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid');
    for (const b of this.blocks) {
      let y = tf.relu(this.bnTrain(this.conv(h, b.conv1 as tf.Tensor4D, b.stride, 1), b.bn1));
      y = this.bnTrain(this.conv(y, b.conv2 as tf.Tensor4D, 1, 1), b.bn2);
      const id = b.down ? this.bnTrain(this.conv(h, b.down.conv as tf.Tensor4D, b.stride, 0), b.down.bn) : h;
      h = tf.relu(tf.add(y, id)) as tf.Tensor4D;
    }
    return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, this.fcW), this.fcB);
  }

  /** Inference graph: BatchNorm (running statistics) folded into each conv's weights and bias, and
   *  conv + bias + ReLU fused, as an inference runtime does. */
  inferenceFn(): (x: tf.Tensor4D) => tf.Tensor2D {
    const fold = (w: tf.Variable, p: BN) =>
      tf.tidy(() => {
        const scale = tf.mul(p.gamma, tf.rsqrt(tf.add(p.variance, 1e-5)));
        return { w: tf.mul(w, scale) as tf.Tensor4D, b: tf.sub(p.beta, tf.mul(p.mean, scale)) as tf.Tensor1D };
      });
    const stem = fold(this.stem, this.stemBn);
    const blocks = this.blocks.map((b) => ({
      c1: fold(b.conv1, b.bn1),
      c2: fold(b.conv2, b.bn2),
      down: b.down ? fold(b.down.conv, b.down.bn) : undefined,
      stride: b.stride,
    }));
    const fc = (pad: number) => [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [[0, 0], [number, number], [number, number], [0, 0]];
    return (x) =>
      tf.tidy(() => {
        let h = tf.fused.conv2d({ x, filter: stem.w, strides: 2, pad: fc(3), bias: stem.b, activation: 'relu' });
        h = tf.maxPool(tf.pad(h, fc(1), -Infinity), 3, 2, 'valid');
        for (const b of blocks) {
          const y = tf.fused.conv2d({ x: h, filter: b.c1.w, strides: b.stride, pad: fc(1), bias: b.c1.b, activation: 'relu' });
          const z = tf.fused.conv2d({ x: y, filter: b.c2.w, strides: 1, pad: fc(1), bias: b.c2.b });
          const id = b.down ? tf.fused.conv2d({ x: h, filter: b.down.w, strides: b.stride, pad: 'valid', bias: b.down.b }) : h;
          h = tf.relu(tf.add(z, id)) as tf.Tensor4D;
        }
        return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, this.fcW), this.fcB);
      });
  }
}
