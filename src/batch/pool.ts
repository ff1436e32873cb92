// The threads that run a batch's items on one machine or one queue worker: a piscina pool, one
// recognizer per thread (TF.js on wasm computes on one thread per instance, so N threads use N
// cores). A thread that dies takes only its item with it: the item is recorded as failed.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { RecognizerOptions } from '../api/recognizer.js';
import type { AnalyserOptions, ItemOutcome, ItemTask } from './item.js';

export interface PoolWorkerData {
  backend?: string;
  options: Omit<RecognizerOptions, 'onNote'>;
  analyser: AnalyserOptions;
}

export class ItemPool {
  private constructor(
    private readonly pool: Piscina,
    readonly threads: number,
    /** The inference engine the threads run on (onnxruntime or tfjs). */
    readonly engine: string,
  ) {}

  /** Starts `threads` threads and waits until each has loaded its model. */
  static async start(threads: number, data: PoolWorkerData): Promise<ItemPool> {
    if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`threads must be a positive integer, got ${threads}`);
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './pool-worker.ts' : './pool-worker.js', import.meta.url).href;
    const filename = fileURLToPath(fromSource ? new URL('./pool-boot.mjs', import.meta.url) : entry);
    // One BLAS thread per analysis thread (native conv kernels): several threads calling
    // multi-threaded OpenBLAS at once deadlock (measured here: two threads on all-core BLAS both
    // hung in their first convolutions), and the BLAS thread count changes float sums, so a fixed
    // count keeps results identical whatever --threads, the core count or the worker machine.
    // ONNX Runtime's sessions (detector, model) likewise get one intra-op thread each unless
    // FERKIT_ORT_THREADS says otherwise: N analysis threads use N cores, not N x cores.
    const env = { ...process.env, FERKIT_NATIVE_THREADS: '1', FERKIT_ORT_THREADS: process.env.FERKIT_ORT_THREADS ?? '1' };
    const pool = new Piscina({ filename, workerData: { ...data, entry }, env, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, concurrentTasksPerWorker: 1 });
    let engines: string[];
    try {
      // One ping per thread: they queue behind each thread's model load, so load errors show here.
      engines = await Promise.all(Array.from({ length: threads }, () => pool.run('ping') as Promise<string>));
    } catch (e) {
      await pool.destroy();
      throw new Error(`batch threads could not start: ${(e as Error).message}`);
    }
    return new ItemPool(pool, threads, engines[0]);
  }

  /** Runs one item; a crashed thread becomes a failed outcome for that item. */
  async run(task: ItemTask, worker: string): Promise<ItemOutcome> {
    try {
      return (await this.pool.run(task)) as ItemOutcome;
    } catch (e) {
      return { id: task.id, attempt: task.attempt, engine: this.engine, worker, seconds: 0, ok: false, error: `${task.source}: the analysis thread failed (${(e as Error).message})` };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
