// The pattern-map method: shapes (the spec's 7x7 mask / 49-step sequence, 128-d embedding, map at
// the input size), layers and losses against numpy/PyTorch values, which parameters each of the
// three training steps moves (frozen parts get no gradient), save/load, and a short real run on
// FER2013 faces whose losses fall.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { readImages } from '../../src/data/registry.js';
import { BASIC7, type ImageSample } from '../../src/data/types.js';
import { methods } from '../../src/models/all-methods.js';
import { bundledModelDir, loadModel, saveModel } from '../../src/models/io.js';
import type { ModelConfig } from '../../src/models/model.js';
import { ConvTranspose2d, ElmanRefiner, decoderPlan } from '../../src/models/patternmap/layers.js';
import { efeLoss, emrLoss, epmgLoss, greyTarget, lossWeights, maskLoss, patternLoss } from '../../src/models/patternmap/losses.js';
import { PatternMapModel } from '../../src/models/patternmap/model.js';
import { initFromModel, patternMapSchedule, stepGroups } from '../../src/models/patternmap/phases.js';
import { leadingConvParams } from '../../src/models/patternmap/layers.js';
import { manualSeed } from '../../src/nn/random.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import { optimizers } from '../../src/train/optim.js';
import { groupStep } from '../../src/train/step.js';
import { train, type EpochRecord, type TrainerOptions } from '../../src/train/trainer.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { createConfig } from '../../src/models/config.js';

/** The trainer's epoch record of pattern-map's three phases. */
type StepRecord = EpochRecord & { efe: number; emr: number; epmg: number; parts: Record<string, number> };

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const closeAll = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
};

before(async () => {
  await initEngine('wasm');
});

/** A small model: fer-cnn stages of 4-8 channels at 28x28 → a 7x7 grid, as the spec's. */
function smallConfig(classes = CLASSES, over: Record<string, unknown> = {}): ModelConfig {
  return createConfig('patternmap', {
    classes,
    backboneOptions: { widthMultiplier: 1, stages: [[4, 4], [6, 6], [8, 8]] },
    methodOptions: { embeddingDim: 12, encoderHidden: 10, classifierHidden: 8, decoderChannels: [8, 6, 4, 3, 2, 2, 1], ...over },
    size: 28,
  });
}

