// Weight averaging: models of one architecture merged into one whose every weight (and BatchNorm
// statistic) is the weighted mean of theirs. With a fine-tuned model and the pretrained weights
// it started from, this is WiSE-FT (Wortsman et al., CVPR 2022): interpolating between the two
// keeps much of what the pretrained model knew about faces unlike the fine-tuning data, at one
// model's cost. Several fine-tuned runs from one start make a "model soup".
import { tf } from '../../engine/backend.js';
import { createModel } from '../io.js';
import type { FerModel, ModelConfig } from '../model.js';
import { checkSameInputAndClasses, relativeWeights } from './build.js';

export interface AverageOptions {
  /** Relative weight of each model (default: equal). */
  weights?: number[];
  /** Where each model came from, for errors and provenance. */
  names?: string[];
}

/** The architecture part of a config: what must agree for weights to be averaged. */
const architecture = ({ method, backbone, backboneOptions, methodOptions, input, classes }: ModelConfig) =>
  JSON.stringify({ method, backbone, backboneOptions, methodOptions, input, classes });

export function averageWeights(models: readonly FerModel[], options: AverageOptions = {}): FerModel {
  const names = options.names ?? models.map((_, i) => `model ${i + 1}`);
  if (models.length < 2) throw new Error(`weight averaging needs at least two models, got ${models.length}`);
  const weights = relativeWeights(options.weights, models.length);
  checkSameInputAndClasses(models, names);
  const first = models[0]!.config;
  models.forEach((m, i) => {
    if (m.config.method === 'ensemble') throw new Error(`${names[i]}: is an ensemble; average its members' weights instead`);
    if (architecture(m.config) !== architecture(first)) throw new Error(`${names[i]}: architecture (method, backbone, options) differs from ${names[0]}'s; only one architecture's weights average`);
  });
  const config: ModelConfig = {
    ...first,
    info: {
      description: `weight average of ${models.length} models of one architecture (${first.method} on ${first.backbone}): every weight and BatchNorm statistic is the weighted mean of theirs`,
      averaged: models.map((m, i) => ({ source: names[i], weight: weights[i], info: m.config.info })),
    },
  };
  const out = createModel(config);
  const dicts = models.map((m) => m.stateDict());
  const mean: Record<string, tf.Tensor> = {};
  for (const key of Object.keys(dicts[0]!)) {
    const ts = dicts.map((d, i) => {
      const t = d[key];
      if (!t) throw new Error(`${names[i]}: has no weight ${key}`);
      return t;
    });
    // Integer buffers (counters) are taken from the first model.
    mean[key] = ts[0]!.dtype === 'float32' ? tf.tidy(() => tf.addN(ts.map((t, i) => tf.mul(t, weights[i]!)))) : tf.clone(ts[0]!);
  }
  out.loadStateDict(mean, { source: 'weight average' });
  tf.dispose(Object.values(mean));
  return out;
}
