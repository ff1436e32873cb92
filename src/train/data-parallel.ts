// Data-parallel training over worker threads: TF.js wasm computes on one thread per process, so
// each worker holds a replica with its own wasm instance, computes the gradient of its share of
// the batch into its slot of shared memory, averages one part of the gradient vector across the
// slots into a SharedArrayBuffer (the replicas split the vector: no thread loops over all of it),
// and every replica reads the average to take the same optimizer step. Replicas start from the same weights and apply
// the same updates, so they stay identical (checked by `checksum`).
//
// As with PyTorch's DistributedDataParallel, BatchNorm statistics are per replica (per shard).
import { availableParallelism } from 'node:os';

import { WorkerPool, type Session } from '../util/workers.js';
import { clipByGlobalNorm } from './grad-clip.js';
import { ReplicaHost, type Replica, type Shard } from './replica-host.js';
import type { ReplicaRequest } from './replica-worker.js';

export type { Shard } from './replica-host.js';

export interface DataParallelOptions {
  /** Module (file URL) whose `createReplica(options)` builds a replica in a worker. */
  replicaModule: string;
  replicaOptions: Record<string, unknown>;
  workers: number;
}

/** What a training loop drives: N replicas taking synchronous steps (in workers or in-process). */
export interface ReplicaSet {
  readonly workers: number;
  /** One step over the shards (one per replica); the sample-weighted mean loss. With `clipNorm`
   *  the averaged gradient is clipped to that global L2 norm first. */
  step(shards: Shard[], lr: number, clipNorm?: number): Promise<number>;
  /** Relabels the replicas' objectives decided in the steps since the last call, as [dataset
   *  index, label] pairs (each replica decides for its own shard); undefined when the method
   *  never relabels. */
  takeRelabels(): Array<[number, number]> | undefined;
  /** Correctly classified training samples in the steps since the last call; undefined when the
   *  objective reports no scores. */
  takeCorrect(): number | undefined;
  /** Replica 0 writes a training checkpoint. */
  save(path: string, progress: Record<string, unknown>): Promise<void>;
  /** Every replica loads the same checkpoint; returns its progress. */
  load(path: string): Promise<Record<string, unknown>>;
  /** Copies replica 0's buffers (BatchNorm statistics, which each replica keeps from its own
   *  shards, as in DDP) to all, so predictions agree. */
  syncBuffers(): Promise<void>;
  /** Eval-mode probabilities for a batch, split across the replicas. */
  predict(x: Float32Array, shape: number[]): Promise<Float32Array>;
  checksums(): Promise<number[]>;
  close(): Promise<void>;
}

