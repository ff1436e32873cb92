// Training accuracy: the replica counts the objective's reported scores against the batch labels
// exactly (checked against the same model run by hand), and the trainer logs it per epoch, summed
// over worker replicas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { BatchBuilder } from '../../src/data/batches.js';
import { createModel } from '../../src/models/io.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { createMethodReplica } from '../../src/train/method-replica.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { BASIC7 } from '../../src/data/types.js';
import { tempDir } from '../data/data-fixtures.js';
import { config, options, subset, CLASSES } from './trainer-fixtures.js';

describe('training accuracy', () => {
  it('a replica counts correct predictions of the training forward pass exactly', async () => {
    await initEngine('wasm');
    const cfg = { ...config(), methodOptions: {} }; // no dropout: the training pass is deterministic
    const items = await subset('val', 20);
    const store = await loadSampleStore(items, cfg.input);
    const { x: data, shape } = new BatchBuilder(store, cfg.input).build(items.map((_, i) => i));
    const x = tf.tensor(data, shape);
    const y = tf.tensor1d(items.map((s) => CLASSES.indexOf(BASIC7[s.label])), 'int32');
    const replica = createMethodReplica({ config: cfg, optimizer: { name: 'sgd', lr: 0.1 }, seed: 5 });
    tf.dispose(replica.loss(x, y));
    const counted = replica.takeCorrect!();
    assert.equal(replica.takeCorrect!(), undefined, 'taking resets the count');
    const model = createModel(cfg, new Rng(5)); // the replica's initial weights
    model.train();
    const pred = tf.tidy(() => tf.argMax(model.forward(x).logits, 1).dataSync());
    const want = Array.from(pred).filter((p, i) => p === y.dataSync()[i]).length;
    assert.equal(counted, want);
    assert.ok(want > 0 && want < items.length, `a random model gets some but not all right (${want}/${items.length})`);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('the trainer logs train accuracy per epoch, summed over 2 worker replicas, and it rises', async () => {
    await initEngine('wasm');
    const r = await train(await options(tempDir('train-acc'), { epochs: 3, workers: 2, val: undefined, log: () => {} }));
    const acc = r.history.map((h) => h.trainAcc!);
    assert.equal(acc.length, 3);
    for (const a of acc) assert.ok(a >= 0 && a <= 1, `accuracy ${a}`);
    assert.ok(acc[2] > acc[0], `train accuracy did not rise: ${acc.join(', ')}`);
  });
});
