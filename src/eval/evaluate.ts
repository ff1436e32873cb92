// Scoring a model on a labelled dataset: every sample through the model (images, or clips with
// the test-time frame sampling), then WAR/UAR/per-class/F1/ECE over the classes the model knows.
// Samples of classes the model does not know are counted and left out, not mis-scored. The
// model is a FerModel (its own TF.js forward) or any ModelRunner (ONNX Runtime on model.onnx).
import { CANONICAL_CLASSES } from '../data/types.js';
import type { ClipSample, ImageSample } from '../data/types.js';
import { BatchBuilder } from '../data/batches.js';
import { loadSampleStore, withoutSkipped, type SkippedSample } from '../data/sample-store.js';
import { predictAll, scoreProbs, type PredictOptions, type Scorable } from './predict.js';
import type { ClassificationReport } from './metrics.js';

export interface EvaluateOptions extends Pick<PredictOptions, 'tta' | 'batchSize' | 'onProgress'> {
  /** Leave out samples that fail to decode (Evaluation.skipped) instead of stopping. */
  skipBad?: boolean;
}

export interface Evaluation {
  n: number;
  war: number;
  uar: number;
  ece: number;
  macroF1: number;
  classes: string[];
  report: ClassificationReport;
  /** Samples left out because the model has no such class, by class name. */
  unknown: Record<string, number>;
  /** Samples left out because they failed to decode (skipBad). */
  skipped: readonly SkippedSample[];
  probs: Float32Array;
  labels: Int32Array;
}

export async function evaluate(model: Scorable, items: readonly (ImageSample | ClipSample)[], o: EvaluateOptions = {}): Promise<Evaluation> {
  const classes = model.config.classes;
  const index = new Map(classes.map((c, i) => [c, i]));
  const unknown: Record<string, number> = {};
  const kept: (ImageSample | ClipSample)[] = [];
  const labels: number[] = [];
  for (const s of items) {
    const name = CANONICAL_CLASSES[s.label];
    const k = index.get(name);
    if (k === undefined) unknown[name] = (unknown[name] ?? 0) + 1;
    else {
      kept.push(s);
      labels.push(k);
    }
  }
  if (kept.length === 0) throw new Error(`none of the ${items.length} samples has a class the model knows (${classes.join(', ')})`);
  const store = await loadSampleStore(kept, model.config.input, { skipBad: o.skipBad });
  if (store.size === 0) throw new Error(`none of the ${kept.length} samples could be decoded`);
  const { probs } = await predictAll(model, new BatchBuilder(store, model.config.input), classes.length, o);
  const y = Int32Array.from(withoutSkipped(labels, store.skipped));
  const { report, ece } = scoreProbs(probs, y, classes.length);
  return { n: report.n, war: report.war, uar: report.uar, ece, macroF1: report.macroF1, classes, report, unknown, skipped: store.skipped, probs, labels: y };
}

/** The JSON `ferkit eval --json` prints. */
export function evaluationJson(e: Evaluation): Record<string, unknown> {
  const perClass: Record<string, unknown> = {};
  e.classes.forEach((c, i) => {
    const support = e.report.confusion[i].reduce((a, b) => a + b, 0);
    perClass[c] = { recall: e.report.recall[i], precision: e.report.precision[i], f1: e.report.f1[i], support };
  });
  return {
    n: e.n,
    war: e.war,
    uar: e.uar,
    per_class: perClass,
    macro_f1: e.macroF1,
    ece: e.ece,
    confusion: e.report.confusion,
    classes: e.classes,
    ...(Object.keys(e.unknown).length ? { left_out: e.unknown } : {}),
    ...(e.skipped.length ? { skipped: e.skipped.length } : {}),
  };
}
