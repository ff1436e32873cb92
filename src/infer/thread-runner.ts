// A model runner on a worker thread of its own. onnxruntime-node runs a session on the thread that
// calls it (its async `run` only defers the call), so on the main thread the forward pass and
// everything else take turns; on a worker thread the forward pass of some frames runs while the
// main thread finds the next frames' faces (api/video.ts overlaps the two). One thread, one
// session: requests are answered in order.
import type { ModelConfig } from '../models/model.js';
import { WorkerPool, type Session } from '../util/workers.js';
import type { LoadModelFolderOptions } from './load.js';
import type { ModelRunner, RunnerOutput } from './runner.js';

/** What the thread is asked (runner-worker.ts). */
export type ThreadRequest =
  | { kind: 'open'; ref: string; opts: Pick<LoadModelFolderOptions, 'runtime' | 'threads'> }
  | { kind: 'run'; x: Float32Array; shape: number[] }
  | { kind: 'close' };

export interface ThreadOpened {
  config: ModelConfig;
  engine: string;
  notes: string[];
}

class ThreadRunner implements ModelRunner {
  constructor(
    private readonly pool: WorkerPool,
    private readonly session: Session,
    readonly config: ModelConfig,
    readonly engine: string,
  ) {}

  /** `x` is copied to the thread (the caller keeps it). */
  run(x: Float32Array, shape: number[]): Promise<RunnerOutput> {
    const copy = x.slice();
    return this.session.request<RunnerOutput>({ kind: 'run', x: copy, shape } satisfies ThreadRequest, [copy.buffer as ArrayBuffer]);
  }

  async dispose(): Promise<void> {
    await this.session.request({ kind: 'close' } satisfies ThreadRequest).catch(() => undefined);
    await this.pool.close();
  }
}

/** Opens the model folder `ref` (a folder or DIR#N) on a new worker thread, as loadModelFolder
 *  would on this one (the same runtime choice and fallback notes). */
export async function openThreadRunner(ref: string, opts: LoadModelFolderOptions = {}): Promise<ModelRunner> {
  const pool = new WorkerPool(new URL('./runner-worker.js', import.meta.url), { threads: 1 });
  try {
    const [session] = pool.sessions();
    const opened = await session!.request<ThreadOpened>({ kind: 'open', ref, opts: { runtime: opts.runtime, threads: opts.threads } } satisfies ThreadRequest);
    for (const n of opened.notes) opts.onNote?.(n);
    return new ThreadRunner(pool, session!, opened.config, opened.engine);
  } catch (e) {
    await pool.close();
    throw e;
  }
}
