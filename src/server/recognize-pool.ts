// Image recognition on N worker threads, for `ferkit serve --workers N`: TF.js on wasm computes on
// one thread per instance, so a pool of instances uses more cores. Each job goes to the next free
// worker; decode errors come back as DataErrors (the server's 400s).
import type { FaceMode } from '../detect/find-faces.js';
import type { RecognizerOptions } from '../api/recognizer.js';
import type { FaceResult } from '../api/types.js';
import { DataError } from '../data/errors.js';
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../util/workers.js';
import type { PoolJob, PoolReply } from './recognize-worker.js';

export interface PoolResult {
  width: number;
  height: number;
  faces: FaceResult[];
  droppedFaces: number;
}

export class RecognizePool {
  private readonly pool: WorkerPool;
  /** Resolves when every worker has loaded its model and detector. */
  readonly ready: Promise<void>;

  constructor(size: number, options: Omit<RecognizerOptions, 'onNote'> = {}) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`pool size must be a positive integer, got ${size}`);
    // Each worker's ONNX Runtime sessions get its share of the cores, not all of them (N workers x
    // all cores oversubscribe), and one BLAS thread for the native kernels: the BLAS thread count
    // is process-wide, and threads calling all-core OpenBLAS at once deadlocked (batch.md).
    const ort = String(Math.max(1, Math.floor(availableParallelism() / size)));
    const env = { FERKIT_NATIVE_THREADS: process.env.FERKIT_NATIVE_THREADS ?? '1', FERKIT_ORT_THREADS: process.env.FERKIT_ORT_THREADS ?? ort };
    this.pool = new WorkerPool(new URL('./recognize-worker.js', import.meta.url), { threads: size, data: options, env });
    this.ready = this.pool.each('ping').then(() => undefined);
    // Awaited by the caller; a load failure also fails every job.
    this.ready.catch(() => {});
  }

  get size(): number {
    return this.pool.threads;
  }

  async recognizeBytes(bytes: Uint8Array, name: string, maxPixels: number, faces?: FaceMode): Promise<PoolResult> {
    const job: PoolJob = { bytes, name, maxPixels, faces };
    const r = await this.pool.run<PoolReply>(job);
    if ('problem' in r) throw new DataError(r.file, r.problem);
    return { width: r.width, height: r.height, faces: r.faces as FaceResult[], droppedFaces: r.droppedFaces };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
