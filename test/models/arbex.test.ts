// ARBEx as a ferkit method: the spec's golden values (methods.md §3.7) through the model's own
// head, anchors and attention with fixed weights; the attention against PyTorch's SelfAttn (cross-
// batch and per-sample, test/models/golden/arbex_attention.py); the objective with its trust ramp;
// shapes, gradients to every parameter, and a save/load round trip.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';
import { loadTorchStateDict } from '../../src/nn/torch-layout.js';
import { methods } from '../../src/models/all-methods.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { disposeOutput, type ModelConfig } from '../../src/models/model.js';
import { ArbexModel } from '../../src/models/arbex/model.js';
import { ArbexObjective } from '../../src/models/arbex/objective.js';
import { IDENTITY, asInput } from './identity-backbone.js';
import { createConfig } from '../../src/models/config.js';

const close = (got: number, want: number, tol = 1e-5, what = '') => assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);
const closeAll = (got: ArrayLike<number>, want: number[], tol = 1e-5, what = '') => want.forEach((w, i) => close(got[i], w, tol, `${what}[${i}]`));
const CLASSES7 = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const CLASSES3 = ['happy', 'sad', 'neutral'];

before(async () => {
  await initEngine('wasm');
});

function config(methodOptions: Record<string, unknown> = {}, over: Partial<ModelConfig> = {}): ModelConfig {
  return { ...createConfig('arbex', { classes: CLASSES7, backboneOptions: { stages: [[4], [8]] }, methodOptions: { hiddenSizes: [6], anchors: 2, ...methodOptions }, size: 12 }), ...over };
}

/** The spec's toy (C = 3, K = 2, D = 2) on the identity backbone: toy anchors, a one-layer head
 *  whose bias is log p (weights 0), and an attention whose out-projection bias is log a. */
function toyModel(methodOptions: Record<string, unknown> = {}): ArbexModel {
  const cfg = config({ hiddenSizes: [], anchors: 2, ...methodOptions }, { backbone: IDENTITY, backboneOptions: { dim: 2 }, classes: CLASSES3 });
  const model = createModel(cfg, new Rng(1)) as ArbexModel;
  model.anchors.assign(tf.tensor3d([[[0, 0], [1, 0]], [[0, 2], [0, 3]], [[3, 0], [3, 1]]]));
  const head = model.head.net.get(0) as unknown as { weight: tf.Variable; bias: tf.Variable };
  head.weight.assign(tf.zeros([2, 3]));
  head.bias.assign(tf.tensor1d([0.6, 0.3, 0.1].map(Math.log)));
  const out = model.attn.attnFn.outProj;
  out.weight.assign(tf.zeros([3, 3]));
  out.bias!.assign(tf.tensor1d([0.2, 0.5, 0.3].map(Math.log)));
  return model;
}

const E = () => asInput([[1, 1]]);
const conf = (p: number[]) => 1 + p.reduce((s, x) => s + x * Math.log(x), 0) / Math.log(p.length);

