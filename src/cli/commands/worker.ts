// `ferkit worker --queue redis://host:port/db`: takes `ferkit batch --queue` jobs from BullMQ and
// runs them on this machine's cores with the same per-item code as a local batch, until stopped.
import type { Command } from 'commander';
import { globalOptions } from '../global-options.js';
import { engineFlags, number } from '../batch-flags.js';

interface WorkerFlags {
  queue: string;
  queueName: string;
  model?: string;
  engine: string;
  threads?: string;
  stallSeconds: string;
}

async function run(flags: WorkerFlags, cmd: Command): Promise<void> {
  const { quiet, backend } = globalOptions(cmd);
  const { connectionFor } = await import('../../batch/queue.js');
  connectionFor(flags.queue);
  const { runQueueWorker } = await import('../../batch/run.js');
  await runQueueWorker({
    queue: { url: flags.queue, name: flags.queueName },
    model: flags.model,
    backend,
    ...engineFlags(flags),
    stallSeconds: number('stall-seconds', flags.stallSeconds)!,
    log: (s) => {
      if (!quiet) process.stderr.write(`ferkit worker: ${s}\n`);
    },
  });
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('run `ferkit batch --queue` jobs from a Redis queue on this machine until stopped (inputs must be readable here at the same path, or be URLs)')
    .requiredOption('--queue <redis-url>', 'Redis URL, redis://host:port/db')
    .option('--queue-name <name>', 'BullMQ queue name', 'ferkit-batch')
    .option('--model <dir>', 'model folder (default: the bundled model); jobs submitted for another model are refused')
    .option('--engine <name>', 'auto, tfjs or onnx', 'auto')
    .option('--threads <n>', 'jobs at once, one analysis thread each (default: one per core)')
    .option('--stall-seconds <s>', 'a job whose worker is silent this long goes back to the queue', '30')
    .action(run);
}
