// The `scn` method: defaults for the compact FER2013 setting (fer-cnn on 48x48 grey, as the CE
// baseline) with the reference's SCN hyper-parameters; objective options override methodOptions.
import type { MethodDef } from '../methods.js';
import { mergedOptions } from '../method-options.js';
import { ScnModel } from './model.js';
import { ScnObjective, scnObjectiveOptions } from './objective.js';
import { scnOnnx } from './onnx.js';

export const scnMethod: MethodDef = {
  kind: 'image',
  defaults: {
    backbone: 'fer-cnn',
    // δ1 0.07: the reference README's advice for batch 64 (0.15 is for batch 1024).
    methodOptions: { dropout: 0.3, beta: 0.7, margin1: 0.07, margin2: 0.2, relabelEpoch: 10, relabelMode: 'all' },
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    trainAugment: 'fer-train',
    testAugment: 'fer-test',
  },
  createModel: (config, rng) => new ScnModel(config, rng),
  createObjective: (model, options) => new ScnObjective(scnObjectiveOptions(mergedOptions(model.config.methodOptions, options))),
  onnx: scnOnnx,
};
