// Per-module ONNX emitters, keyed by module class. A module's forward is code, not data, so each
// class that can appear in an exported model registers a function that writes the ONNX nodes its
// eval-mode forward computes. Lookup walks the class chain (BatchNorm2d finds BatchNorm's emitter
// unless it has its own). src/nn's layers register in nn-emitters.ts; a method or backbone with
// its own modules registers emitters for them in its own folder (src/models/<method>/onnx.ts).
import type { tf } from '../engine/backend.js';
import { Module } from '../nn/module.js';
import type { GraphBuilder, Value } from './graph.js';

/** A module class, whatever its constructor takes. */
export type ModuleClass<M extends Module = Module> = abstract new (...args: never[]) => M;

/** Writes the nodes of `module`'s eval forward on `x` and returns the result. Layouts inside the
 *  graph: 4-D values are NCHW; other ranks keep TF.js's layout. */
export type LayerEmitter<M extends Module = Module> = (ctx: ExportContext, module: M, x: Value) => Value;

/** The graph values of a whole model's outputs (models/model.ts ModelOutput's fields). */
export interface ModelValues {
  logits: Value;
  probs?: Value;
  confidence?: Value;
  embedding?: Value;
}

const layerEmitters = new Map<ModuleClass, LayerEmitter>();

export function registerLayerEmitter<M extends Module>(cls: ModuleClass<M>, emit: LayerEmitter<M>): void {
  layerEmitters.set(cls, emit as LayerEmitter);
}

function lookup<E>(table: Map<ModuleClass, E>, module: object): E | undefined {
  for (let c = module.constructor; c && c !== Module && c !== Object; c = Object.getPrototypeOf(c)) {
    const e = table.get(c as ModuleClass);
    if (e) return e;
  }
  return undefined;
}

/** What emitters share: the graph, module paths for node names, and weight reading. */
export class ExportContext {
  private readonly paths = new Map<Module, string>();
  /** Initializers already written for a tensor (by tensor id and dims). */
  private readonly params = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    root: Module,
  ) {
    for (const [p, m] of root.namedModules()) this.paths.set(m, p);
  }

  /** The module's dotted path in the exported model ('' for the root). Modules kept outside the
   *  tree (ResNet's maxpool, which has no parameters) go by their class name. */
  path(module: Module): string {
    return this.paths.get(module) ?? module.constructor.name;
  }

  /** Emits a module through the registry; an unknown class is an error naming it and its path. */
  emit(module: Module, x: Value): Value {
    const e = lookup(layerEmitters, module);
    if (!e) {
      throw new Error(
        `ONNX export: no emitter for module "${this.path(module) || '<root>'}" of class ${module.constructor.name}; classes that export: ${[...layerEmitters.keys()].map((c) => c.name).sort().join(', ')}`,
      );
    }
    return e(this, module, x);
  }

  /** A node name base under the module's path ("layer1.0.conv1/Conv"). */
  name(module: Module, what: string): string {
    const p = this.path(module);
    return p ? `${p}/${what}` : what;
  }

  /** The initializer of a module's tensor, written once however often the module is emitted (a
   *  CBAM MLP on two poolings, a transformer on the clip and on its snippets). `data` gives the
   *  values when they are not the tensor's own (a relaid-out conv weight). */
  param(t: tf.Tensor, base: string, dims: number[], data: () => Float32Array = () => this.read(t)): string {
    const key = `${t.id}:${dims}`;
    let name = this.params.get(key);
    if (!name) {
      name = this.g.weight(base, data(), dims);
      this.params.set(key, name);
    }
    return name;
  }

  /** A tensor's values (weights are small next to inference; sync keeps emitters simple). */
  read(t: tf.Tensor): Float32Array {
    return Float32Array.from(t.dataSync() as Float32Array);
  }
}
