import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { batchHardTriplet, PATTERN_MAP_TRIPLET } from '../../src/losses/triplet.js';
import { snippetFilter } from '../../src/losses/snippet-filter.js';
import { randn } from '../helpers/backends.js';

/** The pattern-map seed's rule as plain loops over classes and anchors. */
function seedLoop(e: number[][], labels: number[], margin: number): number {
  const d = (a: number[], b: number[]) => a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0);
  let total = 0;
  for (const cls of new Set(labels)) {
    const pos = labels.flatMap((l, i) => (l === cls ? [i] : []));
    const neg = labels.flatMap((l, i) => (l !== cls ? [i] : []));
    if (neg.length === 0) continue;
    for (const a of pos) {
      const dap = Math.max(...pos.map((p) => d(e[a], e[p])));
      const dan = Math.min(...neg.map((q) => d(e[a], e[q])));
      total += Math.max(0, dap - dan + margin);
    }
  }
  return total / labels.length;
}

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
  });
  it('the vectorised form equals the seed loop rule on random data (with a single-sample class)', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const h = randn([9, 4], seed);
      const e = Array.from({ length: 9 }, (_, i) => Array.from(h.data.slice(i * 4, i * 4 + 4)).map((v) => v * 0.3));
      const labels = [0, 1, 2, 0, 1, 2, 0, 1, 3];
      const got = batchHardTriplet(tf.tensor2d(e), labels, PATTERN_MAP_TRIPLET).dataSync()[0];
      const want = seedLoop(e, labels, 0.2);
      assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, want), `seed ${seed}: ${got} vs ${want}`);
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
