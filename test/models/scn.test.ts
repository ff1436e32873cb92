// SCN as a ferkit method: the spec's golden values (methods.md §2.8) through the model's own heads
// and objective, relabel decisions by dataset index in both modes, shapes, gradients to every
// parameter, and a save/load round trip.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';
import { methods } from '../../src/models/all-methods.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { disposeOutput, type ModelConfig } from '../../src/models/model.js';
import { ScnModel } from '../../src/models/scn/model.js';
import { ScnObjective } from '../../src/models/scn/objective.js';
import { IDENTITY, asInput } from './identity-backbone.js';
import { createConfig } from '../../src/models/config.js';

const close = (got: number, want: number, tol = 1e-5, what = '') => assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);
const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const LN7 = Math.log(7);
const logit = (a: number) => Math.log(a / (1 - a));

before(async () => {
  await initEngine('wasm');
});

function config(over: Partial<ModelConfig> = {}): ModelConfig {
  return { ...createConfig('scn', { classes: CLASSES, backboneOptions: { stages: [[4], [8]] }, methodOptions: { dropout: 0 }, size: 12 }), ...over };
}

/** An SCN model on the identity backbone whose embedding [logit α, z1..z7] gives α and z exactly. */
function goldenModel(): ScnModel {
  const model = createModel(config({ backbone: IDENTITY, backboneOptions: { dim: 8 } }), new Rng(1)) as ScnModel;
  const w = new Float32Array(8 * 7);
  for (let c = 0; c < 7; c++) w[(c + 1) * 7 + c] = 1;
  model.fc.weight.assign(tf.tensor2d(w, [8, 7]));
  model.fc.bias!.assign(tf.zeros([7]));
  const alphaLinear = model.alpha.get(0) as unknown as { weight: tf.Variable; bias: tf.Variable };
  alphaLinear.weight.assign(tf.tensor2d([1, 0, 0, 0, 0, 0, 0, 0], [8, 1]));
  alphaLinear.bias.assign(tf.zeros([1]));
  return model;
}

const Z_GOLD = [2.0, 0.5, -1.0, 0.0, 1.0, 0.2, -0.3];
const ALPHA_NEAR_UNIFORM = [0.55, 0.5, 0.52, 0.51, 0.49, 0.53, 0.5, 0.48, 0.47, 0.5];
const zeros7 = () => [0, 0, 0, 0, 0, 0, 0];

/** Sample 1 carries the golden z (y = 4, α = 0.5); the others have z = 0, so their CE is ln 7. */
function wceBatch() {
  const rows = ALPHA_NEAR_UNIFORM.map((a, i) => [logit(a), ...(i === 1 ? Z_GOLD : zeros7())]);
  return { x: asInput(rows), y: tf.tensor1d([3, 4, 0, 1, 2, 3, 4, 5, 6, 0], 'int32'), index: Int32Array.from({ length: 10 }, (_, i) => 100 + i), epoch: 0 };
}

/** Sample 0: α = 1, z0 = 4 (relabel to 0 unless only the low group may change); sample 1: the
 *  golden sample (no relabel); sample 8, the lowest α: z6 = 20 against y = 0 (relabel to 6). */
function relabelBatch(epoch: number) {
  const alphas = [30, ...ALPHA_NEAR_UNIFORM.slice(1).map(logit)];
  const z = (i: number) => (i === 0 ? [4, ...Z_GOLD.slice(1)] : i === 1 ? Z_GOLD : i === 8 ? [0, 0, 0, 0, 0, 0, 20] : zeros7());
  const rows = alphas.map((a, i) => [a, ...z(i)]);
  return { x: asInput(rows), y: tf.tensor1d([4, 4, 0, 1, 2, 3, 4, 5, 0, 0], 'int32'), index: Int32Array.from({ length: 10 }, (_, i) => 100 + i), epoch };
}

const objective = (model: ScnModel, o: Record<string, unknown>) => methods.get('scn').create.createObjective(model, o) as ScnObjective;

