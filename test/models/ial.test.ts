// IAL + GCA as a ferkit method on tiny configs: every attention block builds, runs and (where it
// has a descriptor) feeds aux heads; clips in a batch are independent (the frame grouping of GCA
// and DSF is per clip); gradients reach every parameter; the objective reproduces the spec's
// golden values (methods.md §1.16 items 1-3) on fixed logits; the NR-DFERNet snippet filter;
// save/load round trip.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';
import { methods } from '../../src/models/all-methods.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { disposeOutput, type FerModel, type ModelConfig, type ModelOutput } from '../../src/models/model.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { createConfig } from '../../src/models/config.js';
import type { IalModel } from '../../src/models/ial/model.js';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const close = (got: number, want: number, tol = 1e-5, what = '') => assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);

before(async () => {
  await initEngine('wasm');
});

/** 4 frames of 32x32 RGB, widths 8/16/32: maps 8 → 4 → 2 → DSF 1x1, 32-d temporal tokens. */
function tinyConfig(methodOptions: Record<string, unknown> = {}, frames = 4): ModelConfig {
  const c = createConfig('ial', {
    classes: CLASSES,
    backboneOptions: { widthMultiplier: 0.125 },
    methodOptions: {
      reduction: 4,
      spatialDepth: 1,
      spatialHeads: 2,
      spatialDimHead: 4,
      spatialMlp: 16,
      temporalDepth: 1,
      temporalHeads: 2,
      temporalDimHead: 4,
      temporalMlp: 16,
      ...methodOptions,
    },
  });
  return { ...c, input: { ...c.input, size: [32, 32], frames } };
}

const clips = (n: number, frames: number, side: number, channels: number, seed = 7) => tf.randomUniform([n, frames, side, side, channels], 0, 1, 'float32', seed);

