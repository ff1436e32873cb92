// ARBEx (src/models/arbex, src/losses/arbex.ts) at inference: the head's logits, the anchor and
// attention distributions, their normalised-entropy confidences and the balanced distribution at
// testTrust, written with the same formulas as the TF.js code so the two agree to float noise.
import { registerLayerEmitter, type ExportContext, type Value } from '../../onnx/index.js';
import { binary, constant, reduceSum, reshape, softmax } from '../../onnx/ops.js';
import { modelEmitter } from '../methods.js';
import { MultiheadAttention, SelfAttention } from './attention.js';
import { MlpHead } from './head.js';
import { ArbexModel } from './model.js';

registerLayerEmitter(MlpHead, (ctx, m, x) => ctx.emit(m.net, x));

/** MultiheadAttention's eval forward on q, k, v [N, E]; attention runs across the batch in
 *  'batch' mode, and is each sample's own projected value in 'sample' mode. */
function attention(ctx: ExportContext, m: MultiheadAttention, q: Value, k: Value, v: Value, mode: 'batch' | 'sample'): Value {
  const e = m.embedDim;
  const w = ctx.read(m.inProjWeight); // [E, 3E]
  const b = ctx.read(m.inProjBias);
  const proj = (x: Value, i: number, what: string) => {
    const wi = new Float32Array(e * e);
    for (let r = 0; r < e; r++) wi.set(w.subarray(r * 3 * e + i * e, r * 3 * e + (i + 1) * e), r * e);
    const y = ctx.g.node('MatMul', [x.name, ctx.g.weight(ctx.name(m, `${what}_weight`), wi, [e, e])], [-1, e], {}, ctx.name(m, `${what}_proj`));
    return binary(ctx, 'Add', y, ctx.g.weight(ctx.name(m, `${what}_bias`), b.slice(i * e, (i + 1) * e), [e]), y.shape, ctx.name(m, `${what}_bias`));
  };
  const vp = proj(v, 2, 'v');
  if (mode === 'sample') return ctx.emit(m.outProj, vp);
  const h = m.heads;
  const hd = e / h;
  const split = (x: Value, what: string) => {
    const r = reshape(ctx, x, [-1, h, hd], ctx.name(m, `${what}_heads`));
    return ctx.g.node('Transpose', [r.name], [h, -1, hd], { perm: [1, 0, 2] }, ctx.name(m, `${what}_hnd`));
  };
  const qs = split(binary(ctx, 'Mul', proj(q, 0, 'q'), constant(ctx, 1 / Math.sqrt(hd), ctx.name(m, 'scale')), [-1, e], ctx.name(m, 'q_scaled')), 'q');
  const kt = ctx.g.node('Transpose', [split(proj(k, 1, 'k'), 'k').name], [h, hd, -1], { perm: [0, 2, 1] }, ctx.name(m, 'k_t'));
  const scores = ctx.g.node('MatMul', [qs.name, kt.name], [h, -1, -1], {}, ctx.name(m, 'scores'));
  const mixed = ctx.g.node('MatMul', [softmax(ctx, scores, ctx.name(m, 'weights')).name, split(vp, 'v').name], [h, -1, hd], {}, ctx.name(m, 'mixed'));
  const back = ctx.g.node('Transpose', [mixed.name], [-1, h, hd], { perm: [1, 0, 2] }, ctx.name(m, 'nhd'));
  return ctx.emit(m.outProj, reshape(ctx, back, [-1, e], ctx.name(m, 'concat')));
}

registerLayerEmitter(SelfAttention, (ctx, m, x) => {
  const o = attention(ctx, m.attnFn, ctx.emit(m.Q, x), ctx.emit(m.K, x), ctx.emit(m.V, x), m.mode);
  const slots = reshape(ctx, softmax(ctx, o, ctx.name(m, 'softmax')), [-1, m.classes, m.slots], ctx.name(m, 'slots'));
  return reduceSum(ctx, slots, -1, false, ctx.name(m, 'per_class'));
});

