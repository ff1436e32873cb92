// The IAL objective (spec §1.9): L = CE(z, y) + Σ_k a_k·CE(aux_k, y) + λ·IAL(z, y), with the aux
// weights in stage order (reference: 0.05 for layer2, 0 for layer3) and λ = 0.1 (the code's value;
// its comment says 0.5). `ial: false` is the ablation without the intensity-aware term.
import { tf } from '../../engine/backend.js';
import { ialTotalLoss, IAL_DEFAULTS, type IalLossOptions } from '../../losses/ial.js';
import { booleanOption, numberListOption, numberOption, type Options } from '../method-options.js';
import type { FerModel, ModelOutput } from '../model.js';
import type { Objective, TrainBatch } from '../methods.js';

export function ialObjectiveOptions(o: Options): IalLossOptions {
  const on = booleanOption(o, 'ial', true);
  const lambda = numberOption(o, 'lambda', IAL_DEFAULTS.lambda, (v) => v >= 0, 'a number ≥ 0');
  const auxWeights = numberListOption(o, 'auxWeights', IAL_DEFAULTS.auxWeights)!;
  if (auxWeights.some((w) => w < 0)) throw new Error(`option auxWeights must be numbers ≥ 0, got ${JSON.stringify(auxWeights)}`);
  return { lambda: on ? lambda : 0, auxWeights };
}

/** The aux logits of an output in stage order (extras aux1..aux3). */
function auxLogits(out: ModelOutput): tf.Tensor2D[] {
  return Object.keys(out.extras ?? {})
    .filter((k) => /^aux\d$/.test(k))
    .sort()
    .map((k) => out.extras![k] as tf.Tensor2D);
}

export class IalObjective implements Objective {
  constructor(readonly options: IalLossOptions = IAL_DEFAULTS) {}

  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    return tf.tidy(() => {
      const out = model.forward(batch.x);
      batch.onScores?.(out.logits);
      return ialTotalLoss(out.logits, batch.y, auxLogits(out), this.options);
    });
  }
}
