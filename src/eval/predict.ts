// The one scoring loop: every sample of a batch source through a model, batch by batch, as class
// probabilities (softmax of the logits unless the method gives its own: `outputProbs`), averaged
// with the mirrored input under TTA, optionally with the embeddings. The trainer's validation (on
// its replicas), eval, cross-validation and the report all score through it.
import { tf } from '../engine/backend.js';
import type { BatchSource } from '../data/batches.js';
import { outputProbs } from '../models/methods.js';
import type { FerModel, ModelOutput } from '../models/model.js';
import type { ModelRunner } from '../infer/runner.js';
import { calibration, classificationReport, type ClassificationReport } from './metrics.js';

/** Probabilities [N × C] of a batch from elsewhere: a training run's replicas. */
type BatchScorer = (x: Float32Array, shape: number[]) => Promise<Float32Array>;

/** A model's TF.js forward, or a runner on another engine (ONNX Runtime on model.onnx). */
export type Scorable = FerModel | ModelRunner;

export interface PredictOptions {
  /** Average with the horizontally flipped input. */
  tta?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Keep the embeddings too (models and runners that give them). */
  embeddings?: boolean;
  /** FerModel only: each batch's samples, inputs and outputs, before the outputs are freed. */
  onBatch?: (idx: number[], x: Float32Array, out: ModelOutput) => void;
}

interface Predictions {
  /** [N × C] row-major. */
  probs: Float32Array;
  embedding?: { dim: number; values: Float32Array };
}

interface Scored {
  probs: Float32Array;
  embedding?: Float32Array;
  dim?: number;
}

const isRunner = (m: Scorable | BatchScorer): m is ModelRunner => typeof (m as Partial<ModelRunner>).run === 'function';

function scorer(model: Scorable | BatchScorer, o: PredictOptions): (x: Float32Array, shape: number[], idx?: number[]) => Promise<Scored> {
  if (typeof model === 'function') return async (x, shape) => ({ probs: await model(x, shape) });
  if (isRunner(model)) {
    return async (x, shape) => {
      const r = await model.run(x, shape);
      return { probs: r.probs, embedding: r.embedding, dim: r.embeddingDim };
    };
  }
  model.eval();
  return async (x, shape, idx) =>
    tf.tidy(() => {
      const out = model.forward(tf.tensor(x, shape));
      if (idx) o.onBatch?.(idx, x, out);
      const embedding = o.embeddings && out.embedding ? Float32Array.from(out.embedding.dataSync() as Float32Array) : undefined;
      return { probs: Float32Array.from(outputProbs(out, tf).dataSync() as Float32Array), embedding, dim: out.embedding?.shape[1] };
    });
}

/** Class probabilities (and embeddings when asked) of a model for every sample of a source. */
export async function predictAll(model: Scorable | BatchScorer, source: BatchSource, numClasses: number, o: PredictOptions = {}): Promise<Predictions> {
  const n = source.size;
  const batch = o.batchSize ?? 128;
  const run = scorer(model, o);
  const probs = new Float32Array(n * numClasses);
  let embedding: Predictions['embedding'];
  for (let a = 0; a < n; a += batch) {
    const idx = Array.from({ length: Math.min(batch, n - a) }, (_, k) => a + k);
    const b = source.build(idx);
    const s = await run(b.x, b.shape, idx);
    const p = Float32Array.from(s.probs);
    if (o.tta) {
      const f = source.build(idx, undefined, true);
      const q = (await run(f.x, f.shape)).probs;
      for (let i = 0; i < p.length; i++) p[i] = (p[i] + q[i]) / 2;
    }
    probs.set(p, a * numClasses);
    if (o.embeddings && s.embedding && s.dim) {
      embedding ??= { dim: s.dim, values: new Float32Array(n * s.dim) };
      embedding.values.set(s.embedding, a * s.dim);
    }
    o.onProgress?.(a + idx.length, n);
  }
  return { probs, ...(embedding ? { embedding } : {}) };
}

/** WAR/UAR/per-class report and ECE of probabilities against labels. */
export function scoreProbs(probs: Float32Array, labels: Int32Array, numClasses: number): { report: ClassificationReport; ece: number } {
  const n = labels.length;
  const preds = new Int32Array(n);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(probs.subarray(i * numClasses, (i + 1) * numClasses));
    rows.push(row);
    preds[i] = row.indexOf(Math.max(...row));
  }
  return { report: classificationReport(labels, preds, numClasses), ece: calibration(rows, labels).ece };
}
