// Graph pass: a Conv whose weight is block-diagonal (a `ferkit ensemble` model: each folded member's
// filters read only that member's channels) becomes Split → one Conv per block → Concat, so ONNX
// Runtime does not multiply the zero blocks. Exact: only weights that are zero are left out.
import type { GraphBuilder, GraphNode } from '../../onnx/graph.js';

export interface Block {
  /** Output channels [out0, out1) read input channels [in0, in1). */
  out0: number;
  out1: number;
  in0: number;
  in1: number;
}

/** The finest split of a [cout, cin, taps] weight into diagonal blocks with every nonzero inside
 *  one: cut before output o when all nonzeros of outputs ≥ o read inputs past those of the block so far. */
export function diagonalBlocks(w: Float32Array, cout: number, cin: number, taps: number): Block[] {
  const lo = new Array<number>(cout).fill(Infinity);
  const hi = new Array<number>(cout).fill(-Infinity);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++) {
      const base = (o * cin + i) * taps;
      for (let k = 0; k < taps; k++)
        if (w[base + k] !== 0) {
          lo[o] = Math.min(lo[o], i);
          hi[o] = Math.max(hi[o], i);
          break;
        }
    }
  const suffixLo = new Array<number>(cout + 1).fill(Infinity);
  for (let o = cout - 1; o >= 0; o--) suffixLo[o] = Math.min(lo[o], suffixLo[o + 1]);
  const blocks: Block[] = [];
  let out0 = 0;
  let in0 = 0;
  let blockHi = -Infinity;
  for (let o = 0; o < cout; o++) {
    if (o > out0 && blockHi < suffixLo[o]) {
      const in1 = Math.max(blockHi + 1, in0 + 1);
      if (in1 < cin && in1 <= suffixLo[o]) {
        blocks.push({ out0, out1: o, in0, in1 });
        out0 = o;
        in0 = in1;
        blockHi = -Infinity;
      }
    }
    blockHi = Math.max(blockHi, hi[o]);
  }
  blocks.push({ out0, out1: cout, in0, in1: cin });
  return blocks;
}

/** Splits every group-1 Conv whose weight has two or more diagonal blocks. Returns how many. */
export function splitBlockDiagonalConvs(g: GraphBuilder): number {
  let count = 0;
  for (const conv of [...g.nodes]) {
    if (conv.op !== 'Conv' || (conv.attrs.group ?? 1) !== 1) continue;
    const [x, weightName, biasName] = conv.inputs;
    const init = g.initializers.get(weightName);
    if (!init || !(init.data instanceof Float32Array) || g.consumers(weightName).length !== 1) continue;
    const [cout, cin, kh, kw] = init.dims;
    const taps = kh * kw;
    const blocks = diagonalBlocks(init.data, cout, cin, taps);
    if (blocks.length < 2) continue;
    const w = init.data;
    const bias = biasName ? g.floatInit(biasName) : undefined;
    const base = conv.outputs[0];
    const parts = blocks.map((_, k) => g.fresh(`${base}/block${k}_in`));
    const nodes: GraphNode[] = [
      { op: 'Split', inputs: [x, g.int64s(`${base}/split`, blocks.map((b) => b.in1 - b.in0))], outputs: parts, attrs: { axis: 1 }, name: `${base}/Split` },
    ];
    const outs = blocks.map((b, k) => {
      const bo = b.out1 - b.out0;
      const bi = b.in1 - b.in0;
      const data = new Float32Array(bo * bi * taps);
      for (let o = 0; o < bo; o++) data.set(w.subarray(((b.out0 + o) * cin + b.in0) * taps, ((b.out0 + o) * cin + b.in1) * taps), o * bi * taps);
      const inputs = [parts[k], g.weight(`${weightName}_block${k}`, data, [bo, bi, kh, kw])];
      if (bias) inputs.push(g.weight(`${biasName}_block${k}`, bias.slice(b.out0, b.out1), [bo]));
      const out = g.fresh(`${base}/block${k}`);
      nodes.push({ op: 'Conv', inputs, outputs: [out], attrs: { ...conv.attrs }, name: `${out}/Conv` });
      return out;
    });
    nodes.push({ op: 'Concat', inputs: outs, outputs: [base], attrs: { axis: 1 }, name: `${base}/Concat` });
    g.nodes.splice(g.nodes.indexOf(conv), 1, ...nodes);
    g.initializers.delete(weightName);
    if (biasName && g.consumers(biasName).length === 0) g.initializers.delete(biasName);
    count++;
  }
  return count;
}
