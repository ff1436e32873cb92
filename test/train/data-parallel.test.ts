// Data-parallel training over worker threads follows the same loss trajectory as one process
// training on the whole batch, and the replicas stay identical.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { DataParallelTrainer, type Shard } from '../../src/train/data-parallel.js';
import { clipByGlobalNorm } from '../../src/train/grad-clip.js';
import { createReplica } from '../fixtures/tiny-replica.js';
import { randn } from '../helpers/backends.js';

const BATCH = 6;
const SHAPE = [BATCH, 8, 8, 2];
const batches = Array.from({ length: 5 }, (_, i) => ({
  x: randn(SHAPE, 100 + i).data,
  y: Int32Array.from({ length: BATCH }, (_, j) => (i + j) % 3),
}));

function shardsOf(b: (typeof batches)[number], parts: number[]): Shard[] {
  const per = SHAPE.slice(1).reduce((a, c) => a * c, 1);
  let start = 0;
  return parts.map((n) => {
    const s = { x: b.x.slice(start * per, (start + n) * per), xShape: [n, ...SHAPE.slice(1)], y: b.y.slice(start, start + n) };
    start += n;
    return s;
  });
}

/** Trains the batches with 2 worker replicas on unequal shards (4 + 2, which checks the sample
 *  weighting of the average) and checks each step's loss against `reference` and every replica's
 *  weights against the single-process replica `single`. */
async function expectParallelMatches(reference: number[], single: ReturnType<typeof createReplica>, clipNorm?: number): Promise<void> {
  const trainer = await DataParallelTrainer.start({
    replicaModule: new URL('../fixtures/tiny-replica.ts', import.meta.url).href,
    replicaOptions: {},
    workers: 2,
  });
  try {
    const parallel: number[] = [];
    for (const b of batches) parallel.push(await trainer.step(shardsOf(b, [4, 2]), 0.5, clipNorm));
    for (let i = 0; i < reference.length; i++) {
      assert.ok(Math.abs(parallel[i] - reference[i]) < 1e-4, `step ${i}: parallel loss ${parallel[i]} vs single ${reference[i]}`);
    }
    let want = 0;
    for (const v of single.variables) for (const e of v.dataSync()) want += e;
    for (const s of await trainer.checksums()) assert.ok(Math.abs(s - want) < 1e-3, `replica weights ${s} vs single-process ${want}`);
  } finally {
    await trainer.close();
  }
}

describe('DataParallelTrainer', () => {
  it('matches single-process full-batch training step for step, with replicas in sync', async () => {
    await initEngine('wasm');
    const single = createReplica();
    const reference: number[] = [];
    for (const b of batches) {
      const x = tf.tensor(b.x, SHAPE);
      const y = tf.tensor1d(b.y, 'int32');
      const { value, grads } = tf.variableGrads(() => single.loss(x, y), single.variables);
      reference.push(value.dataSync()[0]);
      single.apply(single.variables.map((v) => grads[v.name]), 0.5);
      tf.dispose([x, y, value, ...Object.values(grads)]);
    }
    assert.ok(reference[4] < reference[0], 'the loss falls, so the comparison covers real updates');
    await expectParallelMatches(reference, single);
  });

  it('clips the averaged gradient to a global norm exactly as clipping the full-batch gradient', async () => {
    await initEngine('wasm');
    const MAX_NORM = 0.05; // below the unclipped norms here, so every step is clipped
    const single = createReplica();
    const reference: number[] = [];
    const norms: number[] = [];
    for (const b of batches) {
      const x = tf.tensor(b.x, SHAPE);
      const y = tf.tensor1d(b.y, 'int32');
      const { value, grads } = tf.variableGrads(() => single.loss(x, y), single.variables);
      reference.push(value.dataSync()[0]);
      const g = single.variables.map((v) => grads[v.name]);
      const norm = Math.sqrt(g.reduce((a, t) => a + tf.sum(tf.square(t)).dataSync()[0], 0));
      norms.push(norm);
      const scale = Math.min(1, MAX_NORM / (norm + 1e-6));
      const clipped = g.map((t) => tf.mul(t, scale));
      single.apply(clipped, 0.5);
      tf.dispose([x, y, value, ...Object.values(grads), ...clipped]);
    }
    assert.ok(Math.min(...norms) > MAX_NORM, `unclipped norms ${norms.map((n) => n.toFixed(3)).join(' ')} exceed ${MAX_NORM}`);
    await expectParallelMatches(reference, single, MAX_NORM);
  });

  it('clipByGlobalNorm: PyTorch clip_grad_norm_ semantics', () => {
    const g = Float32Array.from([3, 0, 4]);
    assert.equal(clipByGlobalNorm(g, 1), 5);
    const coef = 1 / (5 + 1e-6);
    assert.deepEqual([...g], [3 * coef, 0, 4 * coef].map(Math.fround));
    const small = Float32Array.from([0.3, 0.4]);
    assert.ok(Math.abs(clipByGlobalNorm(small, 1) - 0.5) < 1e-7);
    assert.deepEqual([...small], [0.3, 0.4].map(Math.fround), 'below the max norm nothing changes');
    assert.throws(() => clipByGlobalNorm(small, 0), /positive max norm/);
  });

  it('names a replica failure', async () => {
    await assert.rejects(
      DataParallelTrainer.start({ replicaModule: new URL('../fixtures/missing-replica.ts', import.meta.url).href, replicaOptions: {}, workers: 1 }),
      /replica: .*missing-replica/,
    );
  });
});
