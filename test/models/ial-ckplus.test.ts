// A short real training run of the small IAL configuration on CK+48 sequences (3 real frames per
// clip): the objective (CE + λ·IAL + aux CE) falls and the clips get fitted. Few steps, one batch.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { readDataset } from '../../src/data/registry.js';
import { Rng } from '../../src/util/rng.js';
import { methods } from '../../src/models/all-methods.js';
import { createModel } from '../../src/models/io.js';
import { disposeOutput } from '../../src/models/model.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { createConfig } from '../../src/models/config.js';
import { BatchBuilder } from '../../src/data/batches.js';
import { AdamW } from '../../src/train/optim.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { trainStep } from '../../src/train/step.js';
import { sharedData } from '../data/data-fixtures.js';

before(async () => {
  await initEngine('wasm');
});

describe('ial on CK+48 clips', () => {
  it('12 steps on 8 real sequences of 4 classes: the loss falls below half and the clips are fitted', async () => {
    const ds = await readDataset('ckplus-clips', sharedData('ckplus48'));
    const wanted = [...new Set(ds.items.map((s) => s.label))].slice(0, 4);
    const items = wanted.flatMap((c) => ds.items.filter((s) => s.label === c).slice(0, 2));
    assert.equal(items.length, 8);
    const config = createConfig('ial', { classes: ['a', 'b', 'c', 'd'], defaults: IAL_SMALL });
    const store = await loadSampleStore(items, config.input, { cache: false });
    const { x: data, shape } = new BatchBuilder(store, config.input).build(items.map((_, i) => i));
    assert.deepEqual(shape, [8, 3, 48, 48, 1]);
    const x = tf.tensor(data, shape);
    const y = tf.tensor1d(items.map((s) => wanted.indexOf(s.label)), 'int32');
    const model = createModel(config, new Rng(0));
    const objective = methods.get('ial').create.createObjective(model, {});
    const optimizer = new AdamW(model.trainableParameters(), { lr: 3e-3, weightDecay: 0 });
    model.train();
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) losses.push(trainStep(model, () => objective.loss(model, { x, y, index: new Int32Array(8), epoch: 0 }), optimizer));
    assert.ok(losses[11] < 0.5 * losses[0], `loss ${losses[0].toFixed(3)} → ${losses[11].toFixed(3)}`);
    // 12 steps leave BN's running statistics (momentum 0.1) far from the batch's: settle them with
    // training-mode passes that change no weights (60 leave 0.9^60 < 0.2% of the stale ones; 20
    // left 12%, enough to flip half the clips), then predict in eval mode.
    for (let i = 0; i < 60; i++) disposeOutput(model.forward(x, true));
    model.eval();
    const out = model.forward(x);
    const pred = tf.argMax(out.logits, 1).dataSync();
    const correct = pred.filter((p, i) => p === wanted.indexOf(items[i].label)).length;
    assert.ok(correct >= 6, `${correct}/8 clips fitted after training (losses ${losses.map((l) => l.toFixed(2)).join(' ')})`);
    disposeOutput(out);
    tf.dispose([x, y]);
    model.dispose();
  });
});