describe('ARBEx model: golden values through its own head, anchors and attention (methods.md §3.7)', () => {
  it('anchor similarities for e = (1, 1): δ = 1 and δ = 0.5', () => {
    for (const [delta, want] of [[1, [0.5078076, 0.2908855, 0.2013068]], [0.5, [0.6597748, 0.2393169, 0.1009084]]] as const) {
      const model = toyModel({ delta });
      const out = model.forward(E(), false);
      closeAll(out.extras!.anchorSimilarity.dataSync(), [...want], 1e-5, `s at δ=${delta}`);
    }
  });

  it('reliability balancing: c, c_g, c_a and the balanced distribution at test trust 0, 0.5, 1; confidence of the prediction', () => {
    const golden: Array<[number, number[]]> = [[0, [0.6, 0.3, 0.1]], [0.5, [0.5010546, 0.3378993, 0.1610462]], [1, [0.4021091, 0.3757986, 0.2220923]]];
    for (const [testTrust, want] of golden) {
      const out = toyModel({ testTrust }).forward(E(), false);
      closeAll(out.extras!.headProbs.dataSync(), [0.6, 0.3, 0.1], 1e-6, 'p');
      closeAll(out.extras!.attention.dataSync(), [0.2, 0.5, 0.3], 1e-6, 'a');
      close(out.extras!.headConfidence.dataSync()[0], 0.1826546, 1e-5, 'c');
      close(out.extras!.anchorConfidence.dataSync()[0], 0.0661039, 1e-5, 'c_g');
      close(out.extras!.attentionConfidence.dataSync()[0], 0.0627694, 1e-5, 'c_a');
      closeAll(out.probs!.dataSync(), want, 1e-5, `p_final at trust ${testTrust}`);
      close(out.confidence!.dataSync()[0], conf(want), 1e-5, 'confidence of p_final');
    }
  });

  it('objective: the trust ramps 0 → 0.5 → 1 over trustSteps = 2; NLL + t·(anchor −19.0918831 + center 0.1291563)', () => {
    const model = toyModel();
    model.train();
    const obj = methods.get('arbex').create.createObjective(model, { trustSteps: 2 }) as ArbexObjective;
    const batch = { x: E(), y: tf.tensor1d([0], 'int32'), index: Int32Array.from([5]), epoch: 0 };
    const want = [-Math.log(0.6), -Math.log(0.5010546) + 0.5 * (-19.0918831 + 0.1291563), -Math.log(0.4021091) - 19.0918831 + 0.1291563];
    want.forEach((w, step) => close(obj.loss(model, batch).dataSync()[0], w, 2e-5, `loss at step ${step}`));
    // Resuming from the saved step continues the ramp where it was.
    const resumed = methods.get('arbex').create.createObjective(model, { trustSteps: 4 }) as ArbexObjective;
    resumed.loadState(JSON.parse(JSON.stringify(obj.state())));
    assert.equal(resumed.trust, 0.75);
    assert.throws(() => resumed.loadState({ step: -1 }), /step must be a non-negative integer/);
  });

  it("center loss: its confidence weight sends gradient to the head ('graph', reference) or none ('detached')", () => {
    const model = toyModel();
    const head = model.head.net.get(0) as unknown as { bias: tf.Variable };
    const batch = { x: E(), y: tf.tensor1d([0], 'int32'), index: Int32Array.from([0]), epoch: 0 };
    const grad = (centerConfidence: string) => {
      const obj = methods.get('arbex').create.createObjective(model, { trust: 1, lambdaCls: 0, lambdaAnchor: 0, centerConfidence });
      const { value, grads } = tf.variableGrads(() => obj.loss(model, batch), [head.bias, model.anchors]);
      close(value.dataSync()[0], 0.1291563, 1e-5, `center loss (${centerConfidence})`);
      return { head: grads[head.bias.name].arraySync() as number[], anchors: tf.sum(tf.abs(grads[model.anchors.name])).dataSync()[0] };
    };
    const graph = grad('graph');
    const detached = grad('detached');
    // d(c·d_min/√D)/d bias_k = (d_min/√D)·dc/d bias_k with dc/dz_k = p_k(ln p_k + H)/ln C.
    const p = [0.6, 0.3, 0.1];
    const h = -p.reduce((a, x) => a + x * Math.log(x), 0);
    closeAll(graph.head, p.map((x) => ((1.0 / Math.SQRT2) * x * (Math.log(x) + h)) / Math.log(3)), 1e-5, 'graph: head gradient');
    assert.deepEqual(detached.head, [0, 0, 0]);
    close(detached.anchors, graph.anchors, 1e-6, 'the anchors get the same pull either way');
    assert.ok(graph.anchors > 0);
  });

  it('class-weighted NLL with counts [50, 30, 20]: 1.1974583', () => {
    const model = toyModel();
    const head = model.head.net.get(0) as unknown as { weight: tf.Variable; bias: tf.Variable };
    // e = (1, 0) and (0, 1) pick the rows of log p: [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]].
    head.weight.assign(tf.tensor2d([[0.6, 0.3, 0.1].map(Math.log), [0.2, 0.2, 0.6].map(Math.log)]));
    head.bias.assign(tf.zeros([3]));
    const obj = methods.get('arbex').create.createObjective(model, { trust: 0, classCounts: [50, 30, 20] });
    const loss = obj.loss(model, { x: asInput([[1, 0], [0, 1]]), y: tf.tensor1d([0, 1], 'int32'), index: Int32Array.from([0, 1]), epoch: 0 });
    close(loss.dataSync()[0], 1.1974583, 1e-5, 'weighted NLL');
  });
});

