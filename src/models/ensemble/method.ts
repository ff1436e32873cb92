// The `ensemble` method: EnsembleModel (model.ts) and its ONNX form (onnx.ts); built by
// `ferkit ensemble`, never trained as a whole.
import type { tf } from '../../engine/backend.js';
import { methods, type MethodDef } from '../methods.js';
import { EnsembleModel } from './model.js';
import { ensembleOnnx } from './onnx.js';

export const ensembleMethod: MethodDef = {
  kind: 'image',
  defaults: {
    backbone: 'members',
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    trainAugment: 'fer-train',
    testAugment: 'fer-test',
  },
  createModel: (config, rng) => new EnsembleModel(config, rng),
  // Logits are Σ wᵢ·(member i's logits), both views moved alike: member biases move them by wᵢ.
  logitBiases: (model) => {
    const e = model as EnsembleModel;
    return [...e.members].flatMap((m, i) => {
      const own = methods.get(m.config.method).create.logitBiases;
      if (!own) throw new Error(`ensemble member ${i + 1} (${m.config.method}) has no classifier bias that shifts its logits one to one`);
      return own(m).map(([v, move]): [tf.Variable, number] => [v, move * e.weights[i]!]);
    });
  },
  // Logits are linear in every member's logits: scaling each member's scales the mean.
  logitLayers: (model) =>
    [...(model as EnsembleModel).members].flatMap((m, i) => {
      const own = methods.get(m.config.method).create.logitLayers;
      if (!own) throw new Error(`ensemble member ${i + 1} (${m.config.method}) has no linear classifier whose scale sets its logits' scale`);
      return own(m);
    }),
  onnx: ensembleOnnx,
  createObjective: () => {
    throw new Error('an ensemble is not trained as a whole: train its members, then run `ferkit ensemble --model A --model B --out DIR`');
  },
};
