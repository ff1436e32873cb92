// Scale-out on BullMQ (Redis): the submitter puts one job per item on a queue, `ferkit worker`
// processes on any number of machines run them with the same per-item code and hand the outcome
// back as the job's return value, and the submitter (or `ferkit batch collect`) writes outcomes to
// the results database, then deletes the job. A result stays in Redis until it is committed to
// SQLite, and the database keeps only the first outcome of each try, so a worker lost mid-job
// (its job stalls and BullMQ gives it to another), a collector killed mid-write or two collectors
// at once lose nothing and write nothing twice.
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { BatchDb, ItemRow } from './db.js';
import type { ItemOutcome, ItemTask } from './item.js';
import { describeModel, type ModelIdentity } from './model-id.js';
import type { ItemPool } from './pool.js';

export interface JobData {
  /** The batch (results database) the job belongs to. */
  batch: string;
  /** The model the results must come from; other workers refuse the job. */
  model: Pick<ModelIdentity, 'name' | 'fingerprint'>;
  task: ItemTask;
}

export interface QueueTarget {
  url: string;
  name: string;
}

type Log = (line: string) => void;

/** Checks a redis:// URL and gives BullMQ's connection options for it. */
export function connectionFor(url: string): { url: string; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: not a URL; give redis://host:port/db`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue ${url}: give a redis:// or rediss:// URL (redis://host:port/db)`);
  // Workers block on Redis for jobs: commands wait for a reconnect instead of failing after retries.
  return { url, maxRetriesPerRequest: null };
}

