// k-fold splits. With subjects, folds are subject-independent: every subject's samples sit in one
// fold, so no face is seen in both training and test (frames of one CK+ sequence are near
// duplicates and would leak). Without subjects, a class-stratified split is the fallback, with a
// warning that it is not subject-independent.
import { Rng } from '../util/rng.js';
import { shuffleInPlace } from './samplers.js';

interface Fold {
  /** Item indices. */
  train: number[];
  test: number[];
}

export interface FoldSplit {
  folds: Fold[];
  /** Fold (0..k-1) each item is tested in. */
  foldOf: number[];
  subjectIndependent: boolean;
  warning?: string;
}

interface Item {
  label: number;
  subject?: string;
}

function toFolds(foldOf: number[], k: number): Fold[] {
  return Array.from({ length: k }, (_, f) => ({
    train: foldOf.flatMap((g, i) => (g === f ? [] : [i])),
    test: foldOf.flatMap((g, i) => (g === f ? [i] : [])),
  }));
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k-fold needs an integer k >= 2, got ${k}`);
  if (n < k) throw new Error(`cannot make ${k} folds from ${n} ${what}`);
}

/** Subject-independent folds, balanced by sample count: subjects (in seeded random order, then
 *  largest first) each go to the fold with the fewest samples so far. */
export function subjectFolds(items: readonly Item[], k: number, seed = 0): FoldSplit {
  const bySubject = new Map<string, number[]>();
  items.forEach((s, i) => {
    if (s.subject === undefined) throw new Error(`item ${i} has no subject: use stratifiedFolds (or kFolds) instead`);
    const list = bySubject.get(s.subject) ?? [];
    list.push(i);
    bySubject.set(s.subject, list);
  });
  checkK(k, bySubject.size, 'subjects');
  const subjects = shuffleInPlace([...bySubject.keys()].sort(), new Rng(seed));
  // Stable sort: ties keep the seeded order, so the seed still matters among equal-sized subjects.
  subjects.sort((a, b) => bySubject.get(b)!.length - bySubject.get(a)!.length);
  const sizes = new Array<number>(k).fill(0);
  const foldOf = new Array<number>(items.length);
  for (const subj of subjects) {
    const f = sizes.indexOf(Math.min(...sizes));
    for (const i of bySubject.get(subj)!) foldOf[i] = f;
    sizes[f]! += bySubject.get(subj)!.length;
  }
  return { folds: toFolds(foldOf, k), foldOf, subjectIndependent: true };
}

/** Class-stratified folds for data without subjects: each class is shuffled and dealt round-robin,
 *  the deal continuing across classes so fold sizes differ by at most one. */
export function stratifiedFolds(items: readonly Item[], k: number, seed = 0): FoldSplit {
  checkK(k, items.length, 'samples');
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  items.forEach((s, i) => {
    const list = byClass.get(s.label) ?? [];
    list.push(i);
    byClass.set(s.label, list);
  });
  const foldOf = new Array<number>(items.length);
  let turn = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const i of shuffleInPlace(byClass.get(label)!, rng)) foldOf[i] = turn++ % k;
  }
  return {
    folds: toFolds(foldOf, k),
    foldOf,
    subjectIndependent: false,
    warning: 'these folds are NOT subject-independent (the dataset has no subject ids): the same person may appear in training and test',
  };
}

/** Subject-independent folds when every item has a subject, else stratified folds with a warning
 *  (passed to `warn`, console.warn by default). */
export function kFolds(items: readonly Item[], k: number, seed = 0, warn: (msg: string) => void = console.warn): FoldSplit {
  if (items.length > 0 && items.every((s) => s.subject !== undefined)) return subjectFolds(items, k, seed);
  const split = stratifiedFolds(items, k, seed);
  warn(split.warning!);
  return split;
}
