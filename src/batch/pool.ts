// The threads that run a batch's items on one machine or one queue worker: a worker pool, one
// recognizer per thread (TF.js on wasm computes on one thread per instance, so N threads use N
// cores). A thread that dies takes only its item with it: the item is recorded as failed.
import type { RecognizerOptions } from '../api/recognizer.js';
import { WorkerPool } from '../util/workers.js';
import type { AnalyserOptions, ItemOutcome, ItemTask } from './item.js';

export interface PoolWorkerData {
  backend?: string;
  options: Omit<RecognizerOptions, 'onNote'>;
  analyser: AnalyserOptions;
}

export class ItemPool {
  private constructor(
    private readonly pool: WorkerPool,
    readonly threads: number,
    /** The inference engine the threads run on (onnxruntime or tfjs). */
    readonly engine: string,
  ) {}

  /** Starts `threads` threads and waits until each has loaded its model. */
  static async start(threads: number, data: PoolWorkerData): Promise<ItemPool> {
    // One BLAS thread per analysis thread (native conv kernels): several threads calling
    // multi-threaded OpenBLAS at once deadlock (measured here: two threads on all-core BLAS both
    // hung in their first convolutions), and the BLAS thread count changes float sums, so a fixed
    // count keeps results identical whatever --threads, the core count or the worker machine.
    // ONNX Runtime's sessions (detector, model) likewise get one intra-op thread each unless
    // FERKIT_ORT_THREADS says otherwise: N analysis threads use N cores, not N x cores.
    const env = { FERKIT_NATIVE_THREADS: '1', FERKIT_ORT_THREADS: process.env.FERKIT_ORT_THREADS ?? '1' };
    const pool = new WorkerPool(new URL('./pool-worker.js', import.meta.url), { threads, data, env });
    let engines: string[];
    try {
      engines = await pool.each<string>('ping');
    } catch (e) {
      await pool.close();
      throw new Error(`batch threads could not start: ${(e as Error).message}`);
    }
    return new ItemPool(pool, threads, engines[0]);
  }

  /** Runs one item; a crashed thread becomes a failed outcome for that item. */
  async run(task: ItemTask, worker: string): Promise<ItemOutcome> {
    try {
      return await this.pool.run<ItemOutcome>(task);
    } catch (e) {
      return { id: task.id, attempt: task.attempt, engine: this.engine, worker, seconds: 0, ok: false, error: `${task.source}: the analysis thread failed (${(e as Error).message})` };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
