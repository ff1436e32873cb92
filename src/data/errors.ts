// Data problems: by default the first one stops reading with a DataError naming the file; with
// skipBad the reader records it and goes on, so one bad file in 30,000 does not cost a run.
import { writeFile } from 'node:fs/promises';
import type { DataProblem, Dataset } from './types.js';

export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
  }
}

/** Collects a reader's problems, or throws at the first one when skipBad is off. */
export class ProblemLog {
  readonly skipped: DataProblem[] = [];
  /** Samples left out on purpose by a dataset rule (too-short clips, AffectNet "none"), not errors. */
  readonly dropped: DataProblem[] = [];

  constructor(readonly skipBad = false) {}

  /** Record a problem; throws DataError unless skipBad. */
  problem(file: string, problem: string): void {
    if (!this.skipBad) throw new DataError(file, problem);
    this.skipped.push({ file, problem });
  }

  drop(file: string, reason: string): void {
    this.dropped.push({ file, problem: reason });
  }
}

/** Writes a dataset's skipped (and dropped) samples as JSON, for `--skip-bad` runs. */
export async function writeSkipReport(dataset: Dataset<unknown>, path: string): Promise<void> {
  const report = {
    dataset: dataset.name,
    root: dataset.root,
    kept: dataset.items.length,
    skipped: dataset.skipped,
    dropped: dataset.dropped ?? [],
  };
  await writeFile(path, JSON.stringify(report, null, 2) + '\n');
}
