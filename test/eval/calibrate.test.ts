// Temperature scaling: the fitted T recovers the temperature that generated the labels; dividing
// the linear classifiers' weights and biases divides the logits by exactly T (a CE model, and the
// bundled ensemble with its mirror views and adapted members), argmax unchanged; `ferkit calibrate`
// writes a model whose confidences are the chosen row's.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { atTemperature, chooseTemperature, scaleLogits, scoreTemperatures } from '../../src/eval/calibrate.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { calibration } from '../../src/eval/metrics.js';
import { readImages } from '../../src/data/registry.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { Rng } from '../../src/util/rng.js';
import { ferkit } from '../helpers/cli.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { config } from '../train/trainer-fixtures.js';

describe('temperature scaling', () => {
  before(async () => {
    await initEngine('wasm');
  });

  it('recovers the temperature that drew the labels: logits z, labels ~ softmax(z / 2) → T ≈ 2', () => {
    const rng = new Rng(7);
    const n = 6000;
    const c = 5;
    const probs = new Float32Array(n * c);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: c }, () => 3 * rng.normal());
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, k) => (probs[i * c + k] = v / s));
      // The truth is drawn at temperature 2: the model's probabilities are overconfident.
      const soft = atTemperature(probs.subarray(i * c, (i + 1) * c), c, 2)[0]!;
      let u = rng.next();
      labels[i] = soft.findIndex((p) => (u -= p) < 0);
      if (labels[i] < 0) labels[i] = c - 1;
    }
    const table = scoreTemperatures(probs, labels, c);
    const best = chooseTemperature(table);
    assert.ok(Math.abs(best.temperature - 2) <= 0.2, `fitted T ${best.temperature}`);
    const at1 = table.find((r) => r.temperature === 1)!;
    assert.ok(best.ece < at1.ece / 2 && best.nll < at1.nll, `ECE ${at1.ece} → ${best.ece}, NLL ${at1.nll} → ${best.nll}`);
    // T = 1 leaves the probabilities as they are.
    atTemperature(probs.subarray(0, 4 * c), c, 1).flat().forEach((p, j) => assert.ok(Math.abs(p - probs[j]!) < 1e-6));
    assert.equal(chooseTemperature(scoreTemperatures(Float32Array.from([0.5, 0.5]), Int32Array.from([0]), 2, [0.8, 1, 1.25])).temperature, 1, 'ties keep the T nearest 1');
  });

  it('a CE model: logits divided by T exactly; a second scaling and methods without a linear classifier are refused', () => {
    const model = createModel(config('ce'), new Rng(1));
    model.eval();
    const x = tf.randomNormal([4, 48, 48, 1], 0, 1, 'float32', 3);
    const before = model.forward(x).logits.arraySync();
    scaleLogits(model, 1.6, 'test faces');
    const after = model.forward(x).logits.arraySync();
    after.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - before[i]![k]! / 1.6) < 1e-5)));
    assert.deepEqual(model.config.info?.temperature, { temperature: 1.6, chosenOn: 'test faces' });
    assert.throws(() => scaleLogits(model, 2), /already temperature-scaled \(T = 1.6\)/);
    assert.throws(() => scaleLogits(model, 0), /temperature must be a number > 0, got 0/);
    const scn = createModel(config('scn', { dropout: 0 }), new Rng(1));
    assert.throws(() => scaleLogits(scn, 2), /method scn has no linear classifier/);
    tf.dispose(x);
    model.dispose();
    scn.dispose();
  });

  it('the bundled ensemble (mirror views, members with their own inputs): logits divided by T exactly, argmax unchanged', async () => {
    const model = await loadModel('models/fer2013-cnn');
    const { temperature: _done, ...info } = model.config.info ?? {};
    model.config.info = info;
    const [h, w] = model.config.input.size;
    const x = tf.randomUniform([3, h, w, model.config.input.channels], 0, 1, 'float32', 5);
    const before = model.forward(x).logits.arraySync();
    scaleLogits(model, 2);
    const after = model.forward(x).logits.arraySync();
    after.forEach((row, i) => row.forEach((v, k) => assert.ok(Math.abs(v - before[i]![k]! / 2) < 1e-4, `face ${i} class ${k}`)));
    tf.dispose(x);
    model.dispose();
  });

  it('ferkit calibrate --temperature auto: the saved model has the chosen row ECE and the same predictions', async () => {
    const dir = tempDir('calibrate');
    const out = join(dir, 'calibrated');
    const data = sharedData('ckplus48');
    // A model not scaled yet: member 1 of the bundled ensemble as it was trained (its record of the
    // bundled model's temperature dropped, its weights multiplied back).
    const source = join(dir, 'member1');
    const member = await loadModel('models/fer2013-cnn#1');
    const t = (member.config.info?.temperature as { temperature: number } | undefined)?.temperature ?? 1;
    const { temperature: _t, ...provenance } = member.config.info ?? {};
    member.config.info = provenance;
    scaleLogits(member, 1 / t);
    const { temperature: _u, ...clean } = member.config.info ?? {};
    member.config.info = clean;
    await saveModel(source, member);
    const r = ferkit(['calibrate', '--model', source, '--out', out, '--data', data, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { temperature: number; table: { temperature: number; nll: number; ece: number }[]; chosenOn: string };
    const row = j.table.find((t) => t.temperature === j.temperature)!;
    assert.ok(j.table.every((t) => t.nll >= row.nll - 1e-12));
    assert.match(j.chosenOn, /ckplus48.*lowest negative log-likelihood/);
    const ds = await readImages('folder', data);
    const [was, now] = [await evaluate(member, ds.items), await evaluate(await loadModel(out), ds.items)];
    assert.equal(now.war, was.war, 'temperature scaling does not change predictions');
    const probs = Array.from({ length: now.labels.length }, (_, i) => Array.from(now.probs.subarray(i * 7, (i + 1) * 7)));
    assert.ok(Math.abs(calibration(probs, now.labels).ece - row.ece) < 1e-4, `saved model ECE vs table ${row.ece}`);
    const again = ferkit(['calibrate', '--model', source, '--out', out, '--temperature', '2']);
    assert.match(again.stderr, /already exists; give a new --out folder/);
    const bad = ferkit(['calibrate', '--model', source, '--out', join(dir, 'x'), '--temperature', '-1']);
    assert.match(bad.stderr, /--temperature must be a number > 0 or auto, got "-1"/);
    const noData = ferkit(['calibrate', '--model', source, '--out', join(dir, 'y')]);
    assert.match(noData.stderr, /--temperature auto fits T on labelled validation faces/);
    // The bundled model's members are scaled already (the ensemble was): calibrating one again is refused.
    const twice = ferkit(['calibrate', '--model', 'models/fer2013-cnn#1', '--out', join(dir, 'z'), '--temperature', '2']);
    assert.match(twice.stderr, /already temperature-scaled \(T = 1\.6\)/);
    member.dispose();
  });
});
