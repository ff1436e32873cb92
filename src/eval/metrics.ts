// Classification metrics: WAR (overall accuracy), UAR (mean per-class recall), per-class recall
// and precision, macro-F1, confusion matrix, expected calibration error and reliability bins.

export interface ClassificationReport {
  n: number;
  war: number;
  /** Mean recall over classes that occur in the ground truth. */
  uar: number;
  recall: Array<number | null>;
  precision: Array<number | null>;
  f1: Array<number | null>;
  macroF1: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Classes with no ground-truth sample (left out of UAR and macro-F1). */
  absent: number[];
  /** Plain-language notes for reports, e.g. which classes were left out of UAR and why. */
  notes: string[];
}

export function classificationReport(labels: ArrayLike<number>, preds: ArrayLike<number>, numClasses: number): ClassificationReport {
  if (labels.length !== preds.length) throw new Error(`metrics: ${labels.length} labels but ${preds.length} predictions`);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const p = preds[i];
    if (y < 0 || y >= numClasses || p < 0 || p >= numClasses) throw new Error(`metrics: class out of range at ${i} (${y}, ${p})`);
    confusion[y][p]++;
    if (y === p) correct++;
  }
  const recall: Array<number | null> = [];
  const precision: Array<number | null> = [];
  const f1: Array<number | null> = [];
  const absent: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const tp = confusion[c][c];
    const r = support > 0 ? tp / support : null;
    const pr = predicted > 0 ? tp / predicted : null;
    if (support === 0) absent.push(c);
    recall.push(r);
    precision.push(pr);
    f1.push(r === null ? null : pr === null || r + pr === 0 ? 0 : (2 * pr * r) / (pr + r));
  }
  const present = recall.filter((r): r is number => r !== null);
  const f1Present = f1.filter((x): x is number => x !== null);
  return {
    n: labels.length,
    war: labels.length ? correct / labels.length : 0,
    uar: present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0,
    recall,
    precision,
    f1,
    macroF1: f1Present.length ? f1Present.reduce((a, b) => a + b, 0) / f1Present.length : 0,
    confusion,
    absent,
    notes: absent.map((c) => `class ${c} has no ground-truth samples: its recall is undefined and it is left out of UAR and macro-F1`),
  };
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number;
  accuracy: number;
}

/** ECE with equal-width confidence bins: Σ_b (n_b/N)·|acc_b − conf_b|, and the bins themselves. */
export function calibration(probs: number[][], labels: ArrayLike<number>, bins = 15): { ece: number; bins: ReliabilityBin[] } {
  if (probs.length !== labels.length) throw new Error(`calibration: ${probs.length} probability rows but ${labels.length} labels`);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`calibration: bins must be a positive integer (got ${bins})`);
  const out: ReliabilityBin[] = Array.from({ length: bins }, (_, b) => ({ lower: b / bins, upper: (b + 1) / bins, count: 0, confidence: 0, accuracy: 0 }));
  probs.forEach((p, i) => {
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    const conf = p[best];
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(conf * bins) - 1));
    out[b].count++;
    out[b].confidence += conf;
    out[b].accuracy += best === labels[i] ? 1 : 0;
  });
  let ece = 0;
  for (const b of out) {
    if (b.count === 0) continue;
    b.confidence /= b.count;
    b.accuracy /= b.count;
    ece += (b.count / probs.length) * Math.abs(b.accuracy - b.confidence);
  }
  return { ece, bins: out };
}