describe('ial model (tiny configs)', () => {
  for (const attention of ['gca', 'se', 'cbam', 'none']) {
    it(`${attention}: builds and runs in training and eval mode; aux heads only with a descriptor`, () => {
      const model = createModel(tinyConfig({ attention }), new Rng(1));
      const x = clips(2, 4, 32, 3);
      for (const training of [true, false]) {
        const out = model.forward(x, training);
        assert.deepEqual(out.logits.shape, [2, 7]);
        assert.deepEqual(out.embedding!.shape, [2, 32]);
        assert.ok(out.logits.dataSync().every(Number.isFinite));
        const aux = Object.keys(out.extras ?? {}).sort();
        assert.deepEqual(aux, attention === 'none' ? [] : ['aux2', 'aux3']);
        for (const k of aux) assert.deepEqual(out.extras![k].shape, [2, 7]);
        disposeOutput(out);
      }
      const names = Object.keys(model.stateDict());
      assert.equal(names.some((n) => n.includes('.attn.')), attention !== 'none');
      assert.ok(!names.some((n) => n.startsWith('s_former.layer1.0.attn')), 'layer1 carries no attention (reference: c = 64)');
      x.dispose();
      model.dispose();
    });
  }

  it('GCA weights have the reference layout: whole-map depth-wise kernels, C/r bottleneck', () => {
    const model = createModel(tinyConfig(), new Rng(1));
    const sd = model.stateDict();
    assert.deepEqual(sd['s_former.layer2.0.attn.gc.0.weight'].shape, [4, 4, 16, 1]);
    assert.deepEqual(sd['s_former.layer3.0.attn.gc.0.weight'].shape, [2, 2, 32, 1]);
    assert.deepEqual(sd['s_former.layer3.0.attn.fc1.0.weight'].shape, [1, 1, 32, 8]);
    assert.deepEqual(sd['s_former.layer3.0.AUX_fc.1.weight'].shape, [64, 7]);
    assert.deepEqual(sd['s_former.pos_embedding'].shape, [1, 4, 32]);
    assert.deepEqual(sd['s_former.dsf.pos_embedding_pos'].shape, [1, 1, 32]);
    model.dispose();
  });

  it('depth: layers (from methodOptions) sets the blocks per stage; every block of an attention stage attends', () => {
    const model = createModel(tinyConfig({ layers: [1, 2, 1, 2] }), new Rng(1));
    const names = Object.keys(model.stateDict());
    assert.ok(names.includes('s_former.layer2.1.attn.gc.0.weight'));
    assert.ok(names.includes('s_former.layer2.1.AUX_fc.0.weight'));
    assert.ok(!names.some((n) => n.startsWith('s_former.layer3.1.')));
    assert.ok(names.includes('s_former.dsf.layer4.1.conv2.weight'));
    assert.ok(!names.some((n) => n.startsWith('s_former.dsf.layer4.2.')));
    const out = model.forward(clips(1, 4, 32, 3), false);
    assert.deepEqual(out.extras!.aux2.shape, [1, 7]);
    disposeOutput(out);
    model.dispose();
    assert.throws(() => createModel(tinyConfig({ layers: [1, 1, 1] })), /option layers must be four positive integers/);
  });

  it('clips of a batch are independent in eval mode (GCA and DSF group frames per clip)', () => {
    const model = createModel(tinyConfig(), new Rng(2));
    model.eval();
    // Train-mode steps first, so the running statistics are not the identity.
    const x = clips(3, 4, 32, 3, 11);
    disposeOutput(model.forward(x, true));
    model.eval();
    const all = model.forward(x);
    const got = all.logits.arraySync();
    for (let i = 0; i < 3; i++) {
      const one = model.forward(tf.slice(x, [i, 0, 0, 0, 0], [1, -1, -1, -1, -1]));
      one.logits.dataSync().forEach((v, k) => close(v, got[i][k], 1e-4, `clip ${i} class ${k}`));
      disposeOutput(one);
    }
    // Reordering frames changes the prediction: the model is not a bag of frames.
    const reversed = model.forward(tf.reverse(x, 1));
    const diff = tf.max(tf.abs(tf.sub(reversed.logits, all.logits))).dataSync()[0];
    assert.ok(diff > 1e-4, `reversed clips gave the same logits (max diff ${diff})`);
    disposeOutput(all);
    disposeOutput(reversed);
    model.dispose();
  });

  it('rejects clips of the wrong shape and configs it cannot build, naming the problem', () => {
    const model = createModel(tinyConfig(), new Rng(1));
    assert.throws(() => model.forward(clips(1, 3, 32, 3)), /expected clips \[N, 4, 32, 32, 3\], got \[1,3,32,32,3\]/);
    model.dispose();
    assert.throws(() => createModel(tinyConfig({ attention: 'eca' })), /option attention must be one of cbam, gca, none, se/);
    assert.throws(() => createModel({ ...tinyConfig(), backbone: 'resnet18' }), /backbone resnet18 cannot be the frame encoder \(it has no named parts with known map sizes\); use ial-resnet or face-resnet/);
    assert.throws(() => createModel({ ...tinyConfig(), backbone: 'vgg' }), /backbone "vgg" is neither the method's own trunk "ial-resnet" nor a registered backbone/);
    assert.throws(() => createModel(tinyConfig({}, 1)), /at least 2 frames/);
  });

  for (const variant of ['ial', 'nr-dfernet']) {
    it(`${variant}: the objective's gradient reaches every parameter`, () => {
      const model = createModel(tinyConfig({ variant }), new Rng(3));
      model.train();
      const objective = methods.get('ial').create.createObjective(model, { auxWeights: [0.05, 0.05] });
      const x = clips(2, 4, 32, 3, 5);
      const y = tf.tensor1d([1, 4], 'int32');
      const named = model.namedParameters();
      const { value, grads } = tf.variableGrads(() => objective.loss(model, { x, y, index: new Int32Array(2), epoch: 0 }), named.map(([, v]) => v));
      assert.ok(Number.isFinite(value.dataSync()[0]));
      const missing = named.filter(([, v]) => !grads[v.name] || tf.tidy(() => tf.sum(tf.abs(grads[v.name])).dataSync()[0]) === 0).map(([n]) => n);
      assert.deepEqual(missing, []);
      // The mean variant uses T−1 of the T positional rows (as the reference's 15 of 16).
      const lastRow = tf.tidy(() => tf.sum(tf.abs(tf.slice(grads[model.namedParameters().find(([n]) => n === 's_former.pos_embedding')![1].name], [0, 3, 0], [1, 1, -1]))).dataSync()[0]);
      if (variant === 'ial') assert.equal(lastRow, 0);
      else assert.ok(lastRow > 0);
      tf.dispose([value, x, y, ...Object.values(grads)]);
      model.dispose();
    });
  }
});

/** A stand-in FerModel whose forward returns fixed logits and aux logits. */
function fixedModel(logits: number[][], aux: Record<string, number[][]>): FerModel {
  const config = tinyConfig();
  return {
    config,
    forward: (): ModelOutput => ({
      logits: tf.tensor2d(logits),
      extras: Object.fromEntries(Object.entries(aux).map(([k, v]) => [k, tf.tensor2d(v)])),
    }),
  } as unknown as FerModel;
}

describe('ial objective: golden values (methods.md §1.16)', () => {
  const z1 = [2.0, 1.0, 0.5, -1.0, 0.0, 0.3, -0.5];
  const z2 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
  const zeros = [0, 0, 0, 0, 0, 0, 0];
  const batch = (y: number[]) => ({ x: tf.zeros([y.length]), y: tf.tensor1d(y, 'int32'), index: new Int32Array(y.length), epoch: 0 });
  const lossOf = (model: FerModel, y: number[], options: Record<string, unknown>) =>
    methods.get('ial').create.createObjective(model, options).loss(model, batch(y)).dataSync()[0];

  it('item 1: CE + 0.05·CE(uniform aux2) + 0 · CE(aux3) + 0.1·IAL = 1.9420127 with the method defaults', () => {
    // aux3 is confidently wrong: its weight 0 must leave the total unchanged.
    const model = fixedModel([z1], { aux2: [zeros], aux3: [[9, -9, 0, 0, 0, 0, 0]] });
    close(lossOf(model, [1], {}), 1.9420127, 1e-5, 'total');
    close(lossOf(model, [1], { ial: false, auxWeights: [0, 0] }), 1.7133911, 1e-5, 'CE only');
    close(lossOf(model, [1], { lambda: 1, auxWeights: [0, 0] }), 1.7133911 + 1.3132617, 1e-5, 'CE + IAL');
  });

  it('item 2: target is the max → IAL 0.3132617, CE 0.7133911', () => {
    const model = fixedModel([z1], {});
    close(lossOf(model, [0], { lambda: 1 }), 0.7133911 + 0.3132617, 1e-5, 'CE + IAL');
  });

  it('item 3: batch of two → IAL 0.9788291, CE 1.6896093', () => {
    const model = fixedModel([z1, z2], { aux2: [zeros, zeros], aux3: [zeros, zeros] });
    close(lossOf(model, [1, 6], { lambda: 1, auxWeights: [0, 0] }), 1.6896093 + 0.9788291, 1e-5, 'CE + IAL');
    close(lossOf(model, [1, 6], { lambda: 0.5, auxWeights: [1, 0] }), 1.6896093 + Math.log(7) + 0.5 * 0.9788291, 1e-5, 'λ 0.5, aux2 1');
  });

  it('rejects bad objective options by name', () => {
    const model = fixedModel([z1], {});
    assert.throws(() => lossOf(model, [1], { lambda: -1 }), /option lambda must be a number ≥ 0/);
    assert.throws(() => lossOf(model, [1], { auxWeights: 'x' }), /option auxWeights must be a list of numbers/);
  });
});

describe('ial NR-DFERNet variant: snippet filter at test time', () => {
  it('7 tokens → 3 snippets; a confident non-neutral snippet sets the neutral logit to −1000', () => {
    const model = createModel(tinyConfig({ variant: 'nr-dfernet' }, 8), new Rng(4)) as IalModel;
    model.eval();
    const x = clips(2, 8, 32, 3, 9);
    // A classifier that says "happy" with certainty everywhere: every snippet is confident,
    // P(neutral) ≈ 0.
    model.fc_f.weight.assign(tf.zeros(model.fc_f.weight.shape));
    model.fc_f.bias!.assign(tf.tensor1d([0, 0, 0, 20, 0, 0, 0]));
    const out = model.forward(x);
    assert.deepEqual(out.extras!.snippetProbs.shape, [2, 3, 7]);
    const rows = out.logits.arraySync();
    for (const r of rows) {
      assert.equal(r[6], -1000);
      close(r[3], 20, 1e-4, 'happy logit untouched');
    }
    disposeOutput(out);
    // Uniform predictions: no snippet is confident, the logits pass unchanged.
    model.fc_f.bias!.assign(tf.zeros([7]));
    const flat = model.forward(x);
    assert.ok(flat.logits.dataSync().every((v) => Math.abs(v) < 1e-6));
    disposeOutput(flat);
    // Training mode: no filter, no snippets.
    model.fc_f.bias!.assign(tf.tensor1d([0, 0, 0, 20, 0, 0, 0]));
    const tr = model.forward(x, true);
    assert.equal(tr.extras!.snippetProbs, undefined);
    close(tr.logits.arraySync()[0][6], 0, 1e-6, 'neutral in training');
    disposeOutput(tr);
    model.dispose();
  });
});

describe('ial save/load', () => {
  it('round trip through a model folder gives identical outputs (small CK+48 configuration)', async () => {
    const config = createConfig('ial', { classes: ['angry', 'contempt', 'disgust', 'fear', 'happy', 'sad', 'surprise'], defaults: IAL_SMALL });
    const model = createModel(config, new Rng(5));
    const x = clips(2, 3, 48, 1, 13);
    disposeOutput(model.forward(x, true)); // move the running statistics off their initial values
    model.eval();
    const before = model.forward(x);
    assert.deepEqual(before.logits.shape, [2, 7]);
    assert.deepEqual(before.embedding!.shape, [2, 256]);
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-ial-'));
    try {
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      assert.deepEqual(loaded.config, config);
      const after = loaded.forward(x);
      assert.deepEqual(Array.from(after.logits.dataSync()), Array.from(before.logits.dataSync()));
      for (const k of ['aux2', 'aux3']) assert.deepEqual(Array.from(after.extras![k].dataSync()), Array.from(before.extras![k].dataSync()));
      disposeOutput(after);
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    disposeOutput(before);
    model.dispose();
  });
});
