// An ONNX graph under construction, independent of the protobuf encoding: nodes in topological
// order, float initialisers as Float32Arrays (so passes such as BatchNorm folding can rewrite them
// before encoding), and the static shape of every value, NCHW with the batch dimension symbolic
// (-1), so emitters can decide what the TF.js forward decides from shapes (fer-cnn's pooling).

/** A named value in the graph and its shape (-1: the dynamic batch dimension). Graph inputs and
 *  outputs are float unless `type` says otherwise (a detector takes raw uint8 pixels). */
export interface Value {
  name: string;
  shape: number[];
  type?: 'float' | 'uint8';
}

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  name: string;
}

export interface Initializer {
  name: string;
  dims: number[];
  /** Float weights, int64 data (shapes for Reshape) or int8 weights (quantize.ts). */
  data: Float32Array | BigInt64Array | Int8Array;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  private readonly used = new Set<string>();

  /** A name not used yet, derived from `base` (module paths make readable names). */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: number[], type: Value['type'] = 'float'): Value {
    const v = { name: this.fresh(name), shape, type };
    this.inputs.push(v);
    return v;
  }

  output(v: Value, name: string): Value {
    // Graph outputs carry fixed names (logits, probs): rename through an Identity when needed.
    if (v.name !== name) {
      if (this.used.has(name)) throw new Error(`ONNX graph: output name "${name}" is already used`);
      this.used.add(name);
      this.nodes.push({ op: 'Identity', inputs: [v.name], outputs: [name], attrs: {}, name: `${name}/identity` });
    }
    const out = { name, shape: v.shape };
    this.outputs.push(out);
    return out;
  }

  weight(base: string, data: Float32Array, dims: number[]): string {
    return this.initializer(base, data, dims);
  }

  int64s(base: string, values: number[]): string {
    const name = this.fresh(base);
    this.initializers.set(name, { name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  int8s(base: string, data: Int8Array, dims: number[]): string {
    return this.initializer(base, data, dims);
  }

  /** A tensor initializer under a fresh name, its size checked against dims. */
  private initializer(base: string, data: Float32Array | Int8Array, dims: number[]): string {
    checkSize(base, data.length, dims);
    const name = this.fresh(base);
    this.initializers.set(name, { name, dims, data });
    return name;
  }

  /** Adds a node with one output of the given shape. */
  node(op: string, inputs: string[], shape: number[], attrs: Record<string, AttrValue> = {}, base = op): Value {
    const out = this.fresh(base);
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: `${out}/${op}` });
    return { name: out, shape };
  }

  /** Nodes that read `value`, and whether it is a graph output. */
  consumers(value: string): GraphNode[] {
    return this.nodes.filter((n) => n.inputs.includes(value));
  }

  isOutput(value: string): boolean {
    return this.outputs.some((o) => o.name === value);
  }

  floatInit(name: string): Float32Array {
    const init = this.initializers.get(name);
    if (!init || !(init.data instanceof Float32Array)) throw new Error(`ONNX graph: "${name}" is not a float initializer`);
    return init.data;
  }
}

function checkSize(name: string, n: number, dims: number[]): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (n !== want) throw new Error(`ONNX graph: initializer ${name} has ${n} values for dims [${dims}]`);
}
