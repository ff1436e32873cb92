// Graph pass: folds an eval-mode BatchNormalization into the Conv before it (w·s per output
// channel, bias (b − mean)·s + β with s = γ/√(var + ε)), one node less per conv and a smaller
// file. Done in float64 and rounded once, so the result stays within float32 noise of TF.js's
// unfolded scale-and-shift.
import type { GraphBuilder } from './graph.js';

/** Folds every Conv → BatchNormalization pair whose conv output feeds only the BN. Returns how many. */
export function foldBatchNorms(g: GraphBuilder): number {
  let folded = 0;
  for (const bn of [...g.nodes]) {
    if (bn.op !== 'BatchNormalization') continue;
    const convOut = bn.inputs[0];
    const conv = g.nodes.find((n) => n.op === 'Conv' && n.outputs[0] === convOut);
    if (!conv || g.consumers(convOut).length !== 1 || g.isOutput(convOut)) continue;
    const weightName = conv.inputs[1];
    // A weight shared with another node cannot be rewritten for this one.
    if (g.consumers(weightName).length !== 1) continue;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((n) => g.floatInit(n));
    const eps = (bn.attrs.epsilon as { float: number } | undefined)?.float ?? 1e-5;
    const w = g.floatInit(weightName);
    const cout = gamma.length;
    const per = w.length / cout;
    const oldBias = conv.inputs[2] ? g.floatInit(conv.inputs[2]) : new Float32Array(cout);
    const bias = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      const s = gamma[o] / Math.sqrt(variance[o] + eps);
      for (let i = o * per; i < (o + 1) * per; i++) w[i] = w[i] * s;
      bias[o] = (oldBias[o] - mean[o]) * s + beta[o];
    }
    const biasName = conv.inputs[2] ?? g.weight(`${weightName.replace(/weight$/, '')}folded_bias`, bias, [cout]);
    if (conv.inputs[2]) g.floatInit(biasName).set(bias);
    else conv.inputs.push(biasName);
    conv.outputs[0] = bn.outputs[0];
    g.nodes.splice(g.nodes.indexOf(bn), 1);
    for (const n of bn.inputs.slice(1)) if (g.consumers(n).length === 0) g.initializers.delete(n);
    folded++;
  }
  return folded;
}