/** 1 − H(p)/ln C over the last axis, as [N, 1] (broadcasts over classes). */
function confidence(ctx: ExportContext, p: Value, base: string): Value {
  const c = p.shape[p.shape.length - 1];
  const logp = ctx.g.node('Log', [binary(ctx, 'Max', p, constant(ctx, 1e-12, `${base}/floor`), p.shape, `${base}/clip`).name], p.shape, {}, `${base}/log`);
  const plogp = reduceSum(ctx, binary(ctx, 'Mul', p, logp, p.shape, `${base}/plogp`), -1, true, `${base}/sum`); // −H
  return binary(ctx, 'Add', binary(ctx, 'Div', plogp, constant(ctx, Math.log(c), `${base}/lnC`), plogp.shape, `${base}/norm`), constant(ctx, 1, `${base}/one`), plogp.shape, base);
}

export const arbexOnnx = modelEmitter(ArbexModel, (ctx, m, x) => {
  const o = m.options;
  const embedding = ctx.emit(m.backbone, x);
  const [n, d] = embedding.shape;
  const logits = ctx.emit(m.head, embedding);
  const p = softmax(ctx, binary(ctx, 'Div', logits, constant(ctx, o.temperature, 'arbex/tau'), logits.shape, 'arbex/logits_tau'), 'arbex/p');
  // anchor similarity: softmax over all C·K of −‖e − A‖/δ, summed over each class's K anchors
  const [classes, k] = m.anchors.shape;
  const anchors = ctx.g.weight('anchors', ctx.read(m.anchors), [1, classes * k, d]);
  const diff = binary(ctx, 'Sub', reshape(ctx, embedding, [-1, 1, d], 'arbex/e_col'), anchors, [n, classes * k, d], 'arbex/diff');
  const sq = reduceSum(ctx, binary(ctx, 'Mul', diff, diff, diff.shape, 'arbex/diff2'), -1, false, 'arbex/dist2');
  const dist = ctx.g.node('Sqrt', [binary(ctx, 'Add', sq, constant(ctx, 1e-12, 'arbex/dist_floor'), sq.shape, 'arbex/dist2_floor').name], sq.shape, {}, 'arbex/dist');
  const soft = softmax(ctx, binary(ctx, 'Mul', dist, constant(ctx, -1 / o.delta, 'arbex/neg_inv_delta'), dist.shape, 'arbex/neg_dist'), 'arbex/anchor_soft');
  const s = reduceSum(ctx, reshape(ctx, soft, [-1, classes, k], 'arbex/anchor_ck'), -1, false, 'arbex/s');
  const a = ctx.emit(m.attn, embedding);
  // reliability balance at testTrust t: (1 − t)·p + t·(c·p + (1 − c)·(c_g·s + c_a·a)/(c_g + c_a))
  const shape = p.shape;
  const c = confidence(ctx, p, 'arbex/c');
  const cg = confidence(ctx, s, 'arbex/cg');
  const ca = confidence(ctx, a, 'arbex/ca');
  const num = binary(ctx, 'Add', binary(ctx, 'Mul', s, cg, shape, 'arbex/s_cg'), binary(ctx, 'Mul', a, ca, shape, 'arbex/a_ca'), shape, 'arbex/corr_num');
  const correction = binary(ctx, 'Div', num, binary(ctx, 'Add', cg, ca, cg.shape, 'arbex/cg_ca'), shape, 'arbex/correction');
  const oneMinusC = binary(ctx, 'Sub', constant(ctx, 1, 'arbex/one'), c, c.shape, 'arbex/1_c');
  const balanced = binary(ctx, 'Add', binary(ctx, 'Mul', p, c, shape, 'arbex/p_c'), binary(ctx, 'Mul', correction, oneMinusC, shape, 'arbex/corr_1c'), shape, 'arbex/balanced');
  const t = o.testTrust;
  const final = binary(
    ctx,
    'Add',
    binary(ctx, 'Mul', p, constant(ctx, 1 - t, 'arbex/1_t'), shape, 'arbex/p_1t'),
    binary(ctx, 'Mul', balanced, constant(ctx, t, 'arbex/t'), shape, 'arbex/balanced_t'),
    shape,
    'arbex/final',
  );
  const conf = reshape(ctx, confidence(ctx, final, 'arbex/confidence'), [-1], 'arbex/confidence_n');
  return { logits, probs: final, confidence: conf, embedding };
});
