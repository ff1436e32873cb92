// ARBEx training objective (spec §3.2, §3.6c): λ_cls·NLL_w(log p_final) + t·λ_anchor·L_anchor +
// t·λ_center·L_center, with the trust t ramping linearly from 0 to 1 over `trustSteps` calls (the
// reference ramps over its whole run: t = it/num_iters). The step count is the state to resume.
import { tf } from '../../engine/backend.js';
import { anchorLoss, centerLoss, classWeights, weightedNll } from '../../losses/arbex.js';
import type { FerModel } from '../model.js';
import type { Objective, TrainBatch } from '../methods.js';
import { choiceOption, numberListOption, numberOption, type Options } from '../method-options.js';
import { ArbexModel } from './model.js';

export interface ArbexObjectiveOptions {
  lambdaCls: number;
  lambdaAnchor: number;
  lambdaCenter: number;
  /** Steps over which the trust ramps from 0 to 1. */
  trustSteps: number;
  /** A constant trust instead of the ramp. */
  trust?: number;
  /** Training-set class counts for the inverse-frequency NLL weights; absent: all weights 1. */
  classCounts?: number[];
  /** 'graph' (reference): the center loss's weight c_i is differentiated, which rewards a flat
   *  head far from the anchors; 'detached' treats it as a constant. */
  centerConfidence: 'graph' | 'detached';
}

export function arbexObjectiveOptions(o: Options): ArbexObjectiveOptions {
  const nonNegative = (v: number) => v >= 0;
  return {
    lambdaCls: numberOption(o, 'lambdaCls', 1, nonNegative, '≥ 0'),
    lambdaAnchor: numberOption(o, 'lambdaAnchor', 1, nonNegative, '≥ 0'),
    lambdaCenter: numberOption(o, 'lambdaCenter', 1, nonNegative, '≥ 0'),
    trustSteps: numberOption(o, 'trustSteps', 2000, (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
    trust: o.trust === undefined ? undefined : numberOption(o, 'trust', 0, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
    classCounts: numberListOption(o, 'classCounts', undefined),
    centerConfidence: choiceOption(o, 'centerConfidence', 'graph', ['graph', 'detached'] as const),
  };
}

export class ArbexObjective implements Objective {
  private step = 0;
  private readonly weights?: number[];

  constructor(readonly options: ArbexObjectiveOptions) {
    if (options.classCounts) this.weights = classWeights(options.classCounts);
  }

  /** Trust of the next loss() call. */
  get trust(): number {
    return this.options.trust ?? Math.min(1, this.step / this.options.trustSteps);
  }

  loss(model: FerModel, batch: TrainBatch): tf.Scalar {
    if (!(model instanceof ArbexModel)) throw new Error(`the arbex objective needs an arbex model, got method "${model.config.method}"`);
    const o = this.options;
    const t = this.trust;
    this.step++;
    return tf.tidy(() => {
      const parts = model.balance(batch.x, t);
      batch.onScores?.(parts.final);
      const classes = model.config.classes.length;
      const w = this.weights ?? new Array<number>(classes).fill(1);
      if (w.length !== classes) throw new Error(`classCounts has ${w.length} entries for ${classes} classes`);
      let total = tf.mul(weightedNll(parts.final, batch.y, w), o.lambdaCls);
      if (t > 0) {
        const anchors = tf.mul(anchorLoss(model.anchors as tf.Tensor3D), t * o.lambdaAnchor);
        // A fresh tensor from the values carries no gradient back to the head.
        const c = o.centerConfidence === 'detached' ? tf.tensor1d(parts.c.dataSync()) : parts.c;
        const center = tf.mul(centerLoss(parts.distances, batch.y, c, model.embeddingDim), t * o.lambdaCenter);
        total = tf.add(total, tf.add(anchors, center));
      }
      return total as tf.Scalar;
    });
  }

  state(): Record<string, unknown> {
    return { step: this.step };
  }

  loadState(state: Record<string, unknown>): void {
    const s = state.step ?? 0;
    if (!Number.isInteger(s) || (s as number) < 0) throw new Error(`arbex objective state: step must be a non-negative integer, got ${JSON.stringify(s)}`);
    this.step = s as number;
  }
}