describe('pattern-map model', () => {
  it('default FER2013 model: 7x7 mask (49-step refiner), 16-d h_n, 128-d embedding, 56x56 one-channel map', () => {
    const m = methods.get('patternmap').create.createModel(createConfig('patternmap', { classes: CLASSES }), manualSeed(0)) as PatternMapModel;
    const x = tf.randomNormal([2, 56, 56, 1], 0, 1, 'float32', 1);
    const out = m.forward(x, false);
    assert.equal(m.grid, 7);
    assert.deepEqual(out.logits.shape, [2, 7]);
    assert.deepEqual(out.embedding!.shape, [2, 128]);
    assert.deepEqual(out.extras!.mask.shape, [2, 7, 7]);
    assert.deepEqual(out.extras!.rawMask.shape, [2, 7, 7]);
    assert.deepEqual(out.extras!.patternMap.shape, [2, 56, 56, 1]);
    assert.deepEqual(m.emr(out.extras!.rawMask as tf.Tensor3D).hN.shape, [2, 16]);
    for (const k of ['mask', 'rawMask', 'patternMap'] as const) {
      const v = out.extras![k].dataSync();
      assert.ok(v.every((a) => a > 0 && a < 1), `${k} in (0,1)`);
    }
    const e = out.embedding!.dataSync();
    assert.ok(e.every((a) => a > 0 && a < 1), 'embedding is a sigmoid output');
    tf.dispose([x, out.logits, out.embedding!, ...Object.values(out.extras!)]);
    m.dispose();
  });

  it('encoderNorm batch: a BatchNorm before the EPMG encoder, trained in step 3, keeps the embedding out of saturation on large trunk features', () => {
    const plain = new PatternMapModel(smallConfig(), manualSeed(3));
    const normed = new PatternMapModel(smallConfig(CLASSES, { encoderNorm: 'batch' }), manualSeed(3));
    assert.equal(plain.encoder.norm, undefined);
    const gamma = normed.encoder.norm!.parameters();
    assert.ok(gamma.length > 0 && gamma.every((v) => normed.groupParams('epmg').includes(v)), "the norm's parameters are step 3's");
    assert.ok(!gamma.some((v) => normed.groupParams('efe').includes(v)));
    // Masked features as a trunk without BatchNorm gives them (face-api's expression net: up to ~300).
    const gms = tf.tidy(() => tf.mul(tf.relu(tf.randomNormal([8, 7, 7, 8], 0, 1, 'float32', 4)), 300)) as tf.Tensor4D;
    const saturated = (m: PatternMapModel) =>
      tf.tidy(() => {
        m.train(true);
        const e = m.epmg(gms).embedding.dataSync();
        return e.filter((v) => v < 0.01 || v > 0.99).length / e.length;
      });
    const [p, n] = [saturated(plain), saturated(normed)];
    assert.ok(p > 0.5, `without the norm most of the embedding saturates (${p})`);
    assert.ok(n < 0.1, `with it little does (${n})`);
    assert.throws(() => new PatternMapModel(smallConfig(CLASSES, { encoderNorm: 'layer' })), /option encoderNorm must be one of none, batch/);
    gms.dispose();
    plain.dispose();
    normed.dispose();
  });

  it('decoder plan reaches the input size: 56 = 7·2³, 48 = 3·2⁴, 224 = 7·2⁵', () => {
    const size = (side: number) => decoderPlan(side, 7).reduce((n, l) => (n - 1) * l.stride - 2 * l.padding + l.kernel, 1);
    for (const side of [28, 48, 56, 224]) assert.equal(size(side), side);
    assert.deepEqual(decoderPlan(56, 7).map((l) => l.kernel), [7, 4, 4, 4, 3, 3, 3]);
  });

  it('ConvTranspose2d equals torch conv_transpose2d (k4, s2, p1)', () => {
    const l = new ConvTranspose2d(2, 3, 4, 2, 1, manualSeed(0));
    // torch weight W[in, out, kh, kw] = 0.5·sin(1 + a + 2b + 3i + 5j) → TF [kh, kw, out, in].
    const w = new Float32Array(4 * 4 * 3 * 2);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let b = 0; b < 3; b++) for (let a = 0; a < 2; a++) w[((i * 4 + j) * 3 + b) * 2 + a] = 0.5 * Math.sin(1 + a + 2 * b + 3 * i + 5 * j);
    l.weight.assign(tf.tensor4d(w, [4, 4, 3, 2]));
    l.bias.assign(tf.tensor1d([0.1, -0.2, 0.3]));
    const x = tf.tensor4d(Array.from({ length: 18 }, (_, k) => { const h = Math.floor(k / 6), wc = Math.floor(k / 2) % 3, c = k % 2; return Math.cos(c + 2 * h + 3 * wc); }), [1, 3, 3, 2]);
    const y = l.forward(x);
    assert.deepEqual(y.shape, [1, 6, 6, 3]);
    const v = y.dataSync();
    const got: number[] = [];
    for (let c = 0; c < 3; c++) for (const h of [0, 2, 4]) for (const wc of [0, 3]) got.push(v[(h * 6 + wc) * 3 + c]);
    const torch = [0.15909131229364157, -1.3276723944647948, 0.5309040140763273, -0.31886336127296055, -0.10464497022646044, 1.7677740458635995, -0.8449508957063674, 0.3702253398866813, -0.40990585462711177, -0.7996325970428362, 0.6224930185570952, -0.6797961863391315, 0.7776972376592599, 1.253077451839072, 0.04379930067526655, 1.2179337779728079, -0.17991076528282995, -0.968442715598774];
    closeAll(got, torch, 1e-5, 'conv_transpose2d');
    tf.dispose([x, y]);
    l.dispose();
  });

  it('Elman refiner equals the numpy recurrence', () => {
    const r = new ElmanRefiner(3, manualSeed(0));
    r.wh.assign(tf.tensor2d([[0.5, -0.3, 0.8]]));
    r.uh.assign(tf.tensor2d([[0.1, 0.2, -0.1], [0.0, -0.4, 0.3], [0.25, 0.05, 0.15]]));
    r.bh.assign(tf.tensor1d([0.05, -0.02, 0.1]));
    r.wy.assign(tf.tensor2d([[0.7], [-0.6], [0.4]]));
    r.by.assign(tf.tensor1d([0.1]));
    const seq = tf.tensor2d([[0.2, 0.9, 0.4, 0.6], [0.8, 0.1, 0.5, 0.3]]);
    const { refined, hN } = r.forward(seq);
    closeAll(refined.dataSync(), [0.5875473914019324, 0.7031490020977224, 0.6251237952348254, 0.671129139017391, 0.6898813559307224, 0.5660707163817127, 0.6561337299665698, 0.607402948388757], 1e-6, 'refined');
    closeAll(hN.dataSync(), [0.4542308905410411, -0.1254451410414041, 0.550169285257306, 0.3444986142343244, 0.05269969314808584, 0.31719855182381324], 1e-6, 'h_n');
    tf.dispose([seq, refined, hN]);
    r.dispose();
  });
});