describe('ARBEx attention against PyTorch SelfAttn (C = 3, Ka = 2, D = 5, 2 heads)', () => {
  const w = (rows: number, cols: number, s: number) => tf.tensor2d(Array.from({ length: rows * cols }, (_, k) => 0.5 * Math.sin(0.9 * Math.floor(k / cols) + 1.7 * (k % cols) + s)), [rows, cols]);
  const b = (n: number, s: number) => tf.tensor1d(Array.from({ length: n }, (_, o) => 0.1 * Math.cos(1.3 * o + s)));
  const x = () => asInput(Array.from({ length: 3 }, (_, r) => Array.from({ length: 5 }, (_, j) => Math.sin(0.5 * r + 0.8 * j) + 0.2 * j)));
  const model = (attentionMode: string) => {
    const m = createModel(config({ hiddenSizes: [], attentionSlots: 2, attentionHeads: 2, attentionMode }, { backbone: IDENTITY, backboneOptions: { dim: 5 }, classes: CLASSES3 }), new Rng(2)) as ArbexModel;
    loadTorchStateDict(m.attn, {
      'Q.weight': w(6, 5, 0.1), 'Q.bias': b(6, 0.1), 'K.weight': w(6, 5, 0.2), 'K.bias': b(6, 0.2), 'V.weight': w(6, 5, 0.3), 'V.bias': b(6, 0.3),
      'attn_fn.in_proj_weight': w(18, 6, 0.4), 'attn_fn.in_proj_bias': b(18, 0.4), 'attn_fn.out_proj.weight': w(6, 6, 0.5), 'attn_fn.out_proj.bias': b(6, 0.5),
    });
    return m;
  };

  it("'batch' mode: the reference's cross-sample attention", () => {
    const a = model('batch').forward(x(), false).extras!.attention.arraySync() as number[][];
    const want = [[0.2559756541867849, 0.33666674016033105, 0.407357605652884], [0.2558980292943782, 0.336702700977616, 0.40739926972800566], [0.2558819857550077, 0.33671451201220104, 0.40740350223279115]];
    want.forEach((row, i) => closeAll(a[i], row, 2e-6, `a[${i}]`));
  });

  it("'sample' mode: the reference run one sample at a time", () => {
    const a = model('sample').forward(x(), false).extras!.attention.arraySync() as number[][];
    const want = [[0.27393630088935605, 0.3306703600826313, 0.3953933390280125], [0.25249951262423465, 0.33833513013892946, 0.4091653572368359], [0.24243256328836593, 0.34076707913191107, 0.4168003575797231]];
    want.forEach((row, i) => closeAll(a[i], row, 2e-6, `a[${i}]`));
  });

  it('batch mixing: changing sample 2 moves sample 0 in batch mode, never in sample mode', () => {
    const moved = tf.add(x(), tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5], [3, 1, 5, 1]));
    for (const mode of ['batch', 'sample']) {
      const m = model(mode);
      const a0 = (m.forward(x(), false).extras!.attention.arraySync() as number[][])[0];
      const a1 = (m.forward(moved, false).extras!.attention.arraySync() as number[][])[0];
      const diff = Math.max(...a0.map((v, i) => Math.abs(v - a1[i])));
      if (mode === 'batch') assert.ok(diff > 1e-4, `batch mode: sample 0 moved by ${diff}`);
      else assert.equal(diff, 0, 'sample mode is batch-independent');
    }
  });
});

