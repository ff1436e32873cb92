// Optimizers with PyTorch's update rules, including its *coupled* weight decay (g ← g + wd·w
// before the update), parameter groups with their own lr/weight decay, an lr that schedulers set
// each step, and state that exports to tensors + JSON for resumable checkpoints.
import { tf } from '../engine/backend.js';
import { NATIVE_SGD_UPDATE } from '../engine/native.js';
import { Registry } from '../registry.js';

export interface GroupSpec {
  params: tf.Variable[];
  lr?: number;
  weightDecay?: number;
}

export interface ParamGroup {
  params: tf.Variable[];
  lr: number;
  /** The lr the group started with: schedulers scale from it. */
  initialLr: number;
  weightDecay: number;
}

/** Everything an optimizer needs to resume: tensors by `state.<param index>.<slot>`, plus JSON. */
export interface OptimizerState {
  tensors: Record<string, tf.Tensor>;
  meta: {
    type: string;
    groups: Array<{ lr: number; initialLr: number; weightDecay: number; size: number }>;
    /** Per-parameter step counts (Adam's bias correction), by parameter index. */
    steps: Record<string, number>;
  };
}

interface ParamState {
  step: number;
  slots: Record<string, tf.Variable>;
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  private readonly state = new Map<tf.Variable, ParamState>();

  constructor(
    params: tf.Variable[] | GroupSpec[],
    defaults: { lr: number; weightDecay?: number },
  ) {
    if (!(defaults.lr >= 0)) throw new Error(`${this.constructor.name}: lr must be a non-negative number, got ${defaults.lr}`);
    const specs: GroupSpec[] = params.length > 0 && !(params[0] instanceof tf.Variable) ? (params as GroupSpec[]) : [{ params: params as tf.Variable[] }];
    const seen = new Set<tf.Variable>();
    this.paramGroups = specs.map((g) => {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error(`${this.constructor.name}: variable ${p.name} appears in more than one parameter group`);
        seen.add(p);
      }
      const lr = g.lr ?? defaults.lr;
      return { params: g.params, lr, initialLr: lr, weightDecay: g.weightDecay ?? defaults.weightDecay ?? 0 };
    });
  }

  /** Slot names this optimizer keeps per parameter (momentum_buffer, exp_avg, …). */
  protected abstract readonly slotNames: string[];
  abstract readonly type: string;

  /** Updates `p` in place from its (weight-decayed) gradient. Runs inside a tidy. */
  protected abstract update(p: tf.Variable, g: tf.Tensor, group: ParamGroup, state: ParamState): void;

  /** Gradients keyed by variable name, as tf.variableGrads returns them; parameters without a
   *  gradient are left alone (PyTorch: grad is None). The gradients stay the caller's. */
  step(grads: tf.NamedTensorMap): void {
    tf.tidy(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          let g = grads[p.name];
          if (!g) continue;
          if (group.weightDecay !== 0 && this.coupledDecay && !this.foldsDecay) g = tf.add(g, tf.mul(p, group.weightDecay));
          const st = this.stateOf(p);
          st.step += 1;
          this.update(p, g, group, st);
        }
      }
    });
  }

  /** Adam adds decay to the gradient; AdamW overrides this and decays weights directly. */
  protected get coupledDecay(): boolean {
    return true;
  }

  /** True when update() adds the coupled decay itself (a fused kernel): step() then passes the
   *  raw gradient. */
  protected get foldsDecay(): boolean {
    return false;
  }

  /** Sets every group's lr (what a scheduler or a warm-up does each step). */
  setLr(lr: number | number[]): void {
    this.paramGroups.forEach((g, i) => (g.lr = typeof lr === 'number' ? lr : lr[i]));
  }

  getLr(): number[] {
    return this.paramGroups.map((g) => g.lr);
  }

  private stateOf(p: tf.Variable): ParamState {
    let st = this.state.get(p);
    if (!st) {
      st = { step: 0, slots: {} };
      this.state.set(p, st);
    }
    return st;
  }

  /** A slot variable, created on first use from `init` (kept outside any tidy). */
  protected slot(st: ParamState, name: string, init: () => tf.Tensor): tf.Variable {
    if (!st.slots[name]) {
      const t = init();
      st.slots[name] = tf.keep(tf.variable(t, false));
      t.dispose();
    }
    return st.slots[name];
  }

  private allParams(): tf.Variable[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The state in PyTorch's indexing (parameters numbered across groups). Tensors are copies. */
  stateDict(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    const steps: Record<string, number> = {};
    this.allParams().forEach((p, i) => {
      const st = this.state.get(p);
      if (!st) return;
      steps[i] = st.step;
      for (const [k, v] of Object.entries(st.slots)) tensors[`state.${i}.${k}`] = tf.clone(v);
    });
    return {
      tensors,
      meta: {
        type: this.type,
        groups: this.paramGroups.map((g) => ({ lr: g.lr, initialLr: g.initialLr, weightDecay: g.weightDecay, size: g.params.length })),
        steps,
      },
    };
  }

  /** Restores state saved by stateDict into an optimizer over the same parameters. */
  loadStateDict(saved: OptimizerState, source = 'optimizer state'): void {
    const fail = (msg: string): never => {
      throw new Error(`${source}: cannot load into ${this.type}: ${msg}`);
    };
    if (saved.meta.type !== this.type) fail(`it was saved by ${saved.meta.type}`);
    if (saved.meta.groups.length !== this.paramGroups.length) fail(`${saved.meta.groups.length} parameter groups saved, ${this.paramGroups.length} here`);
    saved.meta.groups.forEach((g, i) => {
      if (g.size !== this.paramGroups[i].params.length) fail(`group ${i} has ${g.size} parameters saved, ${this.paramGroups[i].params.length} here`);
    });
    const params = this.allParams();
    for (const key of Object.keys(saved.tensors)) {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key);
      if (!m) fail(`unexpected key "${key}"`);
      const [, idx, slot] = m as RegExpExecArray;
      const p = params[Number(idx)];
      if (!p) fail(`"${key}" names parameter ${idx}, but there are ${params.length}`);
      if (!this.slotNames.includes(slot)) fail(`unknown slot "${slot}" in "${key}"`);
      if (saved.tensors[key].shape.join() !== p.shape.join()) fail(`"${key}" has shape [${saved.tensors[key].shape}], parameter has [${p.shape}]`);
    }
    this.disposeState();
    saved.meta.groups.forEach((g, i) => Object.assign(this.paramGroups[i], { lr: g.lr, initialLr: g.initialLr, weightDecay: g.weightDecay }));
    for (const [idx, step] of Object.entries(saved.meta.steps)) this.stateOf(params[Number(idx)]).step = step;
    for (const [key, t] of Object.entries(saved.tensors)) {
      const [, idx, slot] = /^state\.(\d+)\.(\w+)$/.exec(key) as RegExpExecArray;
      this.slot(this.stateOf(params[Number(idx)]), slot, () => tf.clone(t));
    }
  }

  private disposeState(): void {
    for (const st of this.state.values()) tf.dispose(Object.values(st.slots));
    this.state.clear();
  }

  dispose(): void {
    this.disposeState();
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD: buf ← μ·buf + (1-dampening)·g (first step buf = g); w ← w − lr·buf. */
export class SGD extends Optimizer {
  readonly type = 'sgd';
  protected readonly slotNames = ['momentum_buffer'];
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: tf.Variable[] | GroupSpec[], options: SgdOptions) {
    super(params, options);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
  }

  /** Plain momentum SGD runs as one native kernel per parameter (decay, buffer and weight in one
   *  pass, equal bit for bit to the ops below) when the native kernels are there. */
  private get fused(): boolean {
    return this.momentum !== 0 && this.dampening === 0 && !this.nesterov && tf.getKernel(NATIVE_SGD_UPDATE, tf.getBackend()) !== undefined;
  }

  protected override get foldsDecay(): boolean {
    return this.fused;
  }

  protected update(p: tf.Variable, g: tf.Tensor, group: ParamGroup, st: ParamState): void {
    if (this.fused) {
      const first = !st.slots.momentum_buffer;
      const buf = this.slot(st, 'momentum_buffer', () => tf.zerosLike(p));
      const attrs = { lr: group.lr, momentum: this.momentum, weightDecay: group.weightDecay, first };
      const [np, nb] = tf.engine().runKernel(NATIVE_SGD_UPDATE, { p, g, buf }, attrs as never) as tf.Tensor[];
      buf.assign(nb);
      p.assign(np);
      return;
    }
    let d = g;
    if (this.momentum !== 0) {
      const fresh = !st.slots.momentum_buffer;
      const buf = this.slot(st, 'momentum_buffer', () => tf.clone(g));
      if (!fresh) buf.assign(tf.add(tf.mul(buf, this.momentum), tf.mul(g, 1 - this.dampening)));
      d = this.nesterov ? tf.add(g, tf.mul(buf, this.momentum)) : buf;
    }
    p.assign(tf.sub(p, tf.mul(d, group.lr)));
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** torch.optim.Adam: m, v moving averages; w ← w − lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps). */
export class Adam extends Optimizer {
  readonly type: string = 'adam';
  protected readonly slotNames = ['exp_avg', 'exp_avg_sq'];
  readonly betas: [number, number];
  readonly eps: number;

  constructor(params: tf.Variable[] | GroupSpec[], options: AdamOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay });
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
  }

  protected update(p: tf.Variable, g: tf.Tensor, group: ParamGroup, st: ParamState): void {
    const [b1, b2] = this.betas;
    const m = this.slot(st, 'exp_avg', () => tf.zerosLike(p));
    const v = this.slot(st, 'exp_avg_sq', () => tf.zerosLike(p));
    m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
    v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
    const stepSize = group.lr / (1 - b1 ** st.step);
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** st.step)), this.eps);
    p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
  }
}