describe('pattern-map losses', () => {
  it('L_mask / L_pattern: Σ squared error per sample, mean over the batch (numpy: 0.13)', () => {
    const M = tf.tensor3d([[[0.1, 0.5], [0.9, 0.3]], [[0.6, 0.2], [0.4, 0.8]]]);
    const Mp = tf.tensor3d([[[0.2, 0.4], [0.7, 0.3]], [[0.5, 0.5], [0.1, 0.9]]]);
    closeAll([maskLoss(M, Mp).dataSync()[0]], [0.13], 1e-6, 'mask');
    closeAll([patternLoss(tf.reshape(M, [2, 2, 2, 1]), tf.reshape(Mp, [2, 2, 2, 1])).dataSync()[0]], [0.13], 1e-6, 'pattern');
  });

  it('grey target: the un-normalised input, RGB through ITU-R 601 luma', () => {
    const input = { kind: 'image' as const, size: [1, 2] as [number, number], channels: 3 as const, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
    const x = tf.tensor4d([-1.5, 0, 1, 2.5, -1.6, 2 / 3], [1, 1, 2, 3]);
    closeAll(greyTarget(x, input).dataSync(), [0.363, 0.356], 1e-6, 'luma');
    const g = tf.tensor4d([-2, 0, 2], [1, 1, 3, 1]);
    closeAll(greyTarget(g, { ...input, channels: 1, mean: [0.5], std: [0.25] }).dataSync(), [0, 0.5, 1], 1e-6, 'grey');
  });

  it("weights: the seed code by default, the paper's per-dataset values on request (CK+/AffectNet: small decoder weights), overrides checked", () => {
    assert.deepEqual([lossWeights().l1, lossWeights().l2, lossWeights().l3, lossWeights().l4, lossWeights().l5], [2, 100, 100, 60, 40]);
    const a = lossWeights({ weights: 'affectnet', l7: 3 });
    assert.deepEqual([a.l2, a.l3, a.l4, a.l5, a.l7], [1e-2, 1e-2, 1e-4, 1e-4, 3]);
    assert.throws(() => lossWeights({ l4: -1 }), /option l4 must be a non-negative number/);
    assert.deepEqual(lossWeights({ weights: 'ckplus' }), lossWeights({ weights: 'affectnet' }), "the paper gives CK+ and AffectNet the same values");
    assert.deepEqual(lossWeights({ weights: 'code' }), lossWeights());
    assert.throws(() => lossWeights({ weights: 'ck+' }), /option weights must be one of code, ckplus, affectnet \(/);
  });

  it('L_EMR and L_EPMG are the weighted sums of their terms; terms match their definitions', () => {
    const m = new PatternMapModel(smallConfig(), manualSeed(2));
    const x = tf.randomNormal([14, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = Int32Array.from({ length: 14 }, (_, i) => i % 7);
    const w = { ...lossWeights(), l1: 1.5, l2: 3, l3: 7, l4: 0.5, l5: 2, l6: 5, l7: 0.25 };
    const p: Record<string, number> = {};
    const emr = emrLoss(m, x, labels, w, p).dataSync()[0];
    closeAll([emr], [1.5 * p.efe + 3 * p.mask + 7 * p.h], 1e-3 * Math.abs(emr), 'L_EMR');
    closeAll([p.efe], [efeLoss(m, x, tf.tensor1d(labels, 'int32')).dataSync()[0]], 1e-5, 'L_EFE term');
    const efe = m.efe(x);
    const { refined } = m.emr(efe.mask);
    closeAll([p.mask], [maskLoss(efe.mask, refined).dataSync()[0]], 1e-5, 'L_mask term');
    const grey = greyTarget(x, m.config.input);
    const q: Record<string, number> = {};
    const epmg = epmgLoss(m, efe.gms, grey, labels, w, q).dataSync()[0];
    closeAll([epmg], [5 * q.embed + 0.25 * q.classify + 0.5 * q.pattern + 2 * q.sim], 1e-3 * Math.abs(epmg), 'L_EPMG');
    const map = m.epmg(efe.gms).patternMap;
    closeAll([q.pattern], [maskLoss(map, grey).dataSync()[0]], 1e-3, 'L_pattern term');
    m.dispose();
  });
});

describe('pattern-map training steps', () => {
  const snapshot = (vars: tf.Variable[]) => vars.map((v) => Float32Array.from(v.dataSync()));
  const moved = (vars: tf.Variable[], before: Float32Array[]) => vars.map((v, i) => v.dataSync().some((a, k) => a !== before[i][k]));

  it('freezes the first five trunk convs with their BatchNorms: conv1..conv5 of fer-cnn', () => {
    const m = new PatternMapModel(smallConfig(), manualSeed(0));
    const frozen = leadingConvParams(m.backbone, 5);
    const names = m.backbone.namedParameters().filter(([, v]) => frozen.has(v)).map(([n]) => n);
    assert.deepEqual(names, ['stage1.0.conv.weight', 'stage1.0.bn.weight', 'stage1.0.bn.bias', 'stage1.1.conv.weight', 'stage1.1.bn.weight', 'stage1.1.bn.bias', 'stage2.0.conv.weight', 'stage2.0.bn.weight', 'stage2.0.bn.bias', 'stage2.1.conv.weight', 'stage2.1.bn.weight', 'stage2.1.bn.bias', 'stage3.0.conv.weight', 'stage3.0.bn.weight', 'stage3.0.bn.bias']);
    m.dispose();
  });

  it('each step moves only its own parameters; step 3 sends no gradient into the EFE', () => {
    const m = new PatternMapModel(smallConfig(), manualSeed(4));
    const s = patternMapSchedule({});
    const g = stepGroups(m, s);
    const x = tf.randomNormal([14, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const labels = Int32Array.from({ length: 14 }, (_, i) => i % 7);
    const y = tf.tensor1d(labels, 'int32');
    const efe = m.groupParams('efe');
    const emr = m.groupParams('emr');
    const epmg = m.groupParams('epmg');
    const frozen = leadingConvParams(m.backbone, 5);
    const all = m.parameters();
    const opt = optimizers.get('sgd').create(all, { lr: 0.05 });

    // Step 1: gradients reach every EFE parameter and nothing else.
    const { value, grads } = tf.variableGrads(() => efeLoss(m, x, y), all);
    assert.deepEqual(new Set(Object.keys(grads)), new Set(efe.map((v) => v.name)));
    for (const v of efe) assert.ok(grads[v.name].abs().max().dataSync()[0] > 0, `step 1 gradient of ${v.name}`);
    tf.dispose([value, ...Object.values(grads)]);
    let before = snapshot(all);
    groupStep(g.efe, () => efeLoss(m, x, y), opt);
    assert.deepEqual(moved(all, before), all.map((v) => efe.includes(v)));

    // Step 2: EFE (less the frozen convs) and EMR move; frozen convs and EPMG do not.
    before = snapshot(all);
    groupStep(g.emr, () => emrLoss(m, x, labels, s.weights), opt);
    assert.deepEqual(moved(all, before), all.map((v) => (efe.includes(v) && !frozen.has(v)) || emr.includes(v)));

    // Step 3: masked features computed outside the tape; no gradient path into the EFE.
    const f = m.efe(x, false);
    const grey = greyTarget(x, m.config.input);
    const r = tf.variableGrads(() => epmgLoss(m, f.gms, grey, labels, s.weights), all);
    assert.deepEqual(new Set(Object.keys(r.grads)), new Set(epmg.map((v) => v.name)));
    tf.dispose([r.value, ...Object.values(r.grads)]);
    before = snapshot(all);
    groupStep(g.epmg, () => epmgLoss(m, f.gms, grey, labels, s.weights), opt);
    assert.deepEqual(moved(all, before), all.map((v) => epmg.includes(v)));
    m.dispose();
  });

  it('clips each group on its own: after clipping, a group with a huge gradient moves by at most lr·maxNorm', () => {
    const m = new PatternMapModel(smallConfig(), manualSeed(6));
    const s = patternMapSchedule({ clipEfe: 1e-3, clipEmr: 1e-3 });
    const g = stepGroups(m, s);
    const x = tf.randomNormal([14, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const labels = Int32Array.from({ length: 14 }, (_, i) => i % 7);
    const opt = optimizers.get('sgd').create(m.parameters(), { lr: 1 });
    for (const group of g.emr) {
      const before = snapshot(group.vars);
      groupStep([group], () => tf.mul(emrLoss(m, x, labels, s.weights), 1e4) as tf.Scalar, opt);
      const step = Math.sqrt(group.vars.reduce((acc, v, i) => acc + (v.dataSync() as Float32Array).reduce((a: number, b: number, k: number) => a + (b - before[i][k]) ** 2, 0), 0));
      assert.ok(step <= 1e-3 * 1.01 && step > 1e-4, `update norm ${step}`);
    }
    m.dispose();
  });
});

describe('pattern-map joint objective (generic trainer)', () => {
  it('is L_EFE + L_EMR + L_EPMG and reaches every module', () => {
    const m = new PatternMapModel(smallConfig(), manualSeed(10));
    const x = tf.randomNormal([14, 28, 28, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const labels = Int32Array.from({ length: 14 }, (_, i) => i % 7);
    const y = tf.tensor1d(labels, 'int32');
    const w = lossWeights({ l4: 0.01, l5: 0.01 });
    const obj = methods.get('patternmap').create.createObjective(m, { l4: 0.01, l5: 0.01 });
    m.eval(); // no BatchNorm statistics change between the two evaluations
    const got = obj.loss(m, { x, y, index: new Int32Array(14), epoch: 0 }).dataSync()[0];
    const efe = m.efe(x);
    const want = efeLoss(m, x, y).dataSync()[0] + emrLoss(m, x, labels, w).dataSync()[0] + epmgLoss(m, efe.gms, greyTarget(x, m.config.input), labels, w).dataSync()[0];
    closeAll([got], [want], 1e-4 * want, 'joint loss');
    const { value, grads } = tf.variableGrads(() => obj.loss(m, { x, y, index: new Int32Array(14), epoch: 0 }), m.parameters());
    for (const g of ['efe', 'emr', 'epmg'] as const) for (const v of m.groupParams(g)) assert.ok(grads[v.name], `gradient reaches ${v.name}`);
    tf.dispose([value, ...Object.values(grads)]);
    m.dispose();
  });
});

describe('pattern-map save/load and training', () => {
  it('saves and loads through the model folder with identical outputs', async () => {
    const dir = tempDir('pm-io');
    const m = new PatternMapModel(smallConfig(), manualSeed(8));
    await saveModel(dir, m);
    const back = await loadModel(dir);
    const x = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 9);
    const a = m.forward(x, false);
    const b = back.forward(x, false);
    for (const [k, t] of [['logits', a.logits], ['embedding', a.embedding!], ...Object.entries(a.extras!)] as [string, tf.Tensor][]) {
      const u = k === 'logits' ? b.logits : k === 'embedding' ? b.embedding! : b.extras![k];
      closeAll(u.dataSync(), t.dataSync(), 1e-6, k);
    }
    m.dispose();
    back.dispose();
  });

  it("refuses the generic trainer's --init, --iterations and --clip-grad-norm, naming its own form, and --cache-frozen", async () => {
    const config = smallConfig(['happy', 'surprise']);
    const base = {
      config,
      train: { store: await loadSampleStore([], config.input), labels: new Int32Array(0) },
      outDir: tempDir('pm-refuse'),
      epochs: 1,
      batchSize: 2,
      optimizer: { name: 'adam', lr: 0 },
      schedule: { name: 'constant' },
      workers: 1,
      seed: 0,
    };
    await assert.rejects(train({ ...base, init: 'models/fer2013-cnn' }), /does not take --init; use --objective '\{"init":"DIR"\}'/);
    await assert.rejects(train({ ...base, iterations: 5 }), /does not take --iterations/);
    await assert.rejects(train({ ...base, clipGradNorm: 1 }), /does not take --clip-grad-norm; use the clipEfe/);
    // --cache-frozen is refused (the steps need the images); the fine-tuning controls apply (test/models/patternmap-pretrained.test.ts).
    await assert.rejects(train({ ...base, cacheFrozen: true }), /does not apply --cache-frozen/);
    await assert.rejects(train({ ...base, finetune: { pretrained: false, freeze: [], bn: 'train', backboneLrScale: 1 } }), /training set has 0 samples/);
  });

  it('three-step epochs on real FER2013 faces: every step loss falls, the best epoch is saved', async () => {
    const classes = ['happy', 'surprise'];
    const ds = await readImages('folder', sharedData('fer2013'), { split: 'train' });
    const vs = await readImages('folder', sharedData('fer2013'), { split: 'val' });
    const pick = (items: ImageSample[], n: number) => classes.flatMap((c) => items.filter((s) => BASIC7[s.label] === c).slice(0, n));
    const tr = pick(ds.items, 48);
    const va = pick(vs.items, 20);
    const config = smallConfig(classes);
    const toModel = (s: ImageSample) => classes.indexOf(BASIC7[s.label]);
    const out = tempDir('pm-train');
    const r = await train({
      config,
      objective: { lrEfe: 3e-3, lrEmr: 3e-3, lrEpmg: 3e-3, tripletPerClass: 8, tripletIterations: 6, l4: 0.01, l5: 0.01 },
      train: { store: await loadSampleStore(tr, config.input), labels: Int32Array.from(tr, toModel) },
      val: { store: await loadSampleStore(va, config.input), labels: Int32Array.from(va, toModel) },
      outDir: out,
      epochs: 4,
      batchSize: 24,
      optimizer: { name: 'adam', lr: 0 },
      schedule: { name: 'constant' },
      workers: 1,
      seed: 1,
    });
    const h = r.history as StepRecord[];
    assert.equal(h.length, 4);
    for (const k of ['efe', 'emr', 'epmg'] as const) assert.ok(h[3][k] < h[0][k], `${k}: ${h.map((e) => e[k].toFixed(3)).join(' → ')}`);
    assert.ok(h[3].parts['emr.mask'] < h[0].parts['emr.mask'] / 2, 'the refiner learns to reproduce the mask');
    const bestEpoch = h.reduce((b, e) => (e.val!.war > b.val!.war ? e : b));
    assert.equal(r.best!.war, bestEpoch.val!.war);
    const logged = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
    assert.deepEqual(logged.map((e) => e.epoch), [1, 2, 3, 4]);
    const best = await loadModel(r.bestDir);
    assert.equal(best.config.method, 'patternmap');
    assert.equal((best.config.info as { war: number }).war, r.best!.war);
    best.dispose();
  });

  it('a run stopped by its time budget after every batch and resumed each time equals the uninterrupted run', async () => {
    const classes = ['happy', 'surprise'];
    const ds = await readImages('folder', sharedData('fer2013'), { split: 'train' });
    const tr = classes.flatMap((c) => ds.items.filter((s) => BASIC7[s.label] === c).slice(0, 16));
    const config = smallConfig(classes);
    const store = await loadSampleStore(tr, config.input);
    const labels = Int32Array.from(tr, (s) => classes.indexOf(BASIC7[s.label]));
    // Two epochs of 2 batches per step, Adam (slots to restore), augmentation (seeded per batch).
    const run = (outDir: string, over: Partial<TrainerOptions> = {}) =>
      train({
        config,
        objective: { lrEfe: 3e-3, lrEmr: 3e-3, lrEpmg: 3e-3, tripletPerClass: 4, tripletIterations: 2, l4: 0.01, l5: 0.01 },
        train: { store, labels },
        outDir,
        epochs: 2,
        batchSize: 16,
        maxStepsPerEpoch: 2,
        optimizer: { name: 'adam', lr: 0 },
        schedule: { name: 'constant' },
        workers: 1,
        seed: 2,
        trainAugment: 'fer-train',
        ...over,
      });
    const full = tempDir('pm-full');
    const cut = tempDir('pm-cut');
    const a = await run(full);
    assert.equal(a.finished, true);
    // Budget 0: every call trains one batch (or finishes an epoch) and checkpoints; 12 batches in all.
    let b = await run(cut, { timeBudgetSec: 0 });
    let calls = 1;
    for (; !b.finished; calls++) {
      assert.ok(calls < 20, 'the resumed runs do not advance');
      b = await run(cut, { timeBudgetSec: 0, resume: true });
    }
    assert.equal(calls, 12, 'one call per batch: every step boundary was a resume point');
    const losses = (r: typeof a) => (r.history as StepRecord[]).map((e) => [e.efe, e.emr, e.epmg, e.parts]);
    assert.deepEqual(losses(b), losses(a));
    const wa = await loadSafetensors(join(full, 'checkpoint.safetensors'));
    const wb = await loadSafetensors(join(cut, 'checkpoint.safetensors'));
    assert.deepEqual(Object.keys(wb.tensors).sort(), Object.keys(wa.tensors).sort());
    assert.ok(Object.keys(wa.tensors).some((k) => k.startsWith('optimizers.epmg.')), 'the checkpoint holds the optimizers');
    for (const [k, t] of Object.entries(wa.tensors)) {
      assert.deepEqual(Array.from(wb.tensors[k].dataSync()), Array.from(t.dataSync()), `${k} differs after resuming`);
    }
    assert.deepEqual(JSON.parse(wb.metadata.rng), JSON.parse(wa.metadata.rng));
  });

  it('initialises the trunk and EFE head from a trained model (a member of the bundled ensemble, DIR#1)', async () => {
    const ref = `${bundledModelDir()}#1`;
    const src = await loadModel(ref);
    // The trunk takes that member's shape.
    const cfg = createConfig('patternmap', { classes: CLASSES, backboneOptions: src.config.backboneOptions });
    const m = new PatternMapModel(cfg, manualSeed(0));
    await assert.rejects(initFromModel(m, bundledModelDir()), /no trunk weights \(backbone\.\*\).*it is an ensemble, give .*#N/);
    const loaded = await initFromModel(m, ref);
    const want = src.stateDict();
    const got = m.stateDict();
    assert.ok(loaded.includes('efeHead.weight') && loaded.filter((k) => k.startsWith('backbone.')).length === Object.keys(want).length - 2);
    for (const k of Object.keys(want)) {
      const mine = k.startsWith('fc.') ? `efeHead.${k.slice(3)}` : k;
      closeAll(got[mine].dataSync(), want[k].dataSync(), 0, k);
    }
    src.dispose();
    m.dispose();
  });
});
