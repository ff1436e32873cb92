// The folds of a cross-validation run, from any reader: a dataset's own folds where it ships them
// (DFEW's set_1..set_5 train/test lists, read one fold at a time), else computed folds over all its
// samples (`kFolds`: subject-independent when every sample has a subject, as CK+ does; stratified
// with a warning otherwise).
import { kFolds } from './folds.js';
import { datasets, type ReadOptions } from './registry.js';
import type { ClipSample, ImageSample } from './types.js';

export type Sample = ImageSample | ClipSample;

interface FoldData {
  /** 1-based fold number. */
  fold: number;
  train: Sample[];
  test: Sample[];
}

export interface FoldPlan {
  dataset: string;
  count: number;
  /** How the folds are made, for the logs and result files. */
  how: string;
  kind: 'image' | 'clip';
  load(fold: number): Promise<FoldData>;
}

export interface FoldPlanOptions extends Pick<ReadOptions, 'skipBad' | 'minFrames' | 'labelBase'> {
  /** Folds to compute (readers without their own; default 5). */
  folds?: number;
  /** Seed of computed folds. */
  seed?: number;
  warn?: (msg: string) => void;
}

export async function foldPlan(name: string, root: string, o: FoldPlanOptions = {}): Promise<FoldPlan> {
  const entry = datasets.get(name);
  const reader = entry.create;
  const read = { skipBad: o.skipBad, minFrames: o.minFrames, labelBase: o.labelBase };
  const check = (fold: number, count: number) => {
    if (!Number.isInteger(fold) || fold < 1 || fold > count) throw new Error(`fold ${fold} is not 1..${count} (${entry.name})`);
  };
  if (reader.folds !== undefined) {
    const count = reader.folds;
    if (o.folds !== undefined && o.folds !== count) throw new Error(`dataset ${entry.name} ships its own ${count} folds; --folds ${o.folds} does not apply (pick folds with --only-folds)`);
    return {
      dataset: entry.name,
      count,
      kind: reader.kind,
      how: `the dataset's own ${count} folds`,
      async load(fold) {
        check(fold, count);
        const [train, test] = await Promise.all(['train', 'test'].map((split) => reader.read(root, { ...read, fold, split })));
        return { fold, train: train!.items, test: test!.items };
      },
    };
  }
  const count = o.folds ?? 5;
  const ds = await reader.read(root, read);
  const split = kFolds(ds.items, count, o.seed ?? 0, o.warn);
  const by = (idx: number[]) => idx.map((i) => ds.items[i]!);
  return {
    dataset: entry.name,
    count,
    kind: reader.kind,
    how: `${count} ${split.subjectIndependent ? 'subject-independent' : 'class-stratified (not subject-independent)'} folds, seed ${o.seed ?? 0}`,
    async load(fold) {
      check(fold, count);
      const f = split.folds[fold - 1]!;
      return { fold, train: by(f.train), test: by(f.test) };
    },
  };
}