/** torch.optim.AdamW: decoupled decay w ← w·(1 − lr·wd) before the Adam update. */
export class AdamW extends Adam {
  override readonly type = 'adamw';

  constructor(params: tf.Variable[] | GroupSpec[], options: AdamOptions = {}) {
    super(params, { weightDecay: 1e-2, ...options });
  }

  protected override get coupledDecay(): boolean {
    return false;
  }

  protected override update(p: tf.Variable, g: tf.Tensor, group: ParamGroup, st: ParamState): void {
    if (group.weightDecay !== 0) p.assign(tf.mul(p, 1 - group.lr * group.weightDecay));
    super.update(p, g, group, st);
  }
}

export interface OptimizerOptions {
  lr: number;
  weightDecay?: number;
  momentum?: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
}

/** Optimizers by name (`--optimizer sgd`). */
export const optimizers = new Registry<(params: tf.Variable[] | GroupSpec[], options: OptimizerOptions) => Optimizer>('optimizer');
optimizers
  .register({ name: 'sgd', description: 'SGD, optional momentum/nesterov, coupled weight decay (torch.optim.SGD)', create: (p, o) => new SGD(p, o) })
  .register({ name: 'adam', description: 'Adam with coupled weight decay (torch.optim.Adam)', create: (p, o) => new Adam(p, o) })
  .register({ name: 'adamw', description: 'AdamW, decoupled weight decay (torch.optim.AdamW)', create: (p, o) => new AdamW(p, o) });
