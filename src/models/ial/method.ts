// The `ial` method: the IAL + GCA clip model with its objective. Defaults are the reference's full
// size (16 frames of 112x112 RGB in [0,1], no normalisation, §1.3); IAL_SMALL is the compact
// configuration used on CK+48 (3-frame 48x48 grey sequences), also reachable from the CLI with
// `--frames 3 --size 48 --channels 1 --width 0.25 --method-options '<IAL_SMALL.methodOptions>'`.
import { mergedOptions } from '../method-options.js';
import type { MethodDef, MethodDefaults } from '../methods.js';
import { IAL_BACKBONE, IalModel } from './model.js';
import { IalObjective, ialObjectiveOptions } from './objective.js';
import { ialOnnx } from './onnx.js';

export const ialMethod: MethodDef = {
  kind: 'clip',
  defaults: {
    backbone: IAL_BACKBONE,
    // layers (blocks in layer1-3 and the dynamic path) default to the reference's [1, 1, 1, 3];
    // give them in methodOptions from the CLI (--method-options '{"layers":[1,1,1,1]}').
    backboneOptions: { widthMultiplier: 1 },
    // attentionStages defaults to the encoder's last two stages ([2, 3] of the own trunk).
    methodOptions: { variant: 'ial', attention: 'gca', lambda: 0.1, auxWeights: [0.05, 0] },
    input: { kind: 'clip', size: [112, 112], channels: 3, frames: 16, mean: [0, 0, 0], std: [1, 1, 1] },
    trainAugment: 'ial-train',
    testAugment: 'ial-test',
  },
  createModel: (config, rng) => new IalModel(config, rng),
  createObjective: (model, options) => new IalObjective(ialObjectiveOptions(mergedOptions(model.config.methodOptions, options))),
  onnx: ialOnnx,
};

/** Compact CK+48 setting: 3 frames (2 frame-difference tokens) of 48x48 grey, widths 16/32/64,
 *  GCA reduction 8 (so layer2's bottleneck keeps 4 channels), one block per stage and in the
 *  dynamic path, transformers of 2 heads x 16 over 256-d temporal tokens (64 ch x 2x2). */
export const IAL_SMALL: MethodDefaults = {
  ...ialMethod.defaults,
  backboneOptions: { widthMultiplier: 0.25, layers: [1, 1, 1, 1] },
  methodOptions: {
    ...ialMethod.defaults.methodOptions,
    reduction: 8,
    spatialDepth: 1,
    spatialHeads: 2,
    spatialDimHead: 16,
    spatialMlp: 64,
    temporalDepth: 1,
    temporalHeads: 2,
    temporalDimHead: 16,
    temporalMlp: 128,
  },
  input: { kind: 'clip', size: [48, 48], channels: 1, frames: 3, mean: [0], std: [1] },
  trainAugment: 'ial-train',
  testAugment: 'ial-test',
};
