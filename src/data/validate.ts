// Deeper checks than the readers' (which only see that listed files exist and are not empty):
// decode image headers with sharp (`header`) or whole images (`full`, which also catches truncated
// JPEGs whose header is intact), check in-memory pixel buffers, frame counts and empty classes.
// Readers stay cheap so training start-up does not decode 30,000 images; `ferkit data check` and
// callers who want certainty run this.
import { statSync } from 'node:fs';
import sharp from 'sharp';
import { DataError } from './errors.js';
import { className } from './labels.js';
import type { ClipSample, DataProblem, Dataset, ImageSample, ImageSource } from './types.js';

export type CheckLevel = 'exists' | 'header' | 'full';

export interface ValidateOptions {
  /** exists: stat only; header (default): decode the image header; full: decode every pixel. */
  level?: CheckLevel;
  /** Clips with fewer frames are problems (not checked when unset). */
  minFrames?: number;
  /** Remove bad samples and record them in `skipped`, instead of throwing at the first problem. */
  skipBad?: boolean;
  /** Images checked at once (sharp decodes on libuv's thread pool). */
  concurrency?: number;
}

/** The problem with one image file, or undefined when it is fine at `level`. */
export async function checkImageFile(path: string, level: CheckLevel = 'header'): Promise<string | undefined> {
  try {
    const st = statSync(path);
    if (!st.isFile()) return 'not a file';
    if (st.size === 0) return 'empty file (0 bytes)';
  } catch {
    return 'missing file';
  }
  if (level === 'exists') return undefined;
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) return `corrupt image: no size in header (${meta.format ?? 'unknown format'})`;
    if (level === 'full') {
      const { info } = await sharp(path, { failOn: 'truncated' }).raw().toBuffer({ resolveWithObject: true });
      if (info.width !== meta.width || info.height !== meta.height) return 'corrupt image: decoded size differs from header';
    }
  } catch (e) {
    return `corrupt or unreadable image: ${(e as Error).message}`;
  }
  return undefined;
}

function checkPixels(src: Extract<ImageSource, { kind: 'pixels' }>): string | undefined {
  const want = src.width * src.height * src.channels;
  return src.data.length === want ? undefined : `pixel buffer has ${src.data.length} bytes, expected ${want}`;
}

async function checkSource(src: ImageSource | { kind: 'video'; path: string }, level: CheckLevel): Promise<DataProblem | undefined> {
  if (src.kind === 'pixels') {
    const p = checkPixels(src);
    return p ? { file: src.origin, problem: p } : undefined;
  }
  // Video files cannot be decoded here (no ffmpeg dependency in this layer): check they exist.
  const level2 = src.kind === 'file' ? level : 'exists';
  const p = await checkImageFile(src.path, level2);
  return p ? { file: src.path, problem: p } : undefined;
}

const isClip = (s: ImageSample | ClipSample): s is ClipSample => 'frames' in s;

/** First problem of one sample, or undefined. */
async function checkSample(s: ImageSample | ClipSample, opts: ValidateOptions): Promise<DataProblem | undefined> {
  const level = opts.level ?? 'header';
  if (!isClip(s)) return checkSource(s.image, level);
  if (!Array.isArray(s.frames)) return checkSource(s.frames, level);
  if (opts.minFrames !== undefined && s.frames.length < opts.minFrames) {
    const first = s.frames[0];
    const file = first && 'path' in first ? first.path : s.id;
    return { file, problem: `clip ${s.id} has ${s.frames.length} frames, fewer than ${opts.minFrames}` };
  }
  for (const f of s.frames) {
    const p = await checkSource(f, level);
    if (p) return p;
  }
  return undefined;
}

/** Checks every sample; returns the dataset without bad samples (skipBad) or throws DataError at
 *  the first bad sample. Problems are also returned, including classes with no samples (which name
 *  the dataset root, the only file they concern, and never throw). */
export async function validateDataset<S extends ImageSample | ClipSample>(
  dataset: Dataset<S>,
  opts: ValidateOptions = {},
): Promise<{ dataset: Dataset<S>; problems: DataProblem[] }> {
  const results: Array<DataProblem | undefined> = new Array(dataset.items.length);
  let next = 0;
  let failed: DataProblem | undefined;
  const worker = async (): Promise<void> => {
    while (next < dataset.items.length && !(failed && !opts.skipBad)) {
      const i = next++;
      const p = await checkSample(dataset.items[i]!, opts);
      results[i] = p;
      if (p && !failed) failed = p;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  if (failed && !opts.skipBad) {
    // Report the first bad sample in dataset order, so the error does not depend on timing.
    const first = results.find((r) => r !== undefined) ?? failed;
    throw new DataError(first.file, first.problem);
  }
  const problems = results.filter((r): r is DataProblem => r !== undefined);
  const items = dataset.items.filter((_, i) => results[i] === undefined);
  const counts = new Map<number, number>();
  for (const s of items) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  for (const c of dataset.classes) {
    if (!counts.has(c)) {
      // Reported, never thrown: no sample is at fault, and a filtered split may lack a class.
      problems.push({ file: dataset.root, problem: `class "${className(c)}" has no samples` });
    }
  }
  return { dataset: { ...dataset, items, skipped: [...dataset.skipped, ...problems] }, problems };
}

/** Samples per canonical class, over the dataset's label space (zeros included). */
export function classCounts(dataset: Dataset<{ label: number }>): Map<number, number> {
  const counts = new Map<number, number>(dataset.classes.map((c) => [c, 0]));
  for (const s of dataset.items) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  return new Map([...counts.entries()].sort((a, b) => a[0] - b[0]));
}
