// `ferkit batch`, `ferkit batch collect` and `ferkit worker` as functions: list the inputs into the
// results database, then run what is left on this machine's threads or on a queue, and report.
import { hostname } from 'node:os';
import type { RuntimeChoice } from '../infer/load.js';
import { BatchDb, type Counts } from './db.js';
import { collectSources } from './inputs.js';
import type { BatchSettings, ItemOutcome } from './item.js';
import { describeModel, modelIdentity } from './model-id.js';
import { ItemPool } from './pool.js';
import { Progress } from './progress.js';
import { collect, openQueue, runWorker, submit, type QueueTarget } from './queue.js';

type Log = (line: string) => void;

interface EngineOptions {
  /** Model folder (default: the bundled model). */
  model?: string;
  engine: RuntimeChoice;
  /** TF.js backend for the threads (--backend). */
  backend?: string;
  threads: number;
}

export interface BatchOptions extends EngineOptions {
  inputs: string[];
  out: string;
  settings: BatchSettings;
  /** Tries per item before a failure is final. */
  maxAttempts: number;
  /** Run on a queue's workers instead of this machine's threads. */
  queue?: QueueTarget;
  /** Queue mode: wait for the results (false: submit and exit; `ferkit batch collect` later). */
  wait: boolean;
  /** Queue mode, waiting: at most this many jobs in Redis at once (more are sent as results come
   *  in), so Redis holds a window of the batch, not all of it. */
  window?: number;
  progress: 'bar' | 'lines' | 'off';
  log: Log;
}

const me = () => `${hostname()}/${process.pid}`;

/** Jobs in Redis at once for a waiting submitter. */
const DEFAULT_WINDOW = 10_000;

function report(db: BatchDb, maxAttempts: number, log: Log): Counts {
  const c = db.counts(maxAttempts);
  const failures = db.failures();
  log(
    `${db.path}: ${c.total} items: ${c.done} done (${c.noFace} without a face), ${c.failed} failed` +
      (c.exhausted ? ` (${c.exhausted} after ${maxAttempts} tries: not retried)` : c.failed ? ' (re-run the same command to retry them)' : '') +
      (c.pending ? `, ${c.pending} not finished` : '') +
      `; ${db.rowCount()} face rows`,
  );
  const shown = 20;
  for (const f of failures.slice(0, shown)) log(`  failed (${f.attempts} ${f.attempts === 1 ? 'try' : 'tries'}): ${f.error}`);
  if (failures.length > shown) log(`  ... and ${failures.length - shown} more (SELECT source, error FROM items WHERE status = 'failed')`);
  return c;
}

export async function runBatch(o: BatchOptions): Promise<Counts> {
  const model = await modelIdentity(o.model);
  const db = BatchDb.openOrCreate(o.out, model, o.settings);
  try {
    const added = db.addSources(await collectSources(o.inputs));
    const todo = db.todo(o.maxAttempts);
    const before = db.counts(o.maxAttempts);
    o.log(
      `${o.out}: ${before.total} items (${added} new), ${before.done} done, ${before.failed} failed, ${todo.length} to run` +
        (before.total - added > 0 && todo.length < before.total ? ' (resuming)' : '') +
        `; model ${describeModel(model)}`,
    );
    if (todo.length > 0) {
      if (o.queue) await runOnQueue(db, todo, o);
      else await runHere(db, todo, o);
    }
    return report(db, o.maxAttempts, o.log);
  } finally {
    db.close();
  }
}

async function runHere(db: BatchDb, todo: ReturnType<BatchDb['todo']>, o: BatchOptions): Promise<void> {
  const threads = Math.min(o.threads, todo.length);
  const pool = await ItemPool.start(threads, {
    backend: o.backend,
    options: { model: o.model, engine: o.engine, detector: o.settings.detector, minDetectionScore: o.settings.minScore },
    analyser: { worker: me() },
  });
  o.log(`running on ${threads} thread${threads === 1 ? '' : 's'} (${pool.engine})`);
  const progress = new Progress(todo.length, o.progress, o.log);
  let next = 0;
  const lane = async () => {
    while (next < todo.length) {
      const row = todo[next++];
      const outcome = await pool.run(db.task(row), me());
      db.record(outcome);
      progress.tick(outcome.ok);
    }
  };
  try {
    await Promise.all(Array.from({ length: threads }, lane));
  } finally {
    progress.stop();
    await pool.close();
  }
}