/** Resolves when BullMQ has reached Redis, or fails clearly after `seconds`. */
async function reach(client: { on(event: 'error', f: (e: Error) => void): unknown; waitUntilReady(): Promise<unknown> }, url: string, seconds = 15): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const onError = (e: Error) => (last = e.message);
  client.on('error', onError);
  try {
    await Promise.race([
      client.waitUntilReady(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${url} within ${seconds} s${last ? ` (${last})` : ''}`)), seconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function openQueue(target: QueueTarget): Promise<Queue<JobData>> {
  const queue = new Queue<JobData>(target.name, { connection: connectionFor(target.url) });
  try {
    await reach(queue, target.url);
  } catch (e) {
    await queue.close().catch(() => undefined);
    throw e;
  }
  return queue;
}

/** One job id per item and try: re-adding the same id is a no-op in BullMQ, so re-submitting a
 *  batch does not duplicate jobs still waiting, running or not yet collected. */
const jobIdOf = (batch: string, row: Pick<ItemRow, 'id' | 'attempts'>) => `${batch}-${row.id}-${row.attempts}`;

function jobsFor(db: BatchDb, rows: readonly ItemRow[]) {
  const { batch, model } = db.meta;
  return rows.map((row) => ({
    name: 'item',
    data: { batch, model: { name: model.name, fingerprint: model.fingerprint }, task: db.task(row) } satisfies JobData,
    opts: { jobId: jobIdOf(batch, row), removeOnComplete: false, removeOnFail: false },
  }));
}

/** Puts every row's job on the queue (in chunks); the database notes the job ids first, so a
 *  submitter killed half-way re-adds the same jobs next time. */
export async function submit(db: BatchDb, queue: Queue<JobData>, rows: readonly ItemRow[]): Promise<void> {
  const chunk = 500;
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    db.setJobs(part.map((r) => ({ id: r.id, job: jobIdOf(db.meta.batch, r) })));
    await queue.addBulk(jobsFor(db, part));
  }
}

export interface CollectOptions {
  /** Called before each look at the queue: submits more jobs when the submitter keeps a window;
   *  resolves true while it has items left to submit. */
  refill?: () => Promise<boolean>;
  /** Called with every outcome written. */
  onOutcome?: (o: ItemOutcome) => void;
  /** Called with the number of outstanding jobs found missing from Redis and enqueued again. */
  onReadd?: (n: number) => void;
  /** Called while waiting, at most every few seconds, with the queue's counts. */
  onWait?: (counts: Record<string, number>) => void;
}

const POLL_MS = 500;
/** Seconds without any outcome after which a collector looks for jobs missing from Redis. */
const LOST_CHECK_SECONDS = 60;

function failedOutcome(job: Job<JobData>): ItemOutcome {
  const t = job.data.task;
  return { id: t.id, attempt: t.attempt, ok: false, engine: '', worker: '', seconds: 0, error: `${t.source}: the queue gave the job up (${job.failedReason || 'no reason given'})` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes the outcomes of this batch's finished jobs to the database, until no job of it is
 *  outstanding (and `refill` has nothing left). Jobs of other batches on the same queue are left
 *  alone. */
export async function collect(db: BatchDb, queue: Queue<JobData>, opts: CollectOptions = {}): Promise<void> {
  // A collector that starts (or resumes) first puts back what Redis lost while nobody watched.
  const readded = await readdLost(db, queue);
  if (readded > 0) opts.onReadd?.(readded);
  let lastProgress = Date.now();
  let lastWait = 0;
  for (;;) {
    const more = opts.refill ? await opts.refill() : false;
    if (!more && db.outstandingCount() === 0) break;
    let wrote = 0;
    for (const state of ['completed', 'failed'] as const) {
      const page = 500;
      for (let start = 0; ; start += page) {
        const jobs = (await queue.getJobs([state], start, start + page - 1, true)).filter((j): j is Job<JobData> => Boolean(j));
        let removed = 0;
        for (const job of jobs) {
          if (job.data?.batch !== db.meta.batch) continue;
          const outcome = state === 'completed' ? (job.returnvalue as ItemOutcome) : failedOutcome(job);
          if (db.record(outcome)) {
            wrote++;
            opts.onOutcome?.(outcome);
          }
          // Committed (or a duplicate of what is): the job has done its work.
          await job.remove();
          removed++;
        }
        if (jobs.length < page) break;
        // Removed jobs shift the range back.
        start -= removed;
      }
    }
    if (wrote > 0) {
      lastProgress = Date.now();
      continue;
    }
    if (Date.now() - lastProgress > LOST_CHECK_SECONDS * 1000) {
      const n = await readdLost(db, queue);
      if (n > 0) opts.onReadd?.(n);
      lastProgress = Date.now();
    }
    if (opts.onWait && Date.now() - lastWait > 2000) {
      lastWait = Date.now();
      opts.onWait(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'));
    }
    await sleep(POLL_MS);
  }
}

/** Outstanding items whose job is gone from Redis (flushed, or a Redis without persistence that
 *  restarted) get their job back. */
async function readdLost(db: BatchDb, queue: Queue<JobData>): Promise<number> {
  const rows = db.outstanding();
  const lost: ItemRow[] = [];
  for (let i = 0; i < rows.length; i += 200) {
    const part = rows.slice(i, i + 200);
    const states = await Promise.all(part.map((r) => queue.getJobState(r.job!)));
    part.forEach((r, k) => {
      if (states[k] === 'unknown') lost.push(r);
    });
  }
  if (lost.length) await queue.addBulk(jobsFor(db, lost));
  return lost.length;
}

export interface WorkerOptions {
  pool: ItemPool;
  /** host/pid, recorded with each outcome. */
  worker: string;
  model: ModelIdentity;
  /** Seconds a job's lock lasts without renewal: a worker gone this long loses its jobs to others. */
  stallSeconds: number;
  log: Log;
}

/** Runs jobs until stopped (SIGINT/SIGTERM: running jobs finish first) or until a job asks for
 *  another model: that job goes back to the queue untouched and the worker exits with an error. */
export async function runWorker(target: QueueTarget, opts: WorkerOptions): Promise<void> {
  let refusal: Error | undefined;
  let worker: Worker<JobData, ItemOutcome> | undefined = undefined;
  const stop = (why?: Error) => {
    refusal ??= why;
    void worker?.close();
  };
  worker = new Worker<JobData, ItemOutcome>(
    target.name,
    async (job, token) => {
      const { task, model } = job.data;
      if (model.fingerprint !== opts.model.fingerprint) {
        await job.moveToDelayed(Date.now() + 1000, token);
        stop(new Error(`job ${job.id} (${task.source}) was submitted for model ${describeModel(model)}, but this worker runs ${describeModel(opts.model)}: the job is back on the queue; start the worker with --model <that model's folder>`));
        throw new DelayedError();
      }
      opts.log(`${task.source}: started`);
      const outcome = await opts.pool.run(task, opts.worker);
      opts.log(outcome.ok ? `${task.source}: done, ${outcome.faces.length} face rows, ${outcome.seconds.toFixed(2)} s` : `${task.source}: failed: ${outcome.error}`);
      return outcome;
    },
    {
      connection: connectionFor(target.url),
      concurrency: opts.pool.threads,
      lockDuration: opts.stallSeconds * 1000,
      stalledInterval: opts.stallSeconds * 1000,
      // A job whose worker vanished goes back to the queue twice before it counts as failed.
      maxStalledCount: 2,
      autorun: false,
    },
  );
  worker.on('error', (e) => opts.log(`queue error: ${e.message}`));
  await reach(worker, target.url);
  const onSignal = () => {
    opts.log('stopping: running jobs finish first (again to stop now)');
    process.once('SIGINT', () => process.exit(130));
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  opts.log(`ready: queue ${target.name} on ${target.url}, model ${describeModel(opts.model)}, ${opts.pool.threads} thread${opts.pool.threads === 1 ? '' : 's'} on ${opts.pool.engine}`);
  await worker.run();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (refusal) throw refusal;
}
