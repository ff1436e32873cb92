// Learning-rate schedules as in torch.optim.lr_scheduler: call step() once per epoch (or per
// iteration, as the trainer decides); each sets every parameter group's lr from its initial lr.
import { Registry } from '../registry.js';
import type { Optimizer } from './optim.js';

export abstract class LrScheduler {
  lastEpoch = 0;

  constructor(readonly optimizer: Optimizer) {}

  /** lr of a group with initial lr `base` after `epoch` steps. */
  protected abstract lrAt(base: number, epoch: number): number;

  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  getLr(): number[] {
    return this.optimizer.getLr();
  }

  /** Sets the epoch-0 lr; subclasses call it at the end of their constructor (their fields are
   *  not set yet while the base constructor runs). */
  protected apply(): void {
    this.optimizer.setLr(this.optimizer.paramGroups.map((g) => this.lrAt(g.initialLr, this.lastEpoch)));
  }

  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }

  loadStateDict(state: { lastEpoch: number }): void {
    if (!Number.isInteger(state?.lastEpoch) || state.lastEpoch < 0) throw new Error(`scheduler state: invalid lastEpoch ${JSON.stringify(state)}`);
    this.lastEpoch = state.lastEpoch;
    this.apply();
  }
}

/** lr = base · γ^⌊epoch / stepSize⌋. */
export class StepLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!(stepSize >= 1)) throw new Error(`StepLR: stepSize must be ≥ 1, got ${stepSize}`);
    this.apply();
  }

  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = base · γ^(number of milestones ≤ epoch). */
export class MultiStepLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly milestones: number[],
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    this.apply();
  }

  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** this.milestones.filter((m) => m <= epoch).length;
  }
}

/** lr = base · γ^epoch. */
export class ExponentialLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly gamma: number,
  ) {
    super(optimizer);
    this.apply();
  }

  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** epoch;
  }
}

/** lr = ηmin + (base − ηmin)(1 + cos(π·epoch/Tmax))/2 (the closed form of CosineAnnealingLR). */
export class CosineAnnealingLR extends LrScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    this.apply();
  }

  protected lrAt(base: number, epoch: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface SchedulerOptions {
  stepSize?: number;
  gamma?: number;
  milestones?: number[];
  tMax?: number;
  etaMin?: number;
}

const need = (name: string, v: number | undefined, what: string): number => {
  if (v === undefined) throw new Error(`scheduler ${name} needs ${what}`);
  return v;
};

/** Schedules by name (`--schedule step`). */
export const schedulers = new Registry<(optimizer: Optimizer, options: SchedulerOptions) => LrScheduler>('lr scheduler');
schedulers
  .register({ name: 'step', description: 'StepLR: × gamma every stepSize epochs', create: (o, s) => new StepLR(o, need('step', s.stepSize, 'stepSize'), s.gamma) })
  .register({ name: 'multistep', description: 'MultiStepLR: × gamma at each milestone', create: (o, s) => new MultiStepLR(o, s.milestones ?? [], s.gamma) })
  .register({ name: 'exponential', description: 'ExponentialLR: × gamma every epoch', create: (o, s) => new ExponentialLR(o, need('exponential', s.gamma, 'gamma')) })
  .register({ name: 'cosine', description: 'CosineAnnealingLR to etaMin over tMax epochs', create: (o, s) => new CosineAnnealingLR(o, need('cosine', s.tMax, 'tMax'), s.etaMin) });
