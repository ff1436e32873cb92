// Logit adjustment: the bias shift moves every logit by exactly −τ·log π_k; τ chosen on labelled
// faces by the mean of WAR and UAR; `ferkit balance` writes a model that scores as its table says.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { adjustLogits, chooseTau, classPriors, normalisePriors, scoreTaus } from '../../src/eval/logit-adjust.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { readImages } from '../../src/data/registry.js';
import { createModel, loadModel } from '../../src/models/io.js';
import { Rng } from '../../src/util/rng.js';
import { ferkit } from '../helpers/cli.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { config } from '../train/trainer-fixtures.js';

describe('logit adjustment', () => {
  before(async () => {
    await initEngine('wasm');
  });

  it('priors: label counts or the mean of soft targets; checked and normalised', () => {
    assert.deepEqual(classPriors(3, Int32Array.from([0, 0, 2, 0])), [0.75, 0, 0.25]);
    const t = Float32Array.from([0.5, 0.5, 0, 1, 0, 0]);
    assert.deepEqual(classPriors(3, new Int32Array(2), t), [0.75, 0.25, 0]);
    assert.deepEqual(normalisePriors([2, 6], 2, 'x'), [0.25, 0.75]);
    assert.throws(() => normalisePriors([1, 0], 2, '--priors'), /--priors: class priors must be positive numbers, got 1, 0/);
    assert.throws(() => normalisePriors([1], 2, '--priors'), /--priors: 1 class priors for 2 classes/);
  });

  it('τ moves predictions toward rare classes; the best mean of WAR and UAR is chosen', () => {
    // 3 faces of the frequent class 0, 1 of the rare class 1 that the model scores 0.6 / 0.4.
    const probs = Float32Array.from([0.95, 0.05, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4]);
    const labels = Int32Array.from([0, 0, 0, 1]);
    const priors = [0.9, 0.1];
    const table = scoreTaus(probs, labels, priors, [0, 0.2, 1]);
    // τ 0: all class 0 (WAR .75, UAR .5); τ .2: log odds of face 4 −0.405 + 0.2·2.197 > 0 → right;
    // τ 1: faces 2-4 go to class 1.
    assert.deepEqual(table.map((r) => [r.war, r.uar]), [[0.75, 0.5], [1, 1], [0.5, 2 / 3]]);
    assert.equal(chooseTau(table).tau, 0.2);
    assert.equal(chooseTau(scoreTaus(probs, labels, priors, [0, 0.05])).tau, 0, 'ties keep the smaller τ');
  });

  it('shifts the CE classifier bias: logits move by −τ·log π exactly; other methods and a second adjustment are refused', () => {
    const model = createModel(config('ce'), new Rng(1));
    model.eval();
    const x = tf.randomNormal([4, 48, 48, 1], 0, 1, 'float32', 3);
    const before = model.forward(x).logits.arraySync();
    adjustLogits(model, [0.8, 0.2], 0.7, 'test faces');
    const after = model.forward(x).logits.arraySync();
    const shift = [-0.7 * Math.log(0.8), -0.7 * Math.log(0.2)];
    after.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - before[i]![k]! - shift[k]!) < 1e-5)));
    assert.deepEqual(model.config.info?.logitAdjustment, { tau: 0.7, priors: [0.8, 0.2], chosenOn: 'test faces' });
    assert.throws(() => adjustLogits(model, [0.8, 0.2], 0.5), /already logit-adjusted \(τ = 0.7\)/);
    const scn = createModel(config('scn', { dropout: 0 }), new Rng(1));
    assert.throws(() => adjustLogits(scn, [0.5, 0.5], 1), /method scn has no classifier bias/);
    tf.dispose(x);
    model.dispose();
    scn.dispose();
  });

  it('an ensemble (the bundled model: mirror views, members with their own inputs): its logits move by exactly −τ·log π', async () => {
    const model = await loadModel('models/fer2013-cnn');
    // The bundled model is itself adjusted; its record is dropped here to adjust it once more.
    const { logitAdjustment: _done, ...info } = model.config.info ?? {};
    model.config.info = info;
    const [h, w] = model.config.input.size;
    const x = tf.randomUniform([3, h, w, model.config.input.channels], 0, 1, 'float32', 5);
    const before = model.forward(x).logits.arraySync();
    const priors = [0.14, 0.02, 0.14, 0.25, 0.17, 0.11, 0.17];
    adjustLogits(model, priors, 0.5);
    const after = model.forward(x).logits.arraySync();
    const sum = priors.reduce((a, b) => a + b, 0);
    after.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - before[i]![k]! + 0.5 * Math.log(priors[k]! / sum)) < 1e-4, `face ${i} class ${k}`)));
    tf.dispose(x);
    model.dispose();
  });

  it('ferkit balance --tau auto: the saved model scores what the chosen row says', async () => {
    const out = join(tempDir('balance'), 'adjusted');
    const data = sharedData('ckplus48');
    // Member 1 of the bundled ensemble, with FER2013's training priors of its 7 classes.
    const priors = '3995,436,4097,7215,4830,3171,4965';
    const r = ferkit(['balance', '--model', 'models/fer2013-cnn#1', '--out', out, '--priors', priors, '--data', data, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { tau: number; table: { tau: number; war: number; uar: number }[]; chosenOn: string };
    assert.equal(j.table.length, 16);
    const row = j.table.find((t) => t.tau === j.tau)!;
    assert.ok(j.table.every((t) => (t.war + t.uar) / 2 <= (row.war + row.uar) / 2 + 1e-12));
    assert.match(j.chosenOn, /ckplus48.*mean of WAR and UAR/);
    const ds = await readImages('folder', data);
    const e = await evaluate(await loadModel(out), ds.items);
    assert.ok(Math.abs(e.war - row.war) < 1e-9 && Math.abs(e.uar - row.uar) < 1e-9, `saved model: WAR ${e.war} UAR ${e.uar}; table: ${row.war} ${row.uar}`);
    const again = ferkit(['balance', '--model', 'models/fer2013-cnn#1', '--out', out, '--priors', priors, '--tau', '1']);
    assert.match(again.stderr, /already exists; give a new --out folder/);
    const noPriors = ferkit(['balance', '--model', 'models/fer2013-cnn#1', '--out', join(out, 'x'), '--tau', '1']);
    assert.match(noPriors.stderr, /records no training class priors .* give --priors p1,p2,\.\.\. in the order angry, disgust/);
  });
});
