// The work of one data-parallel replica, independent of where it runs: in a worker thread
// (replica-worker.ts) or in the main thread (InProcessTrainer, for one worker and for tests).
import { tf } from '../engine/backend.js';

/** One shard of a batch, as plain transferable arrays. */
export interface Shard {
  x: Float32Array;
  xShape: number[];
  y: Int32Array;
  /** Dataset indices of the shard's samples and the epoch (for per-sample objectives). */
  index?: Int32Array;
  epoch?: number;
  /** Soft targets [n × classes] (FER+ vote distributions), row-major, when training on them. */
  target?: Float32Array;
}

/** What a replica module's `createReplica` returns. */
export interface Replica {
  variables: tf.Variable[];
  /** Scalar loss of one shard (inputs float, integer labels). */
  loss(x: tf.Tensor, y: tf.Tensor1D, index?: Int32Array, epoch?: number, target?: tf.Tensor2D): tf.Scalar;
  /** Labels the objective changed during the last `loss` calls, as [index, label] pairs (SCN
   *  relabeling); absent when the objective never relabels. */
  takeRelabels?(): Array<[number, number]>;
  /** Correctly classified samples in the `loss` calls since the last call (training accuracy);
   *  undefined when the objective reports no scores. */
  takeCorrect?(): number | undefined;
  /** Apply averaged gradients (same order as `variables`) with learning rate `lr`. */
  apply(grads: tf.Tensor[], lr: number): void;
  /** Optional, for training runs (checkpoints, evaluation): */
  save?(path: string, progress: Record<string, unknown>): Promise<void>;
  load?(path: string): Promise<Record<string, unknown>>;
  /** Non-trainable state (BatchNorm statistics) as flat arrays, and setting it. */
  buffers?(): Float32Array[];
  setBuffers?(values: Float32Array[]): void;
  /** Eval-mode class probabilities [N × C] for inputs of `shape`. */
  predict?(x: tf.Tensor): tf.Tensor2D;
}

export class ReplicaHost {
  constructor(readonly replica: Replica) {}

  get numParams(): number {
    return this.replica.variables.reduce((a, v) => a + v.size, 0);
  }

  /** Loss and flat gradient of a shard (written into `into` when given: a replica's slot of
   *  shared memory), with the relabels its objective decided as flat [index, label, index, label,
   *  …] pairs (absent when the replica never relabels). */
  grads(s: Shard, into?: Float32Array): { loss: number; count: number; grads: Float32Array; relabels?: Int32Array; correct?: number } {
    const r = this.replica;
    const x = tf.tensor(s.x, s.xShape);
    const y = tf.tensor1d(s.y, 'int32');
    const index = s.index ?? new Int32Array(s.y.length);
    const target = s.target ? tf.tensor2d(s.target, [s.y.length, s.target.length / s.y.length]) : undefined;
    const { value, grads } = tf.variableGrads(() => r.loss(x, y, index, s.epoch ?? 0, target), r.variables);
    try {
      const loss = value.dataSync()[0];
      // Frozen or unused variables get zeros, so every replica's flat vector has one layout.
      const out = into ?? new Float32Array(this.numParams);
      let offset = 0;
      for (const v of r.variables) {
        const g = grads[v.name];
        if (g) out.set(g.dataSync() as Float32Array, offset);
        else out.fill(0, offset, offset + v.size);
        offset += v.size;
      }
      const relabels = r.takeRelabels ? Int32Array.from(r.takeRelabels().flat()) : undefined;
      return { loss, count: s.y.length, grads: out, relabels, correct: r.takeCorrect?.() };
    } finally {
      tf.dispose([x, y, value, ...Object.values(grads), ...(target ? [target] : [])]);
    }
  }

  apply(shared: Float32Array, lr: number): void {
    const r = this.replica;
    let offset = 0;
    const grads = r.variables.map((v) => {
      const t = tf.tensor(shared.subarray(offset, offset + v.size), v.shape);
      offset += v.size;
      return t;
    });
    try {
      r.apply(grads, lr);
    } finally {
      tf.dispose(grads);
    }
  }

  checksum(): number {
    let sum = 0;
    for (const v of this.replica.variables) for (const x of v.dataSync()) sum += x;
    return sum;
  }

  predict(x: Float32Array, shape: number[]): Float32Array {
    if (!this.replica.predict) throw new Error('this replica cannot predict');
    const t = tf.tensor(x, shape);
    const p = this.replica.predict(t);
    const out = Float32Array.from(p.dataSync() as Float32Array);
    tf.dispose([t, p]);
    return out;
  }
}
