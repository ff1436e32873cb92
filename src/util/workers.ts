// Worker threads, one way for the whole toolkit (decode, training replicas, serve, batch): a
// piscina pool of a fixed number of threads running one module's default export. Stateless jobs
// are tasks (`run`); a stateful thread (a model replica) is a session: one long task that holds its
// thread and answers requests by id on a MessagePort until closed.
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, type Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';

// From TypeScript sources the threads boot through worker-boot.mjs, which registers tsx first.
const fromSource = import.meta.url.endsWith('.ts');

/** A module's URL as this run loads it: given by its compiled name (`new URL('./x.js',
 *  import.meta.url)`), it is the .ts beside it when ferkit runs from its sources. */
export function moduleUrl(built: URL): string {
  return fromSource ? built.href.replace(/\.js$/, '.ts') : built.href;
}

export interface PoolOptions {
  threads: number;
  /** What the threads read with `poolData()`. */
  data?: unknown;
  /** Environment added to the threads' (thread caps). */
  env?: Record<string, string>;
  /** Tasks a thread holds at once (default 1): more keeps a thread busy while the caller takes a
   *  result and sends the next, for short tasks; `each` and `sessions` need 1. */
  tasksPerThread?: number;
}

export class WorkerPool {
  private readonly pool: Piscina;
  /** A thread that died with no task in hand (e.g. its module failed to load) fails later runs. */
  private failure: Error | undefined;

  /** Starts `o.threads` threads running `worker`'s default export; name the worker by its
   *  compiled URL (`new URL('./x-worker.js', import.meta.url)`): from sources it runs the .ts. */
  constructor(worker: URL, o: PoolOptions) {
    if (!(Number.isInteger(o.threads) && o.threads >= 1)) throw new Error(`threads must be a positive integer, got ${o.threads}`);
    const entry = moduleUrl(worker);
    this.pool = new Piscina({
      filename: fileURLToPath(fromSource ? new URL('./worker-boot.mjs', import.meta.url) : entry),
      workerData: { entry, data: o.data },
      env: { ...process.env, ...o.env },
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: Infinity,
      // With one task per thread at a time, N tasks in flight occupy N different threads.
      concurrentTasksPerWorker: o.tasksPerThread ?? 1,
    });
    this.pool.on('error', (e: Error) => (this.failure ??= e));
  }

  get threads(): number {
    return this.pool.options.maxThreads;
  }

  /** Runs one task on the next free thread; the buffers in `transfer` move instead of copying. */
  run<R>(task: unknown, transfer?: Transferable[]): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return this.pool.run(task, transfer && { transferList: transfer as never }) as Promise<R>;
  }

  /** Runs `task` once on every thread (one task per thread at a time, so N land on N threads):
   *  each answers after its module has loaded, so load errors show here. */
  each<R>(task: unknown): Promise<R[]> {
    return Promise.all(Array.from({ length: this.threads }, () => this.run<R>(task)));
  }

  /** Opens one session per thread (one task per thread at a time, so N land on N threads). */
  sessions(): Session[] {
    return Array.from({ length: this.threads }, () => new Session(this));
  }

  /** Stops every thread (sessions included). */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** A long task holding one thread: request/response by id over a MessagePort. */
export class Session {
  private readonly port: MessagePort;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private ended: Error | undefined;

  constructor(pool: WorkerPool) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', (m: { id: number; value?: unknown; error?: Error }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(m.error);
      else p?.resolve(m.value);
    });
    // The task ends when the thread fails or the pool closes: what is still waiting fails with it.
    pool.run({ port: port2 }, [port2]).then(
      () => this.end(new Error('session closed')),
      (e: Error) => this.end(e),
    );
  }

  private end(e: Error): void {
    this.ended = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.port.close();
  }

  request<R>(body: unknown, transfer: Transferable[] = []): Promise<R> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ id, body }, transfer as never);
    });
  }
}

// --- In the threads ---

/** The `data` the pool was started with. */
export function poolData<T>(): T {
  return (Piscina.workerData as { data: T }).data;
}

/** An error that crosses threads whole: Node's own errors (ERR_MODULE_NOT_FOUND, …) arrive
 *  without their message when cloned, so the thread sends a plain Error with its message and stack. */
function portable(e: unknown): Error {
  const err = new Error(e instanceof Error ? e.message : String(e));
  err.stack = e instanceof Error ? e.stack : err.stack;
  return err;
}

/** A module's default export for tasks: `run`'s errors arrive with their message and stack. */
export function taskHandler<T, R>(fn: (task: T) => R): (task: T) => Promise<Awaited<R>> {
  return async (task): Promise<Awaited<R>> => {
    try {
      return await fn(task);
    } catch (e) {
      throw portable(e);
    }
  };
}

/** A result (of a task or a session request) whose buffers move to the caller, not copied. */
export function moved<T>(value: T, transfer: Transferable[]): T {
  return Piscina.move({ [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: value } as never) as T;
}

/** A module's default export for sessions: answers each request with `handle` until the pool
 *  closes; a thrown error goes back to the caller with its stack. */
export function sessionHandler(handle: (body: never) => unknown): (task: { port: MessagePort }) => Promise<void> {
  return ({ port }) =>
    new Promise<void>((resolve) => {
      port.on('message', async ({ id, body }: { id: number; body: never }) => {
        try {
          const r = (await handle(body)) as Record<symbol, unknown> | undefined;
          if (r?.[Piscina.transferableSymbol]) port.postMessage({ id, value: r[Piscina.valueSymbol] }, r[Piscina.transferableSymbol] as never);
          else port.postMessage({ id, value: r });
        } catch (e) {
          port.postMessage({ id, error: portable(e) });
        }
      });
      port.on('close', resolve);
    });
}
