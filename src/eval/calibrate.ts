// Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): the
// probabilities softmax(z / T) with one T > 0 fitted on held-out faces by their negative
// log-likelihood. Predictions (argmax) do not change; the confidences do: T > 1 softens an
// overconfident model. For a linear classifier, z / T is its weight and bias divided by T, so the
// calibrated model is an ordinary model (same graph, same ONNX export, same cost).
import { tf } from '../engine/backend.js';
import { methods } from '../models/methods.js';
import type { FerModel } from '../models/model.js';
import { calibration } from './metrics.js';

export interface TemperatureScore {
  temperature: number;
  /** Mean negative log-likelihood of the true class (what T is chosen by). */
  nll: number;
  /** Expected calibration error, 15 bins. */
  ece: number;
}

/** T from 0.5 to 3 (0.05 steps to 1.5, then 0.1). */
const TEMPERATURES = [...Array.from({ length: 21 }, (_, i) => 0.5 + i * 0.05), ...Array.from({ length: 15 }, (_, i) => 1.6 + i * 0.1)].map((t) => Math.round(t * 100) / 100);

/** softmax(log p / T) per row: the model's probabilities as they would be at temperature T
 *  (log p is the logits up to a per-row constant, which softmax ignores). `probs` [n × C]. */
export function atTemperature(probs: Float32Array, numClasses: number, temperature: number): number[][] {
  const n = probs.length / numClasses;
  return Array.from({ length: n }, (_, i) => {
    const z = Array.from({ length: numClasses }, (_, k) => Math.log(Math.max(probs[i * numClasses + k]!, 1e-30)) / temperature);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** NLL and ECE of the probabilities at each temperature of the grid. */
export function scoreTemperatures(probs: Float32Array, labels: Int32Array, numClasses: number, temperatures: readonly number[] = TEMPERATURES): TemperatureScore[] {
  return temperatures.map((temperature) => {
    const p = atTemperature(probs, numClasses, temperature);
    const nll = -p.reduce((a, row, i) => a + Math.log(Math.max(row[labels[i]!]!, 1e-30)), 0) / p.length;
    return { temperature, nll, ece: calibration(p, labels).ece };
  });
}

/** The temperature with the lowest NLL (the one nearest 1 on ties: the least change). */
export function chooseTemperature(scores: readonly TemperatureScore[]): TemperatureScore {
  return scores.reduce((a, b) => (b.nll < a.nll - 1e-12 || (Math.abs(b.nll - a.nll) <= 1e-12 && Math.abs(b.temperature - 1) < Math.abs(a.temperature - 1)) ? b : a));
}

/** Divides the model's logits by T (in place: its linear classifiers' weights and biases) and
 *  records it in config.info.temperature. */
export function scaleLogits(model: FerModel, temperature: number, chosenOn?: string): void {
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`temperature must be a number > 0, got ${temperature}`);
  const done = model.config.info?.temperature as { temperature: number } | undefined;
  if (done) throw new Error(`this model is already temperature-scaled (T = ${done.temperature}); calibrate the model it came from`);
  const layers = methods.get(model.config.method).create.logitLayers?.(model);
  if (!layers?.length) throw new Error(`method ${model.config.method} has no linear classifier whose scale sets its logits' scale; temperature scaling works on ce models and their ensembles`);
  tf.tidy(() => {
    for (const v of layers) v.assign(tf.div(v, temperature));
  });
  const record = { temperature, ...(chosenOn ? { chosenOn } : {}) };
  // An ensemble's members carry it too: one taken out (DIR#N) says that its logits were scaled.
  const members = model.config.info?.ensemble as { info?: Record<string, unknown> }[] | undefined;
  const ensemble = Array.isArray(members) ? { ensemble: members.map((m) => ({ ...m, info: { ...m.info, temperature: { ...record, asMemberOf: 'the ensemble' } } })) } : {};
  model.config.info = { ...model.config.info, ...ensemble, temperature: record };
}
