// The `ce` method: the classifier model and its cross-entropy objective (model.ts), its ONNX form
// (onnx.ts), and the compact FER2013 defaults (fer-cnn on 48x48 grey).
import type { MethodDef } from '../methods.js';
import { ClassifierModel, CrossEntropyObjective, crossEntropyOptions } from './model.js';
import { ceOnnx } from './onnx.js';

export const ceMethod: MethodDef = {
  kind: 'image',
  logitBiases: (model) => [[(model as ClassifierModel).fc.bias!, 1]],
  logitLayers: (model) => [(model as ClassifierModel).fc.weight, (model as ClassifierModel).fc.bias!],
  softTargets: true,
  defaults: {
    backbone: 'fer-cnn',
    methodOptions: { dropout: 0.3 },
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    trainAugment: 'fer-train',
    testAugment: 'fer-test',
  },
  createModel: (config, rng) => new ClassifierModel(config, rng),
  createObjective: (_model, options) => new CrossEntropyObjective(crossEntropyOptions(options)),
  onnx: ceOnnx,
};
