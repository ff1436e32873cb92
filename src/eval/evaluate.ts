// Scoring a model on a labelled dataset: every sample through the model (images, or clips with
// the test-time frame sampling), then WAR/UAR/per-class/F1/ECE over the classes the model knows.
// Samples of classes the model does not know are counted and left out, not mis-scored. The
// model is a FerModel (its own TF.js forward) or any ModelRunner (ONNX Runtime on model.onnx).
import { tf } from '../engine/backend.js';
import { CANONICAL_CLASSES } from '../data/types.js';
import type { ClipSample, ImageSample } from '../data/types.js';
import type { FerModel } from '../models/model.js';
import type { ModelRunner } from '../infer/runner.js';
import { BatchBuilder } from '../train/batches.js';
import { loadSampleStore, withoutSkipped, type SkippedSample } from '../train/sample-store.js';
import { scoreProbs } from '../train/trainer.js';
import type { ClassificationReport } from './metrics.js';

export interface EvaluateOptions {
  /** Average with the horizontally flipped input. */
  tta?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
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

/** What evaluate scores: a model's TF.js forward, or a runner on another engine. */
export type Scorable = FerModel | ModelRunner;

const isRunner = (m: Scorable): m is ModelRunner => typeof (m as Partial<ModelRunner>).run === 'function';

/** Class probabilities of a model for every sample of a builder's store. */
export async function predictAll(model: Scorable, builder: BatchBuilder, numClasses: number, o: EvaluateOptions = {}): Promise<Float32Array> {
  const n = builder.size;
  const batch = o.batchSize ?? 128;
  const out = new Float32Array(n * numClasses);
  let run: (x: Float32Array, shape: number[]) => Float32Array | Promise<Float32Array>;
  if (isRunner(model)) run = async (x, shape) => (await model.run(x, shape)).probs;
  else {
    model.eval();
    run = (x, shape) =>
      tf.tidy(() => {
        const res = model.forward(tf.tensor(x, shape));
        return (res.probs ?? tf.softmax(res.logits)).dataSync() as Float32Array;
      });
  }
  for (let a = 0; a < n; a += batch) {
    const idx = Array.from({ length: Math.min(batch, n - a) }, (_, k) => a + k);
    const b = builder.build(idx);
    const p = Float32Array.from(await run(b.x, b.shape));
    if (o.tta) {
      const f = builder.build(idx, undefined, true);
      const q = await run(f.x, f.shape);
      for (let i = 0; i < p.length; i++) p[i] = (p[i] + q[i]) / 2;
    }
    out.set(p, a * numClasses);
    o.onProgress?.(a + idx.length, n);
  }
  return out;
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
  const probs = await predictAll(model, new BatchBuilder(store, model.config.input), classes.length, o);
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
