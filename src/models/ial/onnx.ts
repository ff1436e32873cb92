// The IAL clip model (src/models/ial) at inference: per-frame residual trunk with its attention
// blocks (gca, se, cbam or none) or a backbone's parts (its registered emitter) with the blocks
// after the attended stages, dynamic-static fusion, the temporal transformer and the
// classifier (plus the frame head's clip mean when it has one); for nr-dfernet the mean class
// token and the test-time snippet filter. Auxiliary
// heads are training-only and not written. The model emitter gets the clip's frames as NCHW
// [N·T, C, H, W], frames of a clip contiguous (src/export/onnx/export.ts); everything fits opset 13.
import { SNIPPET_FILTER_DEFAULTS } from '../../losses/snippet-filter.js';
import { toTorchLayout } from '../../nn/torch-layout.js';
import type { Module } from '../../nn/module.js';
import { registerLayerEmitter, type ExportContext, type ModuleClass, type Value } from '../../onnx/index.js';
import { add, binary, constant, globalAvgPool, linear, relu, reshape, softmax } from '../../onnx/ops.js';
import { emitParts, emitPool } from '../backbones/backbone.js';
import { modelEmitter } from '../methods.js';
import { CbamAttention, GcaAttention, GlobalDepthwiseConv, SeAttention } from './attention.js';
import { IalBlock, IalStage } from './blocks.js';
import { DynamicStaticFusion } from './dsf.js';
import { IalModel, IalNetwork } from './model.js';
import { Attention, FeedForward, PreNorm, Residual, Transformer } from './transformer.js';

/** Attention blocks see the clip structure (GCA averages over a clip's frames), so their emitters
 *  take the frame count as ChannelAttention.apply does. */
type AttentionEmitter<M extends Module> = (ctx: ExportContext, m: M, y: Value, frames: number) => Value;
const attentionEmitters = new Map<ModuleClass, AttentionEmitter<Module>>();

function registerAttentionEmitter<M extends Module>(cls: ModuleClass<M>, emit: AttentionEmitter<M>): void {
  attentionEmitters.set(cls, emit as AttentionEmitter<Module>);
}

function emitAttention(ctx: ExportContext, m: Module, y: Value, frames: number): Value {
  const e = attentionEmitters.get(m.constructor as ModuleClass);
  if (!e) throw new Error(`ONNX export: no emitter for attention block "${ctx.path(m)}" of class ${m.constructor.name}; known: ${[...attentionEmitters.keys()].map((c) => c.name).join(', ')}`);
  return e(ctx, m, y, frames);
}

/** Slice of one axis, [start, end). */
function slice(ctx: ExportContext, x: Value, axis: number, start: number, end: number, base: string): Value {
  const shape = x.shape.map((d, i) => (i === axis ? end - start : d));
  const inputs = [x.name, ctx.g.int64s(`${base}/starts`, [start]), ctx.g.int64s(`${base}/ends`, [end]), ctx.g.int64s(`${base}/axes`, [axis])];
  return ctx.g.node('Slice', inputs, shape, {}, base);
}

function transpose(ctx: ExportContext, x: Value, perm: number[], base: string): Value {
  return ctx.g.node('Transpose', [x.name], perm.map((p) => x.shape[p]), { perm }, base);
}

/** Mean over one axis (opset 13: axes are an attribute). */
function mean(ctx: ExportContext, x: Value, axis: number, keepDims: boolean, base: string): Value {
  const shape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return ctx.g.node('ReduceMean', [x.name], shape, { axes: [axis], keepdims: keepDims ? 1 : 0 }, base);
}

// --- attention blocks (y: NCHW residual branch [N·T, C, H, W]) ---

registerLayerEmitter(GlobalDepthwiseConv, (ctx, m, x) => {
  const [n, c, h, w] = x.shape;
  if (c !== m.channels || h !== m.map[0] || w !== m.map[1]) throw new Error(`ONNX export: GlobalDepthwiseConv "${ctx.path(m)}" covers [${m.channels}, ${m.map}], its input is [${x.shape}]`);
  // A depth-wise conv whose kernel is the whole map: TF.js writes it as multiply + sum.
  const weight = ctx.param(m.weight, ctx.name(m, 'weight'), [c, 1, h, w], () => {
    const t = toTorchLayout(m.weight, 'depthwise');
    const data = ctx.read(t);
    t.dispose();
    return data;
  });
  return ctx.g.node('Conv', [x.name, weight], [n, c, 1, 1], { kernel_shape: [h, w], group: c }, ctx.name(m, 'Conv'));
});

