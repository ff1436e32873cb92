// A pool of worker threads that decode and augment images off the main thread, so the trainer's
// thread only builds tensors. Each job carries its own RNG state: results do not depend on which
// worker runs it, and a run is reproducible for a given seed whatever the pool size.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../util/workers.js';
import { DataError } from './errors.js';
import type { Raster } from './image.js';
import type { Rng } from '../util/rng.js';

export interface DecodeJob {
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

/** The rasters, or the file and problem of a DataError (a class does not cross threads). */
export type DecodeReply = { groups: Raster[][] } | { file: string; problem: string };

export interface DecodeRequest {
  groups: string[][];
  channels: 1 | 3;
  augment?: string;
  size?: number;
  clip?: boolean;
}

export class DecodePool {
  private readonly pool: WorkerPool;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    // Two jobs per worker: the next one is waiting when one ends (measured in the issue-17 note).
    this.pool = new WorkerPool(new URL('./decode-worker.js', import.meta.url), { threads: size, tasksPerThread: 2 });
  }

  get size(): number {
    return this.pool.threads;
  }

  /** Decodes (and augments) the groups on the next free worker; draws one seed from `rng`. */
  async run(req: DecodeRequest, rng: Rng): Promise<Raster[][]> {
    const job: DecodeJob = { groups: req.groups, channels: req.channels, augment: req.augment, size: req.size, clip: req.clip ?? false, rngState: Math.floor(rng.next() * 4294967296) >>> 0 };
    const reply = await this.pool.run<DecodeReply>(job);
    if ('problem' in reply) throw new DataError(reply.file, reply.problem);
    return reply.groups;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
