// A run interrupted after 2 steps and resumed from its checkpoint (model, BN statistics, Adam
// state, RNG) ends exactly where the uninterrupted run does.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { relu } from '../../src/nn/activations.js';
import { loadModule } from '../../src/nn/checkpoint.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Dropout } from '../../src/nn/dropout.js';
import { Linear } from '../../src/nn/linear.js';
import { Sequential } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { globalAvgPool } from '../../src/nn/pool.js';
import { Rng } from '../../src/util/rng.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from '../../src/train/checkpoint.js';
import { Adam } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';

function setup() {
  const rng = new Rng(11);
  const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1, rng }), new BatchNorm2d(4), relu, globalAvgPool, new Dropout(0.3, { rng }), new Linear(4, 3, { rng }));
  const optimizer = new Adam(model.trainableParameters(), { lr: 0.01 });
  return { model, optimizer, rng };
}

describe('training checkpoint', () => {
  before(async () => {
    await initEngine();
  });

  it('resuming after step 2 reproduces steps 3-4 of the uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-train-ckpt-'));
    const batch = (rng: Rng) => ({ x: tf.tensor(rng.fillNormal(4 * 6 * 6), [4, 6, 6, 1]), y: tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3) });
    const run = (s: ReturnType<typeof setup>, n: number) => {
      const losses: number[] = [];
      for (let i = 0; i < n; i++) {
        const { x, y } = batch(s.rng); // data drawn from the same stream as the dropout masks
        losses.push(trainStep(s.model, () => tf.losses.softmaxCrossEntropy(y, s.model.forward(x)) as tf.Scalar, s.optimizer));
        tf.dispose([x, y]);
      }
      return losses;
    };
    const full = setup();
    const expected = run(full, 4);
    const first = setup();
    run(first, 2);
    const path = join(dir, 'ckpt.safetensors');
    await saveTrainingCheckpoint(path, first, { epoch: 2 }, { method: 'test' });
    const resumed = setup();
    const { progress, metadata } = await loadTrainingCheckpoint(path, resumed);
    assert.deepEqual(progress, { epoch: 2 });
    assert.equal(metadata.method, 'test');
    assert.deepEqual(run(resumed, 2), expected.slice(2));
    for (const [k, v] of Object.entries(full.model.stateDict())) assert.deepEqual(Array.from(resumed.model.stateDict()[k].dataSync()), Array.from(v.dataSync()), k);
    // the same file loads as plain weights (optimizer entries are then unexpected, reported)
    const plain = setup().model;
    const r = await loadModule(path, plain, { strict: false });
    assert.ok(r.unexpected.length > 0 && r.unexpected.every((k) => k.startsWith('optimizer.state.')));
    assert.deepEqual(r.missing, []);
    await assert.rejects(loadTrainingCheckpoint(path, { ...setup(), model: new Sequential(new Linear(2, 2)) }), /ckpt\.safetensors: cannot load into Sequential/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('named optimizers (one per training step) round-trip their slots; a different set is refused by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-train-ckpt-'));
    const path = join(dir, 'ckpt.safetensors');
    const make = () => {
      const s = setup();
      const [head, ...rest] = s.model.trainableParameters().reverse();
      return { ...s, vars: { head: [head], body: rest }, optimizers: { head: new Adam([head], { lr: 0.1 }), body: new Adam(rest, { lr: 0.01 }) } };
    };
    const step = (s: ReturnType<typeof make>, which: 'head' | 'body') => {
      const x = tf.tensor(s.rng.fillNormal(4 * 6 * 6), [4, 6, 6, 1]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
      const loss = trainStep(s.vars[which], () => tf.losses.softmaxCrossEntropy(y, s.model.forward(x)) as tf.Scalar, s.optimizers[which]);
      tf.dispose([x, y]);
      return loss;
    };
    const full = make();
    const expected = [step(full, 'head'), step(full, 'body'), step(full, 'head'), step(full, 'body')];
    const first = make();
    step(first, 'head');
    step(first, 'body');
    await saveTrainingCheckpoint(path, { model: first.model, optimizers: first.optimizers, rng: first.rng });
    const resumed = make();
    await loadTrainingCheckpoint(path, { model: resumed.model, optimizers: resumed.optimizers, rng: resumed.rng });
    assert.deepEqual([step(resumed, 'head'), step(resumed, 'body')], expected.slice(2));
    await assert.rejects(loadTrainingCheckpoint(path, { model: make().model, optimizers: { head: make().optimizers.head } }), /holds optimizers body, head, this run has head/);
    await assert.rejects(loadTrainingCheckpoint(path, { ...make(), optimizers: undefined, optimizer: setup().optimizer }), /has no optimizer state to resume from/);
    rmSync(dir, { recursive: true, force: true });
  });
});
