// Data-parallel training over worker threads: TF.js wasm computes on one thread per process, so
// each worker holds a replica with its own wasm instance, computes the gradient of its share of
// the batch, and the main thread averages the gradients into a SharedArrayBuffer that every
// replica reads to take the same optimizer step. Replicas start from the same weights and apply
// the same updates, so they stay identical (checked by `checksum`).
//
// As with PyTorch's DistributedDataParallel, BatchNorm statistics are per replica (per shard).
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

/** One shard of a batch, as plain transferable arrays. */
export interface Shard {
  x: Float32Array;
  xShape: number[];
  y: Int32Array;
}

export interface DataParallelOptions {
  /** Module (file URL) whose `createReplica(options)` builds a replica in a worker. */
  replicaModule: string;
  replicaOptions: Record<string, unknown>;
  workers: number;
}

type Reply =
  | { type: 'ready'; numParams: number }
  | { type: 'grads'; loss: number; count: number; grads: Float32Array }
  | { type: 'stepped' }
  | { type: 'checksum'; value: number }
  | { type: 'error'; message: string };

class ReplicaHandle {
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  constructor(readonly worker: Worker) {
    worker.on('message', (r: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (r.type === 'error') p.reject(new Error(`replica: ${r.message}`));
      else p.resolve(r);
    });
    worker.on('error', (e) => {
      this.pending?.reject(e);
      this.pending = undefined;
    });
  }
  request(msg: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.pending) throw new Error('replica is busy');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg, transfer);
    });
  }
}

export class DataParallelTrainer {
  private constructor(
    private readonly replicas: ReplicaHandle[],
    private readonly shared: Float32Array,
  ) {}

  static async start(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    if (opts.workers < 1) throw new Error('data-parallel training needs at least one worker');
    // From sources (.ts) the worker boots through tsx; compiled (.js) it runs directly.
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './replica-worker.ts' : './replica-worker.js', import.meta.url).href;
    const script = fileURLToPath(fromSource ? new URL('./ts-worker-boot.mjs', import.meta.url) : entry);
    const replicas = Array.from({ length: opts.workers }, () => {
      const w = new Worker(script, {
        workerData: { entry, module: opts.replicaModule, options: opts.replicaOptions },
      });
      return new ReplicaHandle(w);
    });
    try {
      const ready = await Promise.all(replicas.map((r) => r.request({ type: 'init' })));
      const sizes = new Set(ready.map((r) => (r.type === 'ready' ? r.numParams : -1)));
      if (sizes.size !== 1) throw new Error('replicas disagree on their parameter count');
      const numParams = [...sizes][0];
      const shared = new Float32Array(new SharedArrayBuffer(numParams * 4));
      await Promise.all(replicas.map((r) => r.request({ type: 'share', buffer: shared.buffer })));
      return new DataParallelTrainer(replicas, shared);
    } catch (e) {
      await Promise.all(replicas.map((r) => r.worker.terminate()));
      throw e;
    }
  }

  get workers(): number {
    return this.replicas.length;
  }

  /** One step over the shards (one per worker): returns the sample-weighted mean loss. The shards'
   *  buffers are transferred to the workers, so they are detached (empty) here afterwards. */
  async step(shards: Shard[], lr: number): Promise<number> {
    if (shards.length !== this.replicas.length) throw new Error(`expected ${this.replicas.length} shards, got ${shards.length}`);
    const replies = await Promise.all(
      this.replicas.map((r, i) => r.request({ type: 'grads', shard: shards[i] }, [shards[i].x.buffer as ArrayBuffer, shards[i].y.buffer as ArrayBuffer])),
    );
    const total = replies.reduce((a, r) => a + (r.type === 'grads' ? r.count : 0), 0);
    const avg = this.shared;
    avg.fill(0);
    let loss = 0;
    for (const r of replies) {
      if (r.type !== 'grads') throw new Error('unexpected reply');
      const w = r.count / total;
      loss += w * r.loss;
      const g = r.grads;
      for (let i = 0; i < g.length; i++) avg[i] += w * g[i];
    }
    await Promise.all(this.replicas.map((r) => r.request({ type: 'apply', lr })));
    return loss;
  }

  /** A checksum of each replica's weights: equal values mean the replicas are in sync. */
  async checksums(): Promise<number[]> {
    const replies = await Promise.all(this.replicas.map((r) => r.request({ type: 'checksum' })));
    return replies.map((r) => (r.type === 'checksum' ? r.value : NaN));
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}
