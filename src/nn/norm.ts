// Normalisation layers with PyTorch semantics on channels-last tensors.
import { tf } from '../engine/backend.js';
import { batchNormTrain } from './batch-norm-op.js';
import { Module, type Forward } from './module.js';

export interface BatchNormOptions {
  eps?: number;
  /** PyTorch's momentum: running = (1 - momentum)·running + momentum·batch. */
  momentum?: number;
  affine?: boolean;
}

/**
 * BatchNorm over every axis but the last (channels). Training: normalise with the batch mean and
 * biased variance, and update the running statistics with the unbiased variance, as PyTorch
 * does. Eval: the running statistics. Written out (not tf.batchNorm, whose gradient crashes on
 * wasm) with the closed-form gradient of batch-norm-op.ts.
 */
export class BatchNorm extends Module implements Forward {
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  readonly eps: number;
  readonly momentum: number;
  private readonly ranks: number[];
  /** Normalise with the running statistics and leave them alone even in training mode
   *  (fine-tuning a pretrained trunk on small batches). */
  frozenStats = false;
  private constGamma?: tf.Tensor1D;
  private constBeta?: tf.Tensor1D;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
    ranks: number[] = [2, 3, 4, 5],
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.ranks = ranks;
    if (options.affine ?? true) {
      this.weight = this.registerParameter('weight', tf.ones([numFeatures]));
      this.bias = this.registerParameter('bias', tf.zeros([numFeatures]));
    }
    this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.check(x);
    return this.training && !this.frozenStats ? this.forwardTrain(x, false) : this.forwardEval(x);
  }

  /** relu(forward(x)); in training, one fused kernel each way with the native kernels. */
  forwardRelu(x: tf.Tensor): tf.Tensor {
    this.check(x);
    return this.training && !this.frozenStats ? this.forwardTrain(x, true) : tf.tidy(() => tf.relu(this.forwardEval(x)));
  }

  private check(x: tf.Tensor): void {
    if (!this.ranks.includes(x.rank) || x.shape[x.rank - 1] !== this.numFeatures) {
      throw new Error(
        `${this.constructor.name}(${this.numFeatures}): expected rank ${this.ranks.join('/')} channels-last input with ${this.numFeatures} channels, got [${x.shape}]`,
      );
    }
  }

  private forwardTrain(x: tf.Tensor, relu: boolean): tf.Tensor {
    const count = x.size / this.numFeatures;
    if (count < 2) throw new Error(`${this.constructor.name}: training needs more than one value per channel, got input [${x.shape}]`);
    const { y, mean, variance } = batchNormTrain(x, this.gamma(), this.beta(), this.eps, relu);
    // The running statistics are a side effect, not part of the differentiated value.
    tf.tidy(() => {
      const m = this.momentum;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      const unbiased = tf.mul(variance, count / (count - 1));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    tf.dispose([mean, variance]);
    return y;
  }

  private forwardEval(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // Fold into one scale and shift per channel: two full-size ops instead of four.
      const scale = tf.mul(this.gamma(), tf.rsqrt(tf.add(this.runningVar, this.eps)));
      const shift = tf.sub(this.beta(), tf.mul(this.runningMean, scale));
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  private gamma(): tf.Tensor1D {
    if (this.weight) return this.weight as tf.Tensor1D;
    this.constGamma ??= tf.keep(tf.ones([this.numFeatures]));
    return this.constGamma;
  }

  private beta(): tf.Tensor1D {
    if (this.bias) return this.bias as tf.Tensor1D;
    this.constBeta ??= tf.keep(tf.zeros([this.numFeatures]));
    return this.constBeta;
  }

  override dispose(): void {
    tf.dispose([this.constGamma, this.constBeta].filter((t): t is tf.Tensor1D => t !== undefined));
    super.dispose();
  }
}

/** NHWC images. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, [4]);
  }
}

/** [N, C] features or [N, L, C] sequences (PyTorch's [N, C, L], channels last). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, [2, 3]);
  }
}

/** Normalises over the trailing `shape` dimensions (PyTorch nn.LayerNorm). */
export class LayerNorm extends Module implements Forward {
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  readonly shape: number[];
  readonly eps: number;

  constructor(shape: number | number[], options: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.shape = typeof shape === 'number' ? [shape] : shape;
    this.eps = options.eps ?? 1e-5;
    if (options.elementwiseAffine ?? true) {
      this.weight = this.registerParameter('weight', tf.ones(this.shape));
      this.bias = this.registerParameter('bias', tf.zeros(this.shape));
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    const k = this.shape.length;
    if (x.shape.slice(-k).join() !== this.shape.join()) {
      throw new Error(`LayerNorm([${this.shape}]): input [${x.shape}] does not end with [${this.shape}]`);
    }
    return tf.tidy(() => {
      const axes = this.shape.map((_, i) => x.rank - k + i);
      const { mean, variance } = tf.moments(x, axes, true);
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight && this.bias) y = tf.add(tf.mul(y, this.weight), this.bias);
      return y;
    });
  }
}
