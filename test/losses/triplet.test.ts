import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { batchHardTriplet, batchHardTripletLoop, PATTERN_MAP_TRIPLET } from '../../src/losses/triplet.js';
import { snippetFilter } from '../../src/losses/snippet-filter.js';
import { randn } from '../helpers/backends.js';

const EUCLID = { margin: 0.3, squared: false, includeSelf: false, reduction: 'anchors' } as const;

before(async () => {
  await initEngine('wasm');
});

describe('batch-hard triplet loss', () => {
  it('golden values (methods.md §4.3): 0.3900981 on the hard case, 0 when well separated', () => {
    const hard = batchHardTriplet(tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1.2]]), [0, 0, 1, 1], EUCLID);
    assert.ok(Math.abs(hard.dataSync()[0] - 0.3900981) < 1e-5, `${hard.dataSync()[0]}`);
    const easy = batchHardTriplet(tf.tensor2d([[0, 0], [0, 1], [3, 0], [2, 1]]), [0, 0, 1, 1], EUCLID);
    assert.equal(easy.dataSync()[0], 0);
    const loop = batchHardTripletLoop([[0, 0], [0, 1], [1, 0], [1, 1.2]], [0, 0, 1, 1], EUCLID);
    assert.ok(Math.abs(loop - 0.3900981) < 1e-6, `loop ${loop}`);
  });
  it('the seed rule by hand: 3 points on a line', () => {
    // Squared distances: a=0 (class 0) has positives {itself 0, x=1 → 1}, negative x=3 → 9.
    // Anchors: 0 → max(0, 1 − 9 + 0.2) = 0; 1 → max(0, 1 − 4 + 0.2) = 0; class 1 has no positive
    // but itself → d_ap 0, d_an 4 → 0. With margin 5: 0 (1−9+5 < 0) + 2 (1−4+5) + 1 (0−4+5) = 3, / 3 = 1.
    const e = [[0], [1], [3]];
    const opts = { ...PATTERN_MAP_TRIPLET, margin: 5 };
    assert.equal(batchHardTripletLoop(e, [0, 0, 1], opts), 1);
    assert.ok(Math.abs(batchHardTriplet(tf.tensor2d(e), [0, 0, 1], opts).dataSync()[0] - 1) < 1e-6);
    // Self-exclusive: the single-sample class contributes nothing; the rest is averaged over 2.
    const excl = { margin: 5, squared: true, includeSelf: false, reduction: 'anchors' } as const;
    assert.equal(batchHardTripletLoop(e, [0, 0, 1], excl), 1);
    assert.ok(Math.abs(batchHardTriplet(tf.tensor2d(e), [0, 0, 1], excl).dataSync()[0] - 1) < 1e-6);
  });
  it('the vectorised form equals the seed loop rule on random data (with a single-sample class)', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const h = randn([9, 4], seed);
      const e = Array.from({ length: 9 }, (_, i) => Array.from(h.data.slice(i * 4, i * 4 + 4)).map((v) => v * 0.3));
      const labels = [0, 1, 2, 0, 1, 2, 0, 1, 3];
      const got = batchHardTriplet(tf.tensor2d(e), labels, PATTERN_MAP_TRIPLET).dataSync()[0];
      const want = batchHardTripletLoop(e, labels, PATTERN_MAP_TRIPLET);
      assert.ok(want > 0, 'the random case exercises the hinge');
      assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, want), `seed ${seed}: ${got} vs ${want}`);
      const euclid = batchHardTriplet(tf.tensor2d(e), labels, EUCLID).dataSync()[0];
      const euclidLoop = batchHardTripletLoop(e, labels, EUCLID);
      assert.ok(Math.abs(euclid - euclidLoop) < 1e-4 * Math.max(1, euclidLoop), `seed ${seed} euclid: ${euclid} vs ${euclidLoop}`);
    }
  });
  it('has a finite gradient', () => {
    const g = tf.grad((x: tf.Tensor) => batchHardTriplet(x as tf.Tensor2D, [0, 0, 1, 1], EUCLID))(tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1.2]]));
    assert.ok(g.dataSync().every(Number.isFinite));
    assert.ok(g.dataSync().some((v) => v !== 0));
  });
});

describe('NR-DFERNet snippet filter (methods.md §1.16 item 7)', () => {
  const uniform = () => Array.from({ length: 7 }, () => new Array(7).fill(1 / 7));
  it('a confident non-neutral snippet suppresses neutral; max 0.70 does not', () => {
    const p = uniform();
    p[3] = [0.8, 0.05, 0.02, 0.04, 0.03, 0.03, 0.03];
    assert.equal(snippetFilter(p), true);
    p[3] = [0.7, 0.05, 0.02, 0.04, 0.03, 0.03, 0.13];
    assert.equal(snippetFilter(p), false);
  });
});
