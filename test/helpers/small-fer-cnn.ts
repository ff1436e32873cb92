// A small fer-cnn classifier (16x16 grey input, chosen stage widths) with scrambled BatchNorm
// statistics, so that folding and export tests see BN doing real work, not the identity.
import { createModel } from '../../src/models/io.js';
import type { FerModel, ModelConfig } from '../../src/models/model.js';
import { manualSeed } from '../../src/nn/random.js';
import { scrambleBatchNorms } from './batch-norms.js';

const SMALL_CLASSES = ['angry', 'happy', 'sad', 'neutral', 'surprise'];

/** fer-cnn with `stages` conv widths, weights from `seed`, in eval mode; `over` replaces config fields. */
export function smallFerCnn(stages: number[][], seed: number, over: Partial<ModelConfig> = {}): FerModel {
  const config: ModelConfig = {
    format: 'ferkit-model',
    version: 1,
    method: 'ce',
    backbone: 'fer-cnn',
    backboneOptions: { stages },
    methodOptions: { dropout: 0.3 },
    input: { kind: 'image', size: [16, 16], channels: 1, mean: [0.5], std: [0.25] },
    classes: SMALL_CLASSES,
    ...over,
  };
  const m = createModel(config, manualSeed(seed));
  scrambleBatchNorms(m, seed * 100);
  return m.eval();
}