// g = DWConv(y); s = fc2(fc1(g)); S = √(2s·mean_t(2s) + 1e-5) per clip; y·S (gca-scale.ts)
registerAttentionEmitter(GcaAttention, (ctx, m, y, frames) => {
  const c = m.o.channels;
  const s = ctx.emit(m.fc2, ctx.emit(m.fc1, ctx.emit(m.gc, y)));
  const w = binary(ctx, 'Mul', reshape(ctx, s, [-1, frames, c], ctx.name(m, 'by_clip')), constant(ctx, 2, ctx.name(m, 'two')), [-1, frames, c], ctx.name(m, 'w'));
  const m_ = mean(ctx, w, 1, true, ctx.name(m, 'clip_mean'));
  const wm = binary(ctx, 'Add', binary(ctx, 'Mul', w, m_, w.shape, ctx.name(m, 'w_m')), constant(ctx, 1e-5, ctx.name(m, 'eps')), w.shape, ctx.name(m, 'w_m_eps'));
  const scale = ctx.g.node('Sqrt', [wm.name], w.shape, {}, ctx.name(m, 'scale'));
  return binary(ctx, 'Mul', y, reshape(ctx, scale, [-1, c, 1, 1], ctx.name(m, 'scale_nchw')), y.shape, ctx.name(m, 'rescaled'));
});

registerAttentionEmitter(SeAttention, (ctx, m, y) => {
  const [n, c] = y.shape;
  const g = ctx.g.node('GlobalAveragePool', [y.name], [n, c, 1, 1], {}, ctx.name(m, 'avg'));
  return binary(ctx, 'Mul', y, ctx.emit(m.fc2, ctx.emit(m.fc1, g)), y.shape, ctx.name(m, 'rescaled'));
});

// channel attention σ(mlp(avg) + mlp(max)), then spatial σ(conv7×7([mean_c, max_c])); the MLP's
// weights are written once for both poolings
registerAttentionEmitter(CbamAttention, (ctx, m, y) => {
  const [n, c, h, w] = y.shape;
  const avg = ctx.g.node('GlobalAveragePool', [y.name], [n, c, 1, 1], {}, ctx.name(m, 'avg'));
  const max = ctx.g.node('GlobalMaxPool', [y.name], [n, c, 1, 1], {}, ctx.name(m, 'max'));
  const ch = ctx.g.node('Sigmoid', [add(ctx, ctx.emit(m.mlp, avg), ctx.emit(m.mlp, max), ctx.name(m, 'mlp_sum')).name], avg.shape, {}, ctx.name(m, 'channel'));
  const yc = binary(ctx, 'Mul', y, ch, y.shape, ctx.name(m, 'channel_scaled'));
  const cmean = mean(ctx, yc, 1, true, ctx.name(m, 'mean_c'));
  const cmax = ctx.g.node('ReduceMax', [yc.name], [n, 1, h, w], { axes: [1], keepdims: 1 }, ctx.name(m, 'max_c'));
  const pooled = ctx.g.node('Concat', [cmean.name, cmax.name], [n, 2, h, w], { axis: 1 }, ctx.name(m, 'pooled'));
  const sp = ctx.g.node('Sigmoid', [ctx.emit(m.spatial, pooled).name], [n, 1, h, w], {}, ctx.name(m, 'spatial_sigmoid'));
  return binary(ctx, 'Mul', yc, sp, y.shape, ctx.name(m, 'rescaled'));
});

// --- residual trunk ---

