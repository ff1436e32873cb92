// Image recognition on N worker threads, for `ferkit serve --workers N`: TF.js on wasm computes on
// one thread per instance, so a pool of instances uses more cores. Each job goes to the worker with
// the fewest jobs in hand; decode errors come back as DataErrors (the server's 400s).
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { FaceMode } from '../detect/find-faces.js';
import type { RecognizerOptions } from '../api/recognizer.js';
import type { FaceResult } from '../api/types.js';
import { DataError } from '../data/errors.js';
import type { PoolJob, PoolReply } from './recognize-worker.js';

export interface PoolResult {
  width: number;
  height: number;
  faces: FaceResult[];
  droppedFaces: number;
}

export class RecognizePool {
  private readonly workers: Worker[];
  private readonly load: number[];
  private readonly pending = new Map<number, { resolve: (r: PoolResult) => void; reject: (e: Error) => void; worker: number }>();
  private nextId = 0;
  /** Resolves when every worker has loaded its model and detector. */
  readonly ready: Promise<void>;

  constructor(size: number, options: Omit<RecognizerOptions, 'onNote'> = {}) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`pool size must be a positive integer, got ${size}`);
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './recognize-worker.ts' : './recognize-worker.js', import.meta.url).href;
    const script = fileURLToPath(fromSource ? new URL('../data/ts-worker-boot.mjs', import.meta.url) : entry);
    this.load = new Array<number>(size).fill(0);
    const ready: Promise<void>[] = [];
    this.workers = Array.from({ length: size }, (_, k) => {
      const w = new Worker(script, { workerData: { entry, options } });
      ready.push(
        new Promise((resolve, reject) => {
          w.once('error', reject);
          w.on('message', (m: PoolReply | { ready: true }) => {
            if ('ready' in m) return resolve();
            this.settle(m);
          });
        }),
      );
      w.on('error', (e) => this.failWorker(k, e));
      w.on('exit', (code) => this.failWorker(k, new Error(`recognition worker ${k} exited (code ${code})`)));
      return w;
    });
    this.ready = Promise.all(ready).then(() => undefined);
  }

  get size(): number {
    return this.workers.length;
  }

  recognizeBytes(bytes: Uint8Array, name: string, maxPixels: number, faces?: FaceMode): Promise<PoolResult> {
    let k = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[k]) k = i;
    const id = this.nextId++;
    this.load[k]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: k });
      const job: PoolJob = { id, bytes, name, maxPixels, faces };
      this.workers[k].postMessage(job);
    });
  }

  private settle(m: PoolReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.load[p.worker]--;
    if ('faces' in m) p.resolve({ width: m.width, height: m.height, faces: m.faces as FaceResult[], droppedFaces: m.droppedFaces });
    else if ('problem' in m) p.reject(new DataError(m.file, m.problem));
    else p.reject(new Error(m.failure));
  }

  private failWorker(k: number, e: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== k) continue;
      this.pending.delete(id);
      p.reject(e);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