describe('ARBEx model on a real backbone', () => {
  it('shapes: logits, probs [N, 7] with rows summing to 1, confidence [N] in [0, 1], embedding [N, featureDim]', () => {
    const model = createModel(config({ anchorInit: 'normal', anchorStd: 0.5 }), new Rng(3)) as ArbexModel;
    const out = model.forward(tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 5), false);
    assert.deepEqual(out.logits.shape, [4, 7]);
    assert.deepEqual(out.probs!.shape, [4, 7]);
    assert.deepEqual(out.embedding!.shape, [4, 8]);
    assert.deepEqual(out.confidence!.shape, [4]);
    for (const s of tf.sum(out.probs!, 1).dataSync()) close(s, 1, 1e-5, 'row sum');
    for (const c of out.confidence!.dataSync()) assert.ok(c >= 0 && c <= 1, `confidence ${c}`);
    const parts = model.balance(tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 5), 0.5, false);
    assert.deepEqual(parts.distances.shape, [4, 7, 2]);
    assert.deepEqual(model.anchors.shape, [7, 2, 8]);
  });

  it('the objective gradient reaches every trainable parameter (batch mode; sample mode leaves only the query/key path unused)', () => {
    const batch = { x: tf.randomNormal([6, 12, 12, 1], 0, 1, 'float32', 6), y: tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), index: Int32Array.from([0, 1, 2, 3, 4, 5]), epoch: 0 };
    for (const attentionMode of ['batch', 'sample']) {
      const model = createModel(config({ anchorInit: 'normal', anchorStd: 0.5, attentionMode, headDropout: 0 }), new Rng(4)) as ArbexModel;
      model.train();
      const obj = methods.get('arbex').create.createObjective(model, { trust: 0.5 });
      const { value, grads } = tf.variableGrads(() => obj.loss(model, batch), model.trainableParameters());
      assert.ok(Number.isFinite(value.dataSync()[0]));
      const zero = model.namedParameters().filter(([, v]) => !grads[v.name] || !(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0)).map(([n]) => n);
      assert.deepEqual(zero, attentionMode === 'batch' ? [] : ['attn.Q.weight', 'attn.Q.bias', 'attn.K.weight', 'attn.K.bias'], `${attentionMode}: zero gradients for ${zero}`);
      if (attentionMode === 'sample') {
        // Of the packed in-projection only the value third is used.
        const g = grads[model.attn.attnFn.inProjWeight.name].arraySync() as number[][];
        assert.ok(g.every((row) => row.slice(0, 14).every((v) => v === 0) && row.slice(14).some((v) => v !== 0)));
      }
    }
  });

  it('save/load through io.ts gives identical probabilities and confidences', async () => {
    const model = createModel(config({ anchorInit: 'normal', anchorStd: 0.5, attentionMode: 'batch' }), new Rng(7)) as ArbexModel;
    for (let i = 0; i < 2; i++) model.forward(tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 10 + i), true);
    model.eval();
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-arbex-'));
    try {
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      assert.ok(loaded instanceof ArbexModel);
      assert.equal(loaded.options.attentionMode, 'batch');
      const x = tf.randomNormal([3, 12, 12, 1], 0, 1, 'float32', 9);
      const a = model.forward(x, false);
      const b = loaded.forward(x, false);
      assert.deepEqual(Array.from(b.probs!.dataSync()), Array.from(a.probs!.dataSync()));
      assert.deepEqual(Array.from(b.confidence!.dataSync()), Array.from(a.confidence!.dataSync()));
      assert.deepEqual(Array.from(b.logits.dataSync()), Array.from(a.logits.dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forward and the objective leave no tensors behind', () => {
    const model = createModel(config(), new Rng(9)) as ArbexModel;
    const obj = methods.get('arbex').create.createObjective(model, { trust: 0.5 });
    const x = tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 12);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    for (const training of [true, false]) {
      const n0 = tf.memory().numTensors;
      disposeOutput(model.forward(x, training));
      assert.equal(tf.memory().numTensors, n0, `forward (training=${training})`);
    }
    model.train();
    const n0 = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => obj.loss(model, { x, y, index: Int32Array.from([0, 1, 2, 3]), epoch: 0 }));
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, n0, 'loss and gradients');
  });

  it('rejects bad options by name', () => {
    assert.throws(() => createModel(config({ attentionMode: 'both' })), /option attentionMode must be one of batch, sample/);
    assert.throws(() => createModel(config({ attentionSlots: 1, attentionHeads: 2 })), /2 heads do not divide the 7-d embedding/);
    const model = createModel(config(), new Rng(1));
    assert.throws(() => methods.get('arbex').create.createObjective(model, { trustSteps: 0 }), /option trustSteps must be a positive integer/);
  });
});