function emitBlock(ctx: ExportContext, b: IalBlock, x: Value, frames: number): Value {
  let out = ctx.emit(b.bn2, ctx.emit(b.conv2, relu(ctx, ctx.emit(b.bn1, ctx.emit(b.conv1, x)), ctx.name(b, 'relu1'))));
  if (b.attn) out = emitAttention(ctx, b.attn, out, frames);
  const skip = b.downsample ? ctx.emit(b.downsample, x) : x;
  return relu(ctx, add(ctx, out, skip, ctx.name(b, 'add')), ctx.name(b, 'relu'));
}

function emitStage(ctx: ExportContext, stage: IalStage, x: Value, frames: number): Value {
  let h = x;
  for (const [, b] of stage.namedChildren()) h = emitBlock(ctx, b as IalBlock, h, frames);
  return h;
}

/** f: [clips·T, C, H, W] → [clips·(T−1), C, H', W'] (dsf.ts). */
function emitFusion(ctx: ExportContext, m: DynamicStaticFusion, f: Value, frames: number): Value {
  const [, c, h, w] = f.shape;
  const [oh, ow] = m.outMap;
  const seq = reshape(ctx, f, [-1, frames, c, h, w], ctx.name(m, 'by_clip'));
  const frameMaps = (start: number, what: string) => reshape(ctx, slice(ctx, seq, 1, start, start + frames - 1, ctx.name(m, what)), [-1, c, h, w], ctx.name(m, `${what}_frames`));
  const next = frameMaps(1, 'next');
  const prev = frameMaps(0, 'prev');
  const dynamic = emitStage(ctx, m.layer4, binary(ctx, 'Sub', next, prev, next.shape, ctx.name(m, 'motion')), frames - 1);
  // static path: map positions (h·W' + w) as tokens with the channels as features
  const patches = reshape(ctx, ctx.emit(m.patch_embedding, prev), [-1, c, oh * ow], ctx.name(m, 'patches'));
  const tokens = binary(ctx, 'Add', transpose(ctx, patches, [0, 2, 1], ctx.name(m, 'tokens')), ctx.param(m.pos_embedding_pos, ctx.name(m, 'pos_embedding_pos'), [1, oh * ow, c]), [-1, oh * ow, c], ctx.name(m, 'tokens_pos'));
  const spatial = transpose(ctx, ctx.emit(m.pos_transformer, tokens), [0, 2, 1], ctx.name(m, 'static_cl'));
  return binary(ctx, 'Add', reshape(ctx, spatial, [-1, c, oh, ow], ctx.name(m, 'static')), dynamic, dynamic.shape, ctx.name(m, 'fused'));
}

/** The encoder's last map of frames [N·T, C, H, W]: the own trunk, or a backbone's parts with
 *  the attention blocks after the attended ones (IalNetwork.frameMaps). */
function emitFrameMaps(ctx: ExportContext, net: IalNetwork, x: Value, frames: number): Value {
  if (net.encoder) {
    let h = x;
    const parts = net.encoder.parts!().length;
    for (let i = 0; i < parts; i++) {
      h = emitParts(ctx, net.encoder, h, i, i + 1);
      const attention = net.stageAttention.get(i);
      if (attention) h = emitAttention(ctx, attention.attn, h, frames);
    }
    return h;
  }
  let h = relu(ctx, ctx.emit(net.bn1!, ctx.emit(net.conv1!, x)), ctx.name(net, 'relu'));
  h = ctx.emit(net.maxpool, h);
  for (const stage of net.stages) h = emitStage(ctx, stage, h, frames);
  return h;
}

/** Frames [N·T, C, H, W] → frame tokens [N, T−1, tokenDim], channel-major as IalNetwork.forward,
 *  and the encoder's last map [N·T, C, H, W]. */
function emitTokens(ctx: ExportContext, net: IalNetwork, x: Value): { tokens: Value; map: Value } {
  const frames = net.o.frames;
  const map = emitFrameMaps(ctx, net, x, frames);
  return { tokens: reshape(ctx, emitFusion(ctx, net.dsf, map, frames), [-1, frames - 1, net.tokenDim], ctx.name(net, 'tokens')), map };
}

