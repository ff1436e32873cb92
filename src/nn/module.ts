// A small PyTorch-like module system on tfjs-core: modules own tf.Variables (parameters, and
// non-trainable buffers such as BatchNorm running statistics), register children, and name
// everything with PyTorch's dotted paths (`layer1.0.conv1.weight`) so state dicts line up with
// torchvision's and checkpoints can be exchanged with PyTorch.
import { tf } from '../engine/backend.js';

/** How a parameter's TF layout maps to PyTorch's, for weight exchange (see torch-layout.ts). */
export type TorchLayout = 'conv2d' | 'depthwise' | 'linear';

export interface ParameterOptions {
  /** Set for weights whose PyTorch layout differs (conv [kh,kw,in,out] vs [out,in,kh,kw]). */
  layout?: TorchLayout;
  trainable?: boolean;
}

export interface LoadStateDictOptions {
  /** Require exactly the model's keys (default true). */
  strict?: boolean;
  /** Where the dict came from (a file name), for error messages. */
  source?: string;
}

export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

interface ParamSlot {
  variable: tf.Variable;
  layout?: TorchLayout;
}

export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, ParamSlot>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  private readonly ownChildren = new Map<string, Module>();

  /** Takes ownership of `init` (it becomes the variable's value; do not dispose it). */
  protected registerParameter(name: string, init: tf.Tensor, options: ParameterOptions = {}): tf.Variable {
    this.checkName(name);
    const v = tf.variable(init, options.trainable ?? true);
    init.dispose(); // the variable holds its own reference to the data
    this.ownParams.set(name, { variable: v, layout: options.layout });
    return v;
  }

  /** Non-trainable state saved in the state dict (running statistics, counters). */
  protected registerBuffer(name: string, init: tf.Tensor): tf.Variable {
    this.checkName(name);
    const v = tf.variable(init, false);
    init.dispose();
    this.ownBuffers.set(name, v);
    return v;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.ownChildren.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`${this.constructor.name}: invalid member name "${name}"`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.ownChildren.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }

  namedChildren(): [string, Module][] {
    return [...this.ownChildren];
  }

  /** This module ('') and every descendant, depth first, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.ownChildren) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  namedParameters(prefix = ''): [string, tf.Variable][] {
    return this.namedModules(prefix).flatMap(([p, m]) => [...m.ownParams].map(([n, s]) => [join(p, n), s.variable] as [string, tf.Variable]));
  }

  namedBuffers(prefix = ''): [string, tf.Variable][] {
    return this.namedModules(prefix).flatMap(([p, m]) => [...m.ownBuffers].map(([n, v]) => [join(p, n), v] as [string, tf.Variable]));
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Parameters not frozen with `requiresGrad(false)`: what an optimizer should update. */
  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  numParameters(onlyTrainable = false): number {
    return (onlyTrainable ? this.trainableParameters() : this.parameters()).reduce((n, v) => n + v.size, 0);
  }

  /** Freeze (false) or unfreeze (true) every parameter of this module and its children. */
  requiresGrad(on = true): this {
    for (const v of this.parameters()) v.trainable = on;
    return this;
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** PyTorch layouts of the parameters that have one, by dotted name. */
  torchLayouts(): Record<string, TorchLayout> {
    const out: Record<string, TorchLayout> = {};
    for (const [p, m] of this.namedModules()) {
      for (const [n, s] of m.ownParams) if (s.layout) out[join(p, n)] = s.layout;
    }
    return out;
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, then
   * its buffers, then its children). The values are the live variables: read them, don't
   * dispose them.
   */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [p, m] of this.namedModules()) {
      for (const [n, s] of m.ownParams) out[join(p, n)] = s.variable;
      for (const [n, v] of m.ownBuffers) out[join(p, n)] = v;
    }
    return out;
  }

  /**
   * Copies values from `dict` into this module's variables. Shapes must match; dtypes are cast.
   * strict (default): any missing or unexpected key is an error that lists them all. Nothing is
   * assigned unless every check passes. The dict's tensors stay owned by the caller.
   */
  loadStateDict(dict: Record<string, tf.Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict() as Record<string, tf.Variable>;
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    const mismatched = Object.keys(own)
      .filter((k) => k in dict && dict[k].shape.join() !== own[k].shape.join())
      .map((k) => `${k}: checkpoint [${dict[k].shape}] vs model [${own[k].shape}]`);
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    if (mismatched.length) problems.push(`shape mismatch: ${mismatched.join('; ')}`);
    if (problems.length) {
      throw new Error(`${options.source ?? 'loadStateDict'}: cannot load into ${this.constructor.name}: ${problems.join('; ')}`);
    }
    for (const [k, v] of Object.entries(own)) {
      const src = dict[k];
      if (!src) continue;
      if (src.dtype === v.dtype) v.assign(src);
      else tf.tidy(() => v.assign(tf.cast(src, v.dtype)));
    }
    return { missing, unexpected };
  }

  /** Frees every variable of this module and its children. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const s of m.ownParams.values()) s.variable.dispose();
      for (const v of m.ownBuffers.values()) v.dispose();
      m.ownParams.clear();
      m.ownBuffers.clear();
    }
  }
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** A module with one tensor in and one out: what Sequential chains. */
export interface Forward {
  forward(x: tf.Tensor): tf.Tensor;
}
export type Layer = Module & Forward;
export type TensorFn = (x: tf.Tensor) => tf.Tensor;

/** A parameter-free function as a module (PyTorch's nn.ReLU and friends). */
export class Lambda extends Module implements Forward {
  constructor(
    readonly fn: TensorFn,
    readonly label = fn.name || 'lambda',
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fn(x);
  }
}

export class Identity extends Module implements Forward {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

/** Ordered list of submodules named '0', '1', … (like nn.ModuleList); no forward of its own. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: M[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get(i: number): M {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new Error(`ModuleList index ${i} out of range (length ${this.items.length})`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Applies its layers in order; plain functions are wrapped in Lambda and take an index too, as
 *  nn.ReLU does inside a PyTorch nn.Sequential, so parameter names line up. */
export class Sequential extends Module implements Forward {
  private readonly layers: Layer[] = [];

  constructor(...layers: Array<Layer | TensorFn>) {
    super();
    for (const l of layers) this.append(l);
  }

  append(layer: Layer | TensorFn): this {
    const m = typeof layer === 'function' ? new Lambda(layer) : layer;
    this.registerModule(String(this.layers.length), m);
    this.layers.push(m);
    return this;
  }

  get(i: number): Layer {
    const m = this.layers[i < 0 ? this.layers.length + i : i];
    if (!m) throw new Error(`Sequential index ${i} out of range (length ${this.layers.length})`);
    return m;
  }

  get length(): number {
    return this.layers.length;
  }

  forward(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}
