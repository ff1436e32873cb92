// One pass of a model over a labelled set, keeping what a report draws: probabilities, the
// embedding, method outputs (ARBEx confidences and head distribution, GCA weights) and, for a few
// faces per class, the input and its masks/maps, plus per-class sums of masks and pattern maps.
import type { tf } from '../engine/backend.js';
import type { BatchBuilder } from '../data/batches.js';
import { predictAll } from '../eval/predict.js';
import type { FerModel, ModelOutput } from '../models/model.js';

interface Example {
  index: number;
  label: number;
  /** The grey input face in [0,1] (channel mean for RGB), input size. */
  face: Float32Array;
  mask?: Float32Array;
  patternMap?: Float32Array;
}

export interface Collected {
  n: number;
  numClasses: number;
  probs: Float32Array;
  labels: Int32Array;
  embedding?: { dim: number; values: Float32Array };
  confidence?: Float32Array;
  /** ARBEx: the MLP head's (primary) distribution before correction. */
  primaryProbs?: Float32Array;
  primaryConfidence?: Float32Array;
  /** extras.gcaWeights, summed over samples (shape of one sample's weights). */
  gca?: { shape: number[]; sum: Float64Array; count: number };
  maskShape?: [number, number];
  mapShape?: [number, number];
  /** Per-class sums of refined masks / pattern maps and counts. */
  classMaskSum?: Float64Array[];
  /** Per-class sums of the raw (unrefined) masks M, where the model gives them. */
  classRawMaskSum?: Float64Array[];
  classMapSum?: Float64Array[];
  classCount: number[];
  examples: Example[];
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function collect(model: FerModel, builder: BatchBuilder, labels: Int32Array, examplesPerClass = 4, batch = 64): Promise<Collected> {
  const k = model.config.classes.length;
  const n = builder.size;
  const input = model.config.input;
  const [H, W] = input.size;
  const acc: Record<string, Float32Array[]> = { confidence: [], primary: [], primaryConf: [] };
  const res: Collected = { n, numClasses: k, probs: new Float32Array(0), labels, classCount: new Array(k).fill(0), examples: [] };
  for (const l of labels) res.classCount[l]++;
  const chosen = new Set<number>();
  const per = new Array(k).fill(0);
  labels.forEach((l, i) => {
    if (per[l] < examplesPerClass) {
      per[l]++;
      chosen.add(i);
    }
  });
  // Called inside predictAll's tidy: what is read here is copied out before the outputs are freed.
  const onBatch = (idx: number[], x: Float32Array, out: ModelOutput) => {
    const ex = out.extras ?? {};
    const grab = (t?: tf.Tensor) => (t ? (t.dataSync() as Float32Array).slice() : undefined);
    const got = { confidence: grab(out.confidence), primary: grab(ex.headProbs), primaryConf: grab(ex.headConfidence), gca: grab(ex.gcaWeights), mask: grab(ex.mask), rawMask: grab(ex.rawMask), map: grab(ex.patternMap) };
    if (got.confidence) acc.confidence.push(got.confidence);
    if (got.primary) acc.primary.push(got.primary);
    if (got.primaryConf) acc.primaryConf.push(got.primaryConf);
    const m = idx.length;
    if (got.gca) {
      const one = got.gca.length / m;
      res.gca ??= { shape: ex.gcaWeights!.shape.slice(1), sum: new Float64Array(one), count: 0 };
      for (let i = 0; i < got.gca.length; i++) res.gca.sum[i % one] += got.gca[i];
      res.gca.count += m;
    }
    const maskLen = got.mask ? got.mask.length / m : 0;
    const mapLen = got.map ? got.map.length / m : 0;
    if (got.mask) {
      res.maskShape = [ex.mask!.shape[1]!, ex.mask!.shape[2]!];
      res.classMaskSum ??= Array.from({ length: k }, () => new Float64Array(maskLen));
      if (got.rawMask?.length === got.mask.length) res.classRawMaskSum ??= Array.from({ length: k }, () => new Float64Array(maskLen));
    }
    if (got.map) {
      res.mapShape = [ex.patternMap!.shape[1]!, ex.patternMap!.shape[2]!];
      res.classMapSum ??= Array.from({ length: k }, () => new Float64Array(mapLen));
    }
    idx.forEach((s, r) => {
      const l = labels[s];
      if (got.mask) for (let i = 0; i < maskLen; i++) res.classMaskSum![l][i] += got.mask[r * maskLen + i];
      if (got.rawMask && res.classRawMaskSum) for (let i = 0; i < maskLen; i++) res.classRawMaskSum[l][i] += got.rawMask[r * maskLen + i];
      if (got.map) for (let i = 0; i < mapLen; i++) res.classMapSum![l][i] += got.map[r * mapLen + i];
      if (!chosen.has(s)) return;
      const face = new Float32Array(H * W);
      const c = input.channels;
      for (let p = 0; p < H * W; p++) {
        let v = 0;
        for (let ch = 0; ch < c; ch++) v += x[(r * H * W + p) * c + ch] * input.std[ch] + input.mean[ch];
        face[p] = Math.min(1, Math.max(0, v / c));
      }
      res.examples.push({
        index: s,
        label: l,
        face,
        mask: got.mask?.slice(r * maskLen, (r + 1) * maskLen),
        patternMap: got.map?.slice(r * mapLen, (r + 1) * mapLen),
      });
    });
  };
  const { probs, embedding } = await predictAll(model, builder, k, { batchSize: batch, embeddings: true, onBatch });
  res.probs = probs;
  if (embedding) res.embedding = embedding;
  if (acc.confidence.length) res.confidence = concat(acc.confidence);
  if (acc.primary.length) res.primaryProbs = concat(acc.primary);
  if (acc.primaryConf.length) res.primaryConfidence = concat(acc.primaryConf);
  return res;
}