/** logits + the clip mean of the frame head's logits on the pooled map (IalModel.withFrameHead). */
function withFrameHead(ctx: ExportContext, m: IalModel, logits: Value, map: Value): Value {
  if (!m.fc) return logits;
  const net = m.s_former;
  const pooled = net.encoder ? emitPool(ctx, net.encoder, map) : globalAvgPool(ctx, map, ctx.name(net, 'avgpool'));
  const k = logits.shape[1]!;
  const perFrame = reshape(ctx, linear(ctx, m.fc, pooled), [-1, net.o.frames, k], ctx.name(m.fc, 'by_clip'));
  return add(ctx, logits, mean(ctx, perFrame, 1, false, ctx.name(m.fc, 'clip_mean')), 'logits_with_frames');
}

/** Tokens [M, L, D] + pos_embedding[:, :L] through the temporal transformer. */
function emitTemporal(ctx: ExportContext, net: IalNetwork, tokens: Value): Value {
  const [, l, d] = tokens.shape;
  const pos = ctx.param(net.pos_embedding, ctx.name(net, `pos_embedding_${l}`), [1, l, d], () => ctx.read(net.pos_embedding).slice(0, l * d));
  return ctx.emit(net.temporal_transformer, binary(ctx, 'Add', tokens, pos, tokens.shape, ctx.name(net, `tokens_pos_${l}`)));
}

// --- transformer ([B, n, D] values, TF.js layout) ---

registerLayerEmitter(Residual, (ctx, m, x) => add(ctx, x, ctx.emit(m.fn, x), ctx.name(m, 'add')));
registerLayerEmitter(PreNorm, (ctx, m, x) => ctx.emit(m.fn, ctx.emit(m.norm, x)));
registerLayerEmitter(FeedForward, (ctx, m, x) => ctx.emit(m.net, x));

registerLayerEmitter(Transformer, (ctx, m, x) => {
  let h = x;
  for (const [attn, ff] of m.layers) h = ctx.emit(ff, ctx.emit(attn, h));
  return h;
});

// softmax(q·kᵀ)·√d⁻¹ … as Attention.forward: heads as a 4-D batch [B, h, n, d]
registerLayerEmitter(Attention, (ctx, m, x) => {
  const [, n] = x.shape;
  const { heads: h, dimHead: d } = m;
  const inner = h * d;
  const qkv = ctx.emit(m.to_qkv, x);
  const part = (i: number, what: string, perm: number[]) => {
    const split = reshape(ctx, slice(ctx, qkv, 2, i * inner, (i + 1) * inner, ctx.name(m, what)), [-1, n, h, d], ctx.name(m, `${what}_heads`));
    return transpose(ctx, split, perm, ctx.name(m, `${what}_bh`));
  };
  const q = part(0, 'q', [0, 2, 1, 3]);
  const kt = part(1, 'k', [0, 2, 3, 1]);
  const v = part(2, 'v', [0, 2, 1, 3]);
  const scores = binary(ctx, 'Mul', ctx.g.node('MatMul', [q.name, kt.name], [-1, h, n, n], {}, ctx.name(m, 'qk')), constant(ctx, d ** -0.5, ctx.name(m, 'scale')), [-1, h, n, n], ctx.name(m, 'scores'));
  const mixed = ctx.g.node('MatMul', [softmax(ctx, scores, ctx.name(m, 'weights')).name, v.name], [-1, h, n, d], {}, ctx.name(m, 'mixed'));
  return ctx.emit(m.to_out, reshape(ctx, transpose(ctx, mixed, [0, 2, 1, 3], ctx.name(m, 'nhd')), [-1, n, inner], ctx.name(m, 'concat')));
});

// --- the model ---

/** [M, L, D] → [M, 1 + L, D] with the tokens' mean in front (NR-DFERNet's class token). */
function withMeanToken(ctx: ExportContext, tokens: Value, base: string): Value {
  const [m, l, d] = tokens.shape;
  return ctx.g.node('Concat', [mean(ctx, tokens, 1, true, `${base}/mean`).name, tokens.name], [m, l + 1, d], { axis: 1 }, base);
}

/** Token 0 of each sequence: [M, L, D] → [M, D]. */
function firstToken(ctx: ExportContext, seq: Value, base: string): Value {
  return reshape(ctx, slice(ctx, seq, 1, 0, 1, `${base}/slice`), [-1, seq.shape[2]], base);
}

