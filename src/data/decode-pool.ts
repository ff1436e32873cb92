// A pool of worker threads that decode and augment images off the main thread, so the trainer's
// thread only builds tensors. Each job carries its own RNG state: results do not depend on which
// worker runs it, and a run is reproducible for a given seed whatever the pool size.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { DataError } from './errors.js';
import type { Raster } from './image.js';
import type { Rng } from '../util/rng.js';

export interface DecodeJob {
  id: number;
  /** Files per group: one image each, or the frames of one clip. */
  groups: string[][];
  channels: 1 | 3;
  /** Augmentation preset name (augment.ts `augmentations`), or none. */
  augment?: string;
  size?: number;
  /** Groups are clips: one parameter draw per group. */
  clip: boolean;
  rngState: number;
}

export type DecodeReply = { id: number; groups: Raster[][]; error?: undefined } | { id: number; error: string; groups?: undefined };

export interface DecodeRequest {
  groups: string[][];
  channels: 1 | 3;
  augment?: string;
  size?: number;
  clip?: boolean;
}

export class DecodePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (g: Raster[][]) => void; reject: (e: Error) => void }>();
  private readonly load: number[];
  private nextId = 0;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './decode-worker.ts' : './decode-worker.js', import.meta.url).href;
    const script = fileURLToPath(fromSource ? new URL('./ts-worker-boot.mjs', import.meta.url) : entry);
    this.load = new Array<number>(size).fill(0);
    this.workers = Array.from({ length: size }, (_, k) => {
      const w = new Worker(script, { workerData: { entry } });
      w.on('message', (m: DecodeReply) => {
        this.load[k]--;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.error !== undefined) {
          // Worker errors arrive as "<file>: <problem>"; keep them DataErrors.
          const i = m.error.indexOf(': ');
          p.reject(i > 0 ? new DataError(m.error.slice(0, i), m.error.slice(i + 2)) : new Error(m.error));
        } else p.resolve(m.groups);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Decodes (and augments) the groups on the least busy worker; draws one seed from `rng`. */
  run(req: DecodeRequest, rng: Rng): Promise<Raster[][]> {
    const id = this.nextId++;
    const job: DecodeJob = { id, groups: req.groups, channels: req.channels, augment: req.augment, size: req.size, clip: req.clip ?? false, rngState: Math.floor(rng.next() * 4294967296) >>> 0 };
    const k = this.load.indexOf(Math.min(...this.load));
    this.load[k]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[k].postMessage(job);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
