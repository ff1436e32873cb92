// Graph pass: int8 weights. Every Conv, Gemm and MatMul weight initializer becomes int8 with one
// float scale per output channel (symmetric, zero point 0) and a DequantizeLinear in front of its
// node (opset 13, per-axis), so the file is about 4x smaller while activations and arithmetic stay
// float32: onnxruntime (node or web) runs it unchanged, and accuracy moves by rounding noise only.
// Made for the browser's download (`ferkit export --quantize int8`); biases stay float.
import type { GraphBuilder, GraphNode } from '../../onnx/graph.js';

export type QuantizeMode = 'int8';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['int8'];

/** Which input of which op is a weight, and its output-channel axis given the weight's rank. */
const WEIGHT_SLOTS: Record<string, { input: number; axis: (dims: number[]) => number }> = {
  Conv: { input: 1, axis: () => 0 }, // [out, in/groups, kh, kw]
  Gemm: { input: 1, axis: () => 1 }, // [in, out] (ferkit writes Gemm without transB)
  MatMul: { input: 1, axis: (dims) => dims.length - 1 }, // [..., in, out]
};

export interface QuantizeReport {
  /** Weights rewritten to int8. */
  weights: number;
  /** Float values replaced by int8 ones. */
  values: number;
}

/** Quantizes the weights of every Conv/Gemm/MatMul whose weight is a float initializer with at
 *  least `minValues` values (smaller ones are not worth a node) read by weight slots only. */
export function quantizeWeights(g: GraphBuilder, minValues = 256): QuantizeReport {
  const report: QuantizeReport = { weights: 0, values: 0 };
  // A reader that takes the tensor anywhere but its weight slot (say, as data) keeps it float.
  const isWeightSlot = (n: GraphNode, name: string) => WEIGHT_SLOTS[n.op] !== undefined && n.inputs.every((x, i) => (x === name) === (i === WEIGHT_SLOTS[n.op].input));
  for (const node of [...g.nodes]) {
    const slot = WEIGHT_SLOTS[node.op];
    if (!slot) continue;
    const name = node.inputs[slot.input];
    const init = g.initializers.get(name);
    if (!init || !(init.data instanceof Float32Array) || init.data.length < minValues || init.dims.length < 2) continue;
    const readers = g.consumers(name);
    if (g.isOutput(name) || !readers.every((n) => isWeightSlot(n, name))) continue;
    const axes = new Set(readers.map((n) => WEIGHT_SLOTS[n.op].axis(init.dims)));
    if (axes.size !== 1) continue;
    const axis = [...axes][0];
    const { q, scale } = quantizePerAxis(init.data, init.dims, axis);
    const channels = init.dims[axis];
    g.initializers.delete(name);
    const qName = g.int8s(`${name}_int8`, q, init.dims);
    const scaleName = g.weight(`${name}_scale`, scale, [channels]);
    const zeroName = g.int8s(`${name}_zero_point`, new Int8Array(channels), [channels]);
    // The dequantized tensor keeps the weight's name, so every reader is unchanged.
    const first = Math.min(...readers.map((n) => g.nodes.indexOf(n)));
    g.nodes.splice(first, 0, { op: 'DequantizeLinear', inputs: [qName, scaleName, zeroName], outputs: [name], attrs: { axis }, name: `${name}/DequantizeLinear` });
    report.weights++;
    report.values += init.data.length;
  }
  return report;
}

/** Symmetric per-channel int8: q = round(w / s), s = max|w| / 127 along every slice of `axis`. */
export function quantizePerAxis(w: Float32Array, dims: number[], axis: number): { q: Int8Array; scale: Float32Array } {
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[channelOf(i)] = Math.max(maxAbs[channelOf(i)], Math.abs(w[i]));
  // An all-zero channel keeps scale 1 (any scale dequantizes its zeros exactly).
  const scale = Float32Array.from(maxAbs, (m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / scale[channelOf(i)])));
  return { q, scale };
}
