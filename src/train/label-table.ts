// The training labels as the trainer uses them: the dataset's labels, changed in place by
// objectives that relabel samples (SCN, spec §2.5: "overwrite the sample's label in the dataset …
// used from then on"). Checkpoints hold the changed entries, so a resumed run sees the same table.

/** [dataset index, label] pairs. */
export type LabelChanges = Array<[number, number]>;

export class LabelTable {
  private readonly current: Int32Array;

  constructor(
    private readonly original: Int32Array,
    private readonly numClasses: number,
  ) {
    this.current = Int32Array.from(original);
  }

  get size(): number {
    return this.current.length;
  }

  /** Current label of sample i. */
  get(i: number): number {
    return this.current[i];
  }

  /** A copy of the whole table. */
  labels(): Int32Array {
    return Int32Array.from(this.current);
  }

  /** Applies relabel decisions; returns how many of them changed a label. */
  apply(changes: LabelChanges): number {
    let changed = 0;
    for (const [i, label] of changes) {
      this.check(i, label, 'relabel');
      if (this.current[i] !== label) changed++;
      this.current[i] = label;
    }
    return changed;
  }

  /** Every sample whose label differs from the dataset's, in index order (for checkpoints). */
  changes(): LabelChanges {
    const out: LabelChanges = [];
    for (let i = 0; i < this.current.length; i++) if (this.current[i] !== this.original[i]) out.push([i, this.current[i]]);
    return out;
  }

  /** The dataset's labels with a checkpoint's `changes()` applied. */
  restore(changes: unknown, source: string): void {
    if (!Array.isArray(changes) || !changes.every((e) => Array.isArray(e) && e.length === 2 && e.every(Number.isInteger))) {
      throw new Error(`${source}: relabeled labels must be [index, label] pairs`);
    }
    this.current.set(this.original);
    for (const [i, label] of changes as LabelChanges) this.check(i, label, source);
    this.apply(changes as LabelChanges);
  }

  private check(i: number, label: number, what: string): void {
    if (i < 0 || i >= this.current.length) throw new Error(`${what}: sample index ${i} is outside the training set of ${this.current.length} samples`);
    if (label < 0 || label >= this.numClasses) throw new Error(`${what}: label ${label} of sample ${i} is not one of the ${this.numClasses} classes`);
  }
}
