// `ferkit batch`: every photo and video under a folder, in a list file or matching a glob, into an
// SQLite results database, resumable; on this machine's cores or on a Redis queue's workers
// (`ferkit worker`). `ferkit batch export` and `ferkit batch collect` work on such a database.
import type { Command } from 'commander';
import { engineFlags, number } from '../batch-flags.js';
import { globalOptions } from '../global-options.js';

interface BatchFlags {
  out?: string;
  model?: string;
  engine: string;
  detector: string;
  minScore?: string;
  fps?: string;
  tau?: string;
  threads?: string;
  maxAttempts: string;
  export?: string;
  queue?: string;
  queueName: string;
  queueWindow?: string;
  wait: boolean;
}

const progressMode = (quiet: boolean) => (quiet ? 'off' : process.stderr.isTTY ? 'bar' : 'lines');

async function run(inputs: string[], flags: BatchFlags, cmd: Command): Promise<void> {
  const { quiet, backend } = globalOptions(cmd);
  const log = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const out = flags.out;
  if (!out) throw new Error('give --out <results.db>: the SQLite database the results go to (an existing one is resumed)');
  if (!['ssd', 'tiny'].includes(flags.detector)) throw new Error(`--detector must be ssd or tiny, got "${flags.detector}"`);
  const { checkFormat, defaultExportPath, exportResults } = await import('../../batch/export.js');
  const format = flags.export === undefined ? undefined : checkFormat(flags.export);
  const settings = {
    detector: flags.detector as 'ssd' | 'tiny',
    minScore: number('min-score', flags.minScore),
    fps: number('fps', flags.fps),
    tau: number('tau', flags.tau, { allowZero: true }),
  };
  const { runBatch } = await import('../../batch/run.js');
  await runBatch({
    inputs,
    out,
    model: flags.model,
    backend,
    ...engineFlags(flags),
    settings,
    maxAttempts: number('max-attempts', flags.maxAttempts, { integer: true })!,
    queue: flags.queue ? { url: flags.queue, name: flags.queueName } : undefined,
    wait: flags.wait,
    window: number('queue-window', flags.queueWindow, { integer: true }),
    progress: progressMode(quiet),
    log,
  });
  if (format && flags.queue && !flags.wait) log(`--export ${format}: nothing to export yet; run \`ferkit batch export ${out}\` after \`ferkit batch collect\``);
  else if (format) {
    const { BatchDb } = await import('../../batch/db.js');
    const db = BatchDb.open(out);
    try {
      const path = defaultExportPath(out, format);
      log(`wrote ${await exportResults(db, format, path)} rows to ${path}`);
    } finally {
      db.close();
    }
  }
}

async function runExport(dbPath: string, file: string | undefined, flags: { format?: string }, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const { checkFormat, defaultExportPath, exportResults } = await import('../../batch/export.js');
  const fromName = file?.match(/\.([a-z]+)$/i)?.[1].toLowerCase();
  const format = checkFormat(flags.format ?? fromName ?? 'csv');
  const { BatchDb } = await import('../../batch/db.js');
  const db = BatchDb.open(dbPath);
  try {
    const path = file ?? defaultExportPath(dbPath, format);
    const n = await exportResults(db, format, path);
    if (!quiet) process.stderr.write(`wrote ${n} rows to ${path}\n`);
  } finally {
    db.close();
  }
}

async function runCollect(dbPath: string, _flags: unknown, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  // The parent `batch` command parses --queue and friends wherever they stand.
  const flags = cmd.optsWithGlobals() as { queue?: string; queueName?: string; maxAttempts: string };
  const { collectBatch } = await import('../../batch/run.js');
  await collectBatch({
    db: dbPath,
    queue: { url: flags.queue, name: flags.queue ? flags.queueName : undefined },
    maxAttempts: number('max-attempts', flags.maxAttempts, { integer: true })!,
    progress: progressMode(quiet),
    log: (s) => {
      if (!quiet) process.stderr.write(s + '\n');
    },
  });
}

export function register(program: Command): void {
  const batch = program
    .command('batch')
    .description('expressions of every face in a folder, list or glob of photos and videos into an SQLite database; resumable; on this machine or on Redis queue workers')
    .argument('<inputs...>', 'folders (searched recursively), list files (.txt: a path or http(s) URL a line), globs ("photos/**/*.jpg"), images or videos')
    // Not a commander requiredOption: that would be demanded of `batch export` and `batch collect` too.
    .option('--out <results.db>', 'SQLite results database (created, or resumed when it exists); required')
    .option('--model <dir>', 'model folder (default: the bundled FER2013 model)')
    .option('--engine <name>', 'auto (ONNX when the model folder has model.onnx), tfjs or onnx', 'auto')
    .option('--detector <name>', 'face detector: ssd (accurate) or tiny (fast)', 'ssd')
    .option('--min-score <x>', 'minimum face detection score (default 0.5)')
    .option('--fps <n>', 'video frames per second analysed (default: the video rate, at most 15)')
    .option('--tau <seconds>', 'videos with an image model: EMA smoothing time constant (default 0.5, 0 = off)')
    .option('--threads <n>', 'analysis threads on this machine (default: one per core)')
    .option('--max-attempts <n>', 'tries per item over re-runs before its failure is final', '3')
    .option('--export <format>', 'also write the results as csv, jsonl or parquet beside the database')
    .option('--queue <redis-url>', 'enqueue the items on BullMQ at redis://host:port/db for `ferkit worker`s instead of running them here')
    .option('--queue-name <name>', 'BullMQ queue name', 'ferkit-batch')
    .option('--queue-window <n>', 'with --queue: most jobs in Redis at once while waiting; more go as results come in (default 10000)')
    .option('--no-wait', 'with --queue: submit and exit; `ferkit batch collect` writes the results later')
    .action(run);
  batch
    .command('export')
    .description('write the face rows of a results database as CSV, JSON lines or Parquet')
    .argument('<results.db>', 'results database')
    .argument('[file]', 'output file (default: beside the database, e.g. results.csv)')
    .option('--format <format>', 'csv, jsonl or parquet (default: from the file name, else csv)')
    .action(runExport);
  batch
    .command('collect')
    .description('write the results of a batch submitted with --queue (--no-wait, or its submitter stopped) as the workers finish')
    .argument('<results.db>', 'results database of the submitted batch')
    .option('--queue <redis-url>', 'Redis URL (default: the one the batch was submitted to)')
    .option('--queue-name <name>', 'BullMQ queue name (default: the one the batch was submitted to)')
    .action(runCollect);
}
