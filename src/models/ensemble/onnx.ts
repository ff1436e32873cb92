// Ensemble → ONNX: the mirrored view joins the batch ([x; flip(x)], the flip a Slice with step
// -1 along W), every member's own emitter runs on it, each member's logits are averaged over the
// views, a member that knows more classes has the ensemble's picked (Gather), each is weighted,
// and the weighted logits are summed: the graph of EnsembleModel.forward.
import type { ExportContext, Value } from '../../onnx/index.js';
import { binary, constant, reduceSum, reshape } from '../../onnx/ops.js';
import { modelEmitter, modelEmitterFor } from '../methods.js';
import { EnsembleModel } from './model.js';
import { emitAdapt } from './adapt.js';

/** [views·N, D] → [N, D]: the mean over the views (rows stacked view-major). */
function viewMean(ctx: ExportContext, t: Value, views: number, base: string): Value {
  if (views === 1) return t;
  const d = t.shape[1];
  const stacked = reshape(ctx, t, [views, -1, d], `${base}/views`);
  return binary(ctx, 'Mul', reduceSum(ctx, stacked, 0, false, `${base}/sum`), constant(ctx, 1 / views, `${base}/inv_views`), [-1, d], `${base}/mean`);
}

export const ensembleOnnx = modelEmitter(EnsembleModel, (ctx, m, x) => {
  const g = ctx.g;
  const views = m.mirror ? 2 : 1;
  let input = x;
  if (m.mirror) {
    // x is NCHW here: reverse W (axis 3) from the last column to before the first.
    const big = Number.MIN_SAFE_INTEGER;
    const flipped = g.node('Slice', [x.name, g.int64s('mirror/starts', [-1]), g.int64s('mirror/ends', [big]), g.int64s('mirror/axes', [3]), g.int64s('mirror/steps', [-1])], x.shape, {}, 'mirror/flip');
    input = g.node('Concat', [x.name, flipped.name], x.shape, { axis: 0 }, 'mirror/views');
  }
  const logits: Value[] = [];
  const embeddings: Value[] = [];
  [...m.members].forEach((member, i) => {
    const adapter = m.adapters[i];
    const own = adapter ? emitAdapt(ctx, input, adapter, `members.${i}/input`) : input;
    const out = modelEmitterFor(member)(ctx, member, own);
    if (out.probs) throw new Error(`ONNX export: ensemble member ${i + 1} (${member.config.method}) scores by its own probabilities; it cannot be averaged as logits`);
    const base = `members.${i}`;
    const mean = viewMean(ctx, out.logits, views, `${base}/logits`);
    const pick = m.picks[i];
    const z = pick ? g.node('Gather', [mean.name, g.int64s(`${base}/classes`, pick)], [mean.shape[0], pick.length], { axis: 1 }, `${base}/pick`) : mean;
    logits.push(binary(ctx, 'Mul', z, constant(ctx, m.weights[i], `${base}/weight`), z.shape, `${base}/weighted`));
    if (out.embedding) embeddings.push(viewMean(ctx, out.embedding, views, `${base}/embedding`));
  });
  const sum = logits.length === 1 ? logits[0] : g.node('Sum', logits.map((v) => v.name), logits[0].shape, {}, 'ensemble/logits');
  const embedding =
    embeddings.length === logits.length
      ? g.node('Concat', embeddings.map((v) => v.name), [-1, embeddings.reduce((n, e) => n + e.shape[1], 0)], { axis: 1 }, 'ensemble/embedding')
      : undefined;
  return { logits: sum, embedding };
});
