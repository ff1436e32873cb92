// Helpers every reader shares: file listing, existence checks, CSV and line parsing.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { extname, join, resolve, isAbsolute } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataError, ProblemLog } from '../errors.js';
import type { ClipSample, Dataset, ImageSample } from '../types.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.gif', '.pgm']);
const VIDEO_EXTENSIONS = new Set(['.mp4', '.avi', '.mov', '.mkv', '.webm', '.flv', '.m4v', '.mpg', '.mpeg']);

const isImageFile = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
export const isVideoFile = (name: string): boolean => VIDEO_EXTENSIONS.has(extname(name).toLowerCase());

/** Options every reader takes; readers ignore the ones that do not apply to their format. */
export interface ReadOptions {
  /** Keep only this split (train / val / test, as the reader names them). */
  split?: string;
  /** Record problems in `dataset.skipped` and go on, instead of throwing at the first. */
  skipBad?: boolean;
  /** Fold of a dataset with its own folds (DFEW set_1..set_5). */
  fold?: number;
  /** Clips with fewer frames are dropped (DFEW default 16, as the IAL reference does). */
  minFrames?: number;
  /** Base of numeric labels where a dataset ships both (DFEW: 0 in IAL's lists, 1 in DFEW's own). */
  labelBase?: 0 | 1;
  /** How labels are derived where a dataset has several rules (FER+: majority, probability,
   *  plurality). */
  labelMode?: string;
  /** Which of a dataset's layouts to read where it has several (FER+: official, votes). */
  layout?: string;
}

export interface DatasetReader {
  kind: 'image' | 'clip';
  /** Folds the dataset ships (DFEW: 5, read with `fold` 1..k and split train/test). Readers
   *  without one get computed folds (subject-independent where samples have subjects). */
  folds?: number;
  read(root: string, opts?: ReadOptions): Promise<Dataset<ImageSample | ClipSample>>;
}

/** Throws a DataError naming `path` unless it is a directory. */
export function requireDir(path: string, what: string): void {
  if (!existsSync(path)) throw new DataError(path, `${what} not found`);
  if (!statSync(path).isDirectory()) throw new DataError(path, `${what} is not a directory`);
}

/** Throws a DataError naming `path` unless it is a readable, non-empty file. */
export function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new DataError(path, `${what} not found`);
  const st = statSync(path);
  if (!st.isFile()) throw new DataError(path, `${what} is not a file`);
  if (st.size === 0) throw new DataError(path, `${what} is empty`);
}

/** Checks an image file listed by an annotation exists and is not empty; logs a problem if not. */
export function checkImageFile(path: string, log: ProblemLog): boolean {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) {
      log.problem(path, 'not a file');
      return false;
    }
    size = st.size;
  } catch {
    log.problem(path, 'missing file');
    return false;
  }
  if (size === 0) {
    log.problem(path, 'empty file (0 bytes)');
    return false;
  }
  return true;
}

/** Sub-directories of `dir`, sorted by name (hidden ones skipped). */
export function listDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** Image files in `dir` (not recursive), sorted by file name as the references sort frames. */
export function listImages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.') && isImageFile(e.name))
    .map((e) => e.name)
    .sort();
}

/** Image files of a frame folder as absolute paths, with empty files logged as problems. */
export function listFrames(dir: string, log: ProblemLog): string[] | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    log.problem(dir, 'frame folder not found');
    return undefined;
  }
  const frames = listImages(dir).map((f) => join(dir, f));
  for (const f of frames) {
    if (statSync(f).size === 0) {
      log.problem(f, 'empty file (0 bytes)');
      return undefined;
    }
  }
  return frames;
}

/** Reads a CSV with a header row into records keyed by column name. */
export function readCsvRecords(file: string): Record<string, string>[] {
  requireFile(file, 'CSV file');
  try {
    return parse(readFileSync(file), {
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
      relax_column_count: true,
    }) as Record<string, string>[];
  } catch (e) {
    throw new DataError(file, `not a readable CSV: ${(e as Error).message}`);
  }
}

/** Reads a CSV as rows of cells (no header handling). */
export function readCsvRows(file: string): string[][] {
  requireFile(file, 'CSV file');
  try {
    return parse(readFileSync(file), { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new DataError(file, `not a readable CSV: ${(e as Error).message}`);
  }
}

/** Non-empty lines of a text list, split on whitespace (or commas), with their 1-based line numbers. */
export function readListLines(file: string): { line: number; fields: string[] }[] {
  requireFile(file, 'list file');
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((text, i) => ({ line: i + 1, fields: text.trim().split(/[\s,]+/).filter(Boolean) }))
    .filter((l) => l.fields.length > 0 && !l.fields[0]!.startsWith('#'));
}

/** Resolves a path from an annotation: absolute, or relative to `base`. */
export function resolveFrom(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Assembles the Dataset a reader returns. */
export function finish<S>(name: string, root: string, classes: number[], items: S[], log: ProblemLog): Dataset<S> {
  return { name, root, classes, items, skipped: log.skipped, dropped: log.dropped };
}

/** Readers of datasets without splits refuse `split` rather than return nothing. */
export function refuseSplit(name: string, root: string, opts: ReadOptions): void {
  if (opts.split !== undefined) {
    throw new DataError(root, `${name} has no "${opts.split}" split (it has no splits): use subject folds (src/data/folds.ts)`);
  }
}

/** Canonical split names for the names datasets use. */
const SPLIT_NAMES: Record<string, string> = {
  train: 'train',
  training: 'train',
  train_set: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  validation_set: 'val',
  publictest: 'val',
  test: 'test',
  testing: 'test',
  test_set: 'test',
  privatetest: 'test',
};

export function canonicalSplit(name: string): string | undefined {
  return SPLIT_NAMES[name.trim().toLowerCase()];
}
