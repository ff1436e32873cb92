// The `patternmap` method: EFE/EMR/EPMG on a registered backbone (default the compact fer-cnn at
// width 0.5, the bundled model's trunk). Input 56x56 grey: FER2013's 48x48 faces upsampled so the
// trunk's grid is the spec's 7x7 (three 2x pools: 56→7), i.e. a 49-step mask sequence and the
// seed's 4x4 encoder convs (7→4→1); at 48x48 the grid would be 6x6.
// `ferkit train --method patternmap` runs the three-phase epoch (phases.ts). The objective below is
// the single-objective form: every term at once, no freezing.
import { tf } from '../../engine/backend.js';
import { crossEntropy } from '../../losses/ce.js';
import type { MethodDef, Objective, TrainBatch } from '../methods.js';
import { mergedOptions } from '../method-options.js';
import type { FerModel } from '../model.js';
import { emrLoss, epmgLoss, greyTarget, lossWeights, type PatternMapLossWeights } from './losses.js';
import { PatternMapModel } from './model.js';
import { patternMapPhases } from './phases.js';
import { patternMapOnnx } from './onnx.js';

/** L_EFE + L_EMR + L_EPMG in one step (gradients reach every module). */
class JointPatternMapObjective implements Objective {
  constructor(private readonly w: PatternMapLossWeights) {}
  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    const m = model as PatternMapModel;
    const labels = batch.y.dataSync() as Int32Array;
    return tf.tidy(() => {
      const efe = m.efe(batch.x);
      batch.onScores?.(efe.efeLogits);
      const l = emrLoss(m, batch.x, Int32Array.from(labels), this.w);
      const epmg = epmgLoss(m, efe.gms, greyTarget(batch.x as tf.Tensor4D, m.config.input), Int32Array.from(labels), this.w);
      return tf.addN([crossEntropy(efe.efeLogits, batch.y), l, epmg]) as tf.Scalar;
    });
  }
}

export const patternMapMethod: MethodDef = {
  kind: 'image',
  defaults: {
    backbone: 'fer-cnn',
    backboneOptions: { widthMultiplier: 0.5 },
    methodOptions: {},
    input: { kind: 'image', size: [56, 56], channels: 1, mean: [0.5], std: [0.25] },
    trainAugment: 'fer-train',
    testAugment: 'fer-test',
  },
  createModel: (config, rng) => new PatternMapModel(config, rng),
  createObjective: (model, options) => new JointPatternMapObjective(lossWeights(mergedOptions(model.config.methodOptions, options))),
  onnx: patternMapOnnx,
  phased: patternMapPhases,
};