/** Splits a batch's rows into `parts` contiguous ranges (sizes differ by at most one). */
export function splitRows(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/** Collects the flat [index, label, …] pairs that replicas send back with their gradients. */
class RelabelInbox {
  private pairs: Array<[number, number]> | undefined;
  add(flat: Int32Array | undefined): void {
    if (!flat) return;
    this.pairs ??= [];
    for (let i = 0; i < flat.length; i += 2) this.pairs.push([flat[i], flat[i + 1]]);
  }
  take(): Array<[number, number]> | undefined {
    const out = this.pairs;
    if (out) this.pairs = [];
    return out;
  }
}

/** Sums the correct-prediction counts replicas send back (undefined until one reports). */
class CorrectCount {
  private total: number | undefined;
  add(n: number | undefined): void {
    if (n !== undefined) this.total = (this.total ?? 0) + n;
  }
  take(): number | undefined {
    const t = this.total;
    this.total = undefined;
    return t;
  }
}

async function predictSplit(n: number, x: Float32Array, shape: number[], parts: number, run: (i: number, x: Float32Array, shape: number[]) => Promise<Float32Array>): Promise<Float32Array> {
  const per = x.length / n;
  const ranges = splitRows(n, parts).filter(([a, b]) => b > a);
  const outs = await Promise.all(ranges.map(([a, b], i) => run(i, x.slice(a * per, b * per), [b - a, ...shape.slice(1)])));
  const classes = outs[0].length / (ranges[0][1] - ranges[0][0]);
  const out = new Float32Array(n * classes);
  ranges.forEach(([a], i) => out.set(outs[i], a * classes));
  return out;
}

/** The same protocol in the main thread, for one replica (no worker, no copies). */
export class InProcessTrainer implements ReplicaSet {
  readonly workers = 1;
  private readonly host: ReplicaHost;
  private readonly relabels = new RelabelInbox();
  private readonly hits = new CorrectCount();
  constructor(replica: Replica) {
    this.host = new ReplicaHost(replica);
  }
  async step(shards: Shard[], lr: number, clipNorm?: number): Promise<number> {
    if (shards.length !== 1) throw new Error(`expected 1 shard, got ${shards.length}`);
    const g = this.host.grads(shards[0]);
    if (clipNorm !== undefined) clipByGlobalNorm(g.grads, clipNorm);
    this.host.apply(g.grads, lr);
    this.relabels.add(g.relabels);
    this.hits.add(g.correct);
    return g.loss;
  }
  takeRelabels(): Array<[number, number]> | undefined {
    return this.relabels.take();
  }

  takeCorrect(): number | undefined {
    return this.hits.take();
  }
  async save(path: string, progress: Record<string, unknown>): Promise<void> {
    if (!this.host.replica.save) throw new Error('replica cannot save');
    await this.host.replica.save(path, progress);
  }
  async load(path: string): Promise<Record<string, unknown>> {
    if (!this.host.replica.load) throw new Error('replica cannot load');
    return this.host.replica.load(path);
  }
  async syncBuffers(): Promise<void> {}
  async predict(x: Float32Array, shape: number[]): Promise<Float32Array> {
    return this.host.predict(x, shape);
  }
  async checksums(): Promise<number[]> {
    return [this.host.checksum()];
  }
  async close(): Promise<void> {}
}

/** One replica's session; its errors say they come from a replica. */
class ReplicaHandle {
  constructor(private readonly session: Session) {}
  async request<R = undefined>(msg: ReplicaRequest, transfer: ArrayBuffer[] = []): Promise<R> {
    try {
      return await this.session.request<R>(msg, transfer);
    } catch (e) {
      (e as Error).message = `replica: ${(e as Error).message}`;
      throw e;
    }
  }
}

interface GradsReply {
  loss: number;
  count: number;
  relabels?: Int32Array;
  correct?: number;
}

export class DataParallelTrainer implements ReplicaSet {
  private readonly relabels = new RelabelInbox();
  private readonly hits = new CorrectCount();
  private constructor(
    private readonly pool: WorkerPool,
    private readonly replicas: ReplicaHandle[],
    private readonly shared: Float32Array,
  ) {}

  static async start(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    if (opts.workers < 1) throw new Error('data-parallel training needs at least one worker');
    // The native kernels' BLAS threads are split between the replicas: N replicas each running
    // all-core BLAS would oversubscribe the cores (measured: 2 replicas x 1 thread train the
    // 48x48 fer-cnn at 118 img/s, x 2 threads at 79).
    const nativeThreads = process.env.FERKIT_NATIVE_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / opts.workers)));
    const pool = new WorkerPool(new URL('./replica-worker.js', import.meta.url), { threads: opts.workers, env: { FERKIT_NATIVE_THREADS: nativeThreads } });
    const replicas = pool.sessions().map((s) => new ReplicaHandle(s));
    try {
      const sizes = new Set(await Promise.all(replicas.map((r) => r.request<number>({ type: 'init', module: opts.replicaModule, options: opts.replicaOptions }))));
      if (sizes.size !== 1) throw new Error('replicas disagree on their parameter count');
      const numParams = [...sizes][0];
      const shared = new Float32Array(new SharedArrayBuffer(numParams * 4));
      const slots = new SharedArrayBuffer(numParams * 4 * replicas.length);
      await Promise.all(replicas.map((r, slot) => r.request({ type: 'share', buffer: shared.buffer as SharedArrayBuffer, slots, slot })));
      return new DataParallelTrainer(pool, replicas, shared);
    } catch (e) {
      await pool.close();
      throw e;
    }
  }

  get workers(): number {
    return this.replicas.length;
  }

  /** One step over the shards (one per worker): returns the sample-weighted mean loss. The shards'
   *  buffers are transferred to the workers, so they are detached (empty) here afterwards. */
  async step(shards: Shard[], lr: number, clipNorm?: number): Promise<number> {
    if (shards.length !== this.replicas.length) throw new Error(`expected ${this.replicas.length} shards, got ${shards.length}`);
    const replies = await Promise.all(
      this.replicas.map((r, i) => r.request<GradsReply>({ type: 'grads', shard: shards[i] }, [shards[i].x.buffer as ArrayBuffer, shards[i].y.buffer as ArrayBuffer])),
    );
    const total = replies.reduce((a, r) => a + r.count, 0);
    let loss = 0;
    const weights: number[] = [];
    for (const r of replies) {
      const w = r.count / total;
      weights.push(w);
      loss += w * r.loss;
      this.relabels.add(r.relabels);
      this.hits.add(r.correct);
    }
    const ranges = splitRows(this.shared.length, this.replicas.length);
    await Promise.all(this.replicas.map((r, i) => r.request({ type: 'reduce', weights, range: ranges[i] })));
    if (clipNorm !== undefined) clipByGlobalNorm(this.shared, clipNorm);
    await Promise.all(this.replicas.map((r) => r.request({ type: 'apply', lr })));
    return loss;
  }

  takeRelabels(): Array<[number, number]> | undefined {
    return this.relabels.take();
  }

  takeCorrect(): number | undefined {
    return this.hits.take();
  }

  async save(path: string, progress: Record<string, unknown>): Promise<void> {
    await this.replicas[0].request({ type: 'save', path, progress });
  }

  async load(path: string): Promise<Record<string, unknown>> {
    const replies = await Promise.all(this.replicas.map((r) => r.request<Record<string, unknown>>({ type: 'load', path })));
    return replies[0];
  }

  async syncBuffers(): Promise<void> {
    const values = await this.replicas[0].request<Float32Array[]>({ type: 'buffers' });
    await Promise.all(this.replicas.slice(1).map((r) => r.request({ type: 'setBuffers', values })));
  }

  async predict(x: Float32Array, shape: number[]): Promise<Float32Array> {
    return predictSplit(shape[0], x, shape, this.replicas.length, (i, xs, sh) => this.replicas[i].request<Float32Array>({ type: 'predict', x: xs, shape: sh }, [xs.buffer as ArrayBuffer]));
  }

  /** A checksum of each replica's weights: equal values mean the replicas are in sync. */
  async checksums(): Promise<number[]> {
    return Promise.all(this.replicas.map((r) => r.request<number>({ type: 'checksum' })));
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
