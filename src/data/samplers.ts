// Index samplers: seeded shuffled batches, class-balanced epochs (ARBEx-style cap or oversampling),
// P×K triplet batches (pattern-map) and, re-exported, the U×V clip frame sampling of §1.2.
// They return indices into the dataset's items, so any reader's samples can be batched.
import type { Rng } from '../util/rng.js';

export { IAL_SAMPLING, NR_DFERNET_SAMPLING, testFrameIndices, trainFrameIndices,  } from './clip-sampling.js';

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export function permutation(n: number, rng: Rng): number[] {
  return rng.permutation(n);
}

/** Splits an index order into batches; the last short one is kept unless dropLast. */
export function toBatches(order: readonly number[], batchSize: number, dropLast = false): number[][] {
  if (!(batchSize >= 1) || !Number.isInteger(batchSize)) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && dropLast) break;
    out.push(b);
  }
  return out;
}

export interface ShuffleOptions {
  /** Keep the input order (evaluation). */
  shuffle?: boolean;
  dropLast?: boolean;
}

/** One epoch of batches over n items: shuffled with `rng` unless shuffle is false. */
export function shuffledBatches(n: number, batchSize: number, rng: Rng, opts: ShuffleOptions = {}): number[][] {
  const order = opts.shuffle === false ? Array.from({ length: n }, (_, i) => i) : permutation(n, rng);
  return toBatches(order, batchSize, opts.dropLast ?? false);
}

/** Item indices grouped by label, in item order. */
export function indicesByClass(labels: readonly number[]): Map<number, number[]> {
  const by = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = by.get(l);
    if (list) list.push(i);
    else by.set(l, [i]);
  });
  return by;
}

export interface BalanceOptions {
  /**
   * 'cap': at most `perClass` items of each class, a fresh random subset each epoch (ARBEx's
   * DataMaker takes the first ones in video order; we draw them so every item gets its turn).
   * 'oversample': every class brought to `perClass` (default: the largest class), drawing the
   * extra items with replacement, after using each item once.
   */
  mode: 'cap' | 'oversample';
  perClass?: number;
}

/** One class-balanced epoch of item indices, shuffled. */
export function classBalancedEpoch(labels: readonly number[], rng: Rng, opts: BalanceOptions): number[] {
  const by = indicesByClass(labels);
  const largest = Math.max(0, ...[...by.values()].map((v) => v.length));
  const target = opts.perClass ?? (opts.mode === 'oversample' ? largest : Infinity);
  if (!(target >= 1)) throw new Error(`perClass must be at least 1, got ${opts.perClass}`);
  const chosen: number[] = [];
  for (const label of [...by.keys()].sort((a, b) => a - b)) {
    const items = shuffleInPlace([...by.get(label)!], rng);
    if (items.length >= target) chosen.push(...items.slice(0, target));
    else if (opts.mode === 'cap') chosen.push(...items);
    else {
      chosen.push(...items);
      for (let k = items.length; k < target; k++) chosen.push(items[rng.int(items.length)]);
    }
  }
  return shuffleInPlace(chosen, rng);
}

export interface TripletBatchOptions {
  /** Images per class in a batch (K, the brief's t). */
  perClass: number;
  /** Classes per batch (P); default every class present. Classes are drawn without replacement. */
  classesPerBatch?: number;
}

/**
 * A P×K batch for batch-hard triplet mining: P distinct classes, K images of each drawn with
 * replacement (so a class with one image still gives a batch). Grouped by class, class order random.
 */
export function tripletBatch(labels: readonly number[], rng: Rng, opts: TripletBatchOptions): number[] {
  const by = indicesByClass(labels);
  const classes = shuffleInPlace([...by.keys()].sort((a, b) => a - b), rng);
  const p = opts.classesPerBatch ?? classes.length;
  if (p < 2) throw new Error(`triplet batches need at least 2 classes; ${p === classes.length ? `the labels have ${p}` : `classesPerBatch is ${p}`}`);
  if (p > classes.length) throw new Error(`classesPerBatch ${p} exceeds the ${classes.length} classes present`);
  if (!(opts.perClass >= 1)) throw new Error(`perClass must be at least 1, got ${opts.perClass}`);
  const out: number[] = [];
  for (const c of classes.slice(0, p)) {
    const items = by.get(c)!;
    for (let k = 0; k < opts.perClass; k++) out.push(items[rng.int(items.length)]);
  }
  return out;
}

/** `count` triplet batches (an epoch of pattern-map training). */
export function tripletBatches(labels: readonly number[], rng: Rng, opts: TripletBatchOptions & { count: number }): number[][] {
  return Array.from({ length: opts.count }, () => tripletBatch(labels, rng, opts));
}