/** The snippet filter (IalModel.filterNeutral): the neutral logit becomes −1000 for clips where
 *  some snippet has P(neutral) ≤ pNeutralMax and a top probability > pMaxMin. */
function filterNeutral(ctx: ExportContext, m: IalModel, tokens: Value, logits: Value, neutral: number): Value {
  const net = m.s_former;
  const { snippetSize: size, snippetStride: stride } = m.options;
  const [, l, d] = tokens.shape;
  const k = logits.shape[1];
  const starts: number[] = [];
  for (let s = 0; s + size <= l; s += stride) starts.push(s);
  // snippet-major [S·N, size, D], as the TF.js code stacks them
  const pieces = starts.map((s) => slice(ctx, tokens, 1, s, s + size, `snippets/${s}`).name);
  const snippets = ctx.g.node('Concat', pieces, [-1, size, d], { axis: 0 }, 'snippets');
  const seq = emitTemporal(ctx, net, withMeanToken(ctx, snippets, 'snippets/with_mean'));
  const probs = reshape(ctx, softmax(ctx, ctx.emit(m.fc_f, firstToken(ctx, seq, 'snippets/first')), 'snippets/probs'), [starts.length, -1, k], 'snippets/by_clip');
  const o = SNIPPET_FILTER_DEFAULTS;
  const pNeutral = slice(ctx, probs, 2, neutral, neutral + 1, 'snippets/p_neutral');
  const pMax = ctx.g.node('ReduceMax', [probs.name], [starts.length, -1, 1], { axes: [2], keepdims: 1 }, 'snippets/p_max');
  const low = ctx.g.node('LessOrEqual', [pNeutral.name, constant(ctx, o.pNeutralMax, 'snippets/p_neutral_max')], pNeutral.shape, {}, 'snippets/neutral_low');
  const sure = ctx.g.node('Greater', [pMax.name, constant(ctx, o.pMaxMin, 'snippets/p_max_min')], pMax.shape, {}, 'snippets/confident');
  const hit = ctx.g.node('Cast', [ctx.g.node('And', [low.name, sure.name], pMax.shape, {}, 'snippets/hit').name], pMax.shape, { to: 1 }, 'snippets/hit_float');
  const flagged = ctx.g.node('ReduceMax', [hit.name], [-1, 1], { axes: [0], keepdims: 0 }, 'snippets/any'); // [N, 1]: 0 or 1
  const column = new Array<number>(k).fill(0);
  column[neutral] = 1;
  const mask = binary(ctx, 'Mul', flagged, constant(ctx, column, 'snippets/neutral_column'), logits.shape, 'snippets/mask');
  // exact: logits·1 + 0 where the mask is 0, logits·0 − 1000 where it is 1
  const kept = binary(ctx, 'Mul', logits, binary(ctx, 'Sub', constant(ctx, 1, 'snippets/one'), mask, logits.shape, 'snippets/keep'), logits.shape, 'snippets/kept');
  return binary(ctx, 'Add', kept, binary(ctx, 'Mul', mask, constant(ctx, -1000, 'snippets/minus_1000'), logits.shape, 'snippets/suppressed'), logits.shape, 'logits_filtered');
}

export const ialOnnx = modelEmitter(IalModel, (ctx, m, x) => {
  const net = m.s_former;
  const { tokens, map } = emitTokens(ctx, net, x);
  if (m.options.variant === 'ial') {
    const embedding = mean(ctx, emitTemporal(ctx, net, tokens), 1, false, 'embedding_mean');
    return { logits: withFrameHead(ctx, m, ctx.emit(m.fc_f, embedding), map), embedding };
  }
  const embedding = firstToken(ctx, emitTemporal(ctx, net, withMeanToken(ctx, tokens, 'with_mean')), 'class_token');
  const logits = withFrameHead(ctx, m, ctx.emit(m.fc_f, embedding), map);
  const neutral = m.config.classes.indexOf('neutral');
  if (!m.options.snippetFilter || neutral < 0) return { logits, embedding };
  return { logits: filterNeutral(ctx, m, tokens, logits, neutral), embedding };
});
