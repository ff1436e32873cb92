// Learning rate as a function of training progress, evaluated every step (the replicas receive
// the lr with each step). Epoch-based PyTorch schedules (StepLR, ExponentialLR) change at epoch
// boundaries as theirs do; cosine is per step with an optional linear warm-up.
import { Registry } from '../registry.js';

export interface LrScheduleOptions {
  base: number;
  /** Total epochs of the run. */
  epochs: number;
  warmupEpochs?: number;
  stepSize?: number;
  gamma?: number;
  minLr?: number;
}

/** (epochs done, fractional) → lr. */
export type LrSchedule = (epoch: number) => number;

export const lrSchedules = new Registry<(o: LrScheduleOptions) => LrSchedule>('lr schedule');

function warm(o: LrScheduleOptions, f: LrSchedule): LrSchedule {
  const w = o.warmupEpochs ?? 0;
  return (e) => (w > 0 && e < w ? (o.base * (e + 1e-3)) / w : f(e));
}

lrSchedules
  .register({ name: 'constant', description: 'constant lr', create: (o) => warm(o, () => o.base) })
  .register({
    name: 'step',
    description: 'StepLR: × gamma every stepSize epochs',
    create: (o) => warm(o, (e) => o.base * (o.gamma ?? 0.1) ** Math.floor(e / (o.stepSize ?? 10))),
  })
  .register({ name: 'exponential', description: 'ExponentialLR: × gamma every epoch', create: (o) => warm(o, (e) => o.base * (o.gamma ?? 0.9) ** Math.floor(e)) })
  .register({
    name: 'cosine',
    description: 'cosine decay per step from lr to minLr over the run (after the warm-up)',
    create: (o) => {
      const w = o.warmupEpochs ?? 0;
      const min = o.minLr ?? 0;
      return warm(o, (e) => min + ((o.base - min) * (1 + Math.cos((Math.PI * Math.min(1, (e - w) / Math.max(1e-9, o.epochs - w)))))) / 2);
    },
  });