async function runOnQueue(db: BatchDb, todo: ReturnType<BatchDb['todo']>, o: BatchOptions): Promise<void> {
  const target = o.queue!;
  const queue = await openQueue(target);
  try {
    db.setQueue(target);
    const hint = `workers (\`ferkit worker --queue ${target.url}\`) must read every input at the same path or URL`;
    if (!o.wait) {
      await submit(db, queue, todo);
      o.log(`queued ${todo.length} jobs on ${target.name} at ${target.url}; ${hint}`);
      o.log(`not waiting: \`ferkit batch collect ${o.out}\` writes the results when the workers are done`);
      return;
    }
    const window = o.window ?? DEFAULT_WINDOW;
    let next = 0;
    const refill = async () => {
      const room = Math.min(window - db.outstandingCount(), todo.length - next);
      if (room > 0) {
        await submit(db, queue, todo.slice(next, next + room));
        next += room;
      }
      return next < todo.length;
    };
    await refill();
    o.log(`queued ${next} of ${todo.length} jobs on ${target.name} at ${target.url}${next < todo.length ? ' (the rest as results come in)' : ''}; ${hint}`);
    await collectWithProgress(db, queue, todo.length, o.progress, o.log, refill);
  } finally {
    await queue.close();
  }
}

async function collectWithProgress(db: BatchDb, queue: Awaited<ReturnType<typeof openQueue>>, total: number, mode: BatchOptions['progress'], log: Log, refill?: () => Promise<boolean>): Promise<void> {
  const progress = new Progress(total, mode, log);
  try {
    await collect(db, queue, {
      refill,
      onOutcome: (out: ItemOutcome) => progress.tick(out.ok),
      onReadd: (n) => log(`${n} outstanding job${n === 1 ? ' was' : 's were'} missing from Redis: enqueued again`),
      onWait: (c) => progress.note(`| queue: ${c.waiting + c.delayed} waiting, ${c.active} running`),
    });
  } finally {
    progress.stop();
  }
}

export interface CollectCommandOptions {
  db: string;
  /** Default: the queue the batch was submitted to. */
  queue?: Partial<QueueTarget>;
  maxAttempts: number;
  progress: BatchOptions['progress'];
  log: Log;
}

/** Writes the results of a submitted batch as its jobs finish, until none is outstanding. */
export async function collectBatch(o: CollectCommandOptions): Promise<Counts> {
  const db = BatchDb.open(o.db);
  try {
    const url = o.queue?.url ?? db.meta.queue?.url;
    const name = o.queue?.name ?? db.meta.queue?.name;
    if (!url || !name) throw new Error(`${o.db}: the batch was not submitted to a queue (give --queue redis://host:port/db)`);
    const outstanding = db.outstandingCount();
    if (outstanding > 0) {
      const queue = await openQueue({ url, name });
      try {
        o.log(`${o.db}: waiting for ${outstanding} jobs on ${name} at ${url}`);
        await collectWithProgress(db, queue, outstanding, o.progress, o.log);
      } finally {
        await queue.close();
      }
    } else o.log(`${o.db}: no job outstanding`);
    return report(db, o.maxAttempts, o.log);
  } finally {
    db.close();
  }
}

export interface WorkerCommandOptions extends EngineOptions {
  queue: QueueTarget;
  stallSeconds: number;
  log: Log;
}

/** `ferkit worker`: runs jobs from the queue on this machine's threads until stopped. */
export async function runQueueWorker(o: WorkerCommandOptions): Promise<void> {
  const model = await modelIdentity(o.model);
  const pool = await ItemPool.start(o.threads, { backend: o.backend, options: { model: o.model, engine: o.engine }, analyser: { worker: me(), remote: true } });
  try {
    await runWorker(o.queue, { pool, worker: me(), model, stallSeconds: o.stallSeconds, log: o.log });
  } finally {
    await pool.close();
  }
}