describe('SCN model: golden values through its own heads (methods.md §2.8)', () => {
  it('α from the sigmoid branch, logits = α·z; weighted CE 1.7217479 on the golden sample', () => {
    const model = goldenModel();
    const out = model.forward(wceBatch().x, false);
    const alpha = out.extras!.attention.dataSync();
    ALPHA_NEAR_UNIFORM.forEach((a, i) => close(alpha[i], a, 1e-6, `α[${i}]`));
    const row = out.logits.arraySync()[1];
    Z_GOLD.forEach((z, c) => close(row[c], 0.5 * z, 1e-6, `α·z[${c}]`));
    const p = tf.softmax(out.logits).arraySync()[1];
    close(-Math.log(p[4]), 1.7217479, 1e-5, 'CE(α·z, 4)');
    assert.deepEqual(out.embedding!.shape, [10, 8]);
  });

  it('objective = mean CE(α·z) + RR: RR 0.1142857 at δ1 = 0.15 and 0.0342857 at δ1 = 0.07', () => {
    const model = goldenModel();
    const wce = (1.7217479 + 9 * LN7) / 10;
    for (const [margin1, rr] of [[0.15, 0.1142857], [0.07, 0.0342857]]) {
      const loss = objective(model, { margin1 }).loss(model, wceBatch());
      close(loss.dataSync()[0], wce + rr, 1e-5, `loss at δ1=${margin1}`);
    }
  });

  it('relabel: P_max − P_y = 0.8328061 for α = 1, z0 = 4; code rule relabels samples 0 and 8, paper rule only 8', () => {
    const model = goldenModel();
    const p = tf.softmax(model.forward(relabelBatch(0).x, false).logits).arraySync();
    close(Math.max(...p[0]) - p[0][4], 0.8328061, 1e-5, 'α=1 margin');
    close(Math.max(...p[1]) - p[1][4], 0.1159612, 1e-5, 'α=0.5 margin');

    const all = objective(model, { relabelEpoch: 2 });
    all.loss(model, relabelBatch(0)); // epoch 1 of the reference's count: before relabelEpoch 2
    assert.deepEqual(all.takeRelabels(), []);
    all.loss(model, relabelBatch(1));
    assert.deepEqual(all.takeRelabels(), [[100, 0], [108, 6]]);
    assert.deepEqual(all.takeRelabels(), [], 'taking clears the list');

    const low = objective(model, { relabelEpoch: 2, relabelMode: 'low-group' });
    low.loss(model, relabelBatch(1));
    assert.deepEqual(low.takeRelabels(), [[108, 6]]);
  });

  it('state() carries relabels not yet taken into a fresh objective', () => {
    const model = goldenModel();
    const a = objective(model, { relabelEpoch: 1 });
    a.loss(model, relabelBatch(0));
    const b = objective(model, { relabelEpoch: 1 });
    b.loadState(JSON.parse(JSON.stringify(a.state())));
    assert.deepEqual(b.takeRelabels(), [[100, 0], [108, 6]]);
    assert.equal(b.relabeled, 2);
    assert.throws(() => b.loadState({ pending: [[1.5, 2]] }), /pending must be/);
  });

  it('loss gradient matches central finite differences on the heads', () => {
    const model = goldenModel();
    const obj = objective(model, { margin1: 0.15 });
    const batch = wceBatch();
    const alphaBias = (model.alpha.get(0) as unknown as { bias: tf.Variable }).bias;
    const targets: Array<[tf.Variable, number]> = [[alphaBias, 0], [model.fc.weight, 1 * 7 + 4], [model.fc.bias!, 2]];
    const { grads } = tf.variableGrads(() => obj.loss(model, batch), targets.map(([v]) => v));
    for (const [v, k] of targets) {
      const base = v.dataSync().slice();
      const at = (delta: number) => {
        const w = base.slice();
        w[k] += delta;
        v.assign(tf.tensor(w, v.shape));
        return obj.loss(model, batch).dataSync()[0];
      };
      const h = 1e-2;
      const fd = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(base, v.shape));
      close(grads[v.name].dataSync()[k], fd, 2e-3, `d loss / d ${v.name}[${k}]`);
    }
  });
});

describe('SCN model on a real backbone', () => {
  it('shapes: logits [N, 7], embedding [N, featureDim], α in (0, 1); argmax α·z = argmax z', () => {
    const model = createModel(config(), new Rng(3)) as ScnModel;
    const x = tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 5);
    const out = model.forward(x, false);
    assert.deepEqual(out.logits.shape, [4, 7]);
    assert.deepEqual(out.embedding!.shape, [4, 8]);
    assert.deepEqual(out.extras!.attention.shape, [4]);
    for (const a of out.extras!.attention.dataSync()) assert.ok(a > 0 && a < 1, `α = ${a}`);
    assert.deepEqual(Array.from(tf.argMax(out.logits, 1).dataSync()), Array.from(tf.argMax(out.extras!.unweighted, 1).dataSync()));
  });

  it('the objective gradient reaches every trainable parameter', () => {
    const model = createModel(config(), new Rng(4)) as ScnModel;
    model.train();
    const obj = objective(model, {});
    const batch = { x: tf.randomNormal([6, 12, 12, 1], 0, 1, 'float32', 6), y: tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), index: Int32Array.from([0, 1, 2, 3, 4, 5]), epoch: 0 };
    const vars = model.trainableParameters();
    const { value, grads } = tf.variableGrads(() => obj.loss(model, batch), vars);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    for (const [name, v] of model.namedParameters()) {
      const g = grads[v.name];
      assert.ok(g, `no gradient for ${name}`);
      assert.ok(tf.max(tf.abs(g)).dataSync()[0] > 0, `zero gradient for ${name}`);
    }
    assert.ok(model.namedParameters().some(([n]) => n === 'alpha.0.weight') && model.namedParameters().some(([n]) => n === 'fc.weight'));
  });

  it('save/load through io.ts gives identical outputs', async () => {
    const model = createModel(config(), new Rng(7)) as ScnModel;
    // A few training-mode passes move the BN running statistics away from their initial values.
    for (let i = 0; i < 2; i++) model.forward(tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 10 + i), true);
    model.eval();
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-scn-'));
    try {
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      assert.ok(loaded instanceof ScnModel);
      const x = tf.randomNormal([3, 12, 12, 1], 0, 1, 'float32', 9);
      const a = model.forward(x, false);
      const b = loaded.forward(x, false);
      assert.deepEqual(Array.from(b.logits.dataSync()), Array.from(a.logits.dataSync()));
      assert.deepEqual(Array.from(b.extras!.attention.dataSync()), Array.from(a.extras!.attention.dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forward and the objective leave no tensors behind', () => {
    const model = createModel(config(), new Rng(9)) as ScnModel;
    const obj = methods.get('scn').create.createObjective(model, { relabelEpoch: 1 });
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
    const model = createModel(config(), new Rng(8)) as ScnModel;
    assert.throws(() => objective(model, { beta: 1.5 }), /option beta must be in \(0, 1\)/);
    assert.throws(() => objective(model, { relabelMode: 'some' }), /option relabelMode must be one of all, low-group/);
  });
});
