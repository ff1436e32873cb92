// Samplers: seeded batches, class-balanced epochs, P×K triplet batches on the real CK+48 labels,
// and the U×V clip grid reached through samplers.ts with the spec's golden indices (§1.16 item 5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Rng } from '../../src/util/rng.js';
import {
  IAL_SAMPLING,
  NR_DFERNET_SAMPLING,
  classBalancedEpoch,
  indicesByClass,
  shuffledBatches,
  testFrameIndices,
  trainFrameIndices,
  tripletBatch,
  tripletBatches,
} from '../../src/data/samplers.js';
import { sharedData } from './data-fixtures.js';

/** CK+48's real label list: one entry per image, class = folder index (78 anger … 180 surprise). */
function ckLabels(): number[] {
  const root = sharedData('ckplus48');
  return readdirSync(root)
    .sort()
    .flatMap((cls, k) => readdirSync(`${root}/${cls}`).map(() => k));
}

const counts = (labels: readonly number[], idx: readonly number[]) => {
  const m = new Map<number, number>();
  for (const i of idx) m.set(labels[i], (m.get(labels[i]) ?? 0) + 1);
  return m;
};

describe('samplers', () => {
  it('shuffled batches: a seeded permutation, drop_last, evaluation order', () => {
    const a = shuffledBatches(10, 4, new Rng(1));
    assert.deepEqual(a.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(a.flat().sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(a.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(shuffledBatches(10, 4, new Rng(1)), a, 'same seed, same batches');
    assert.notDeepEqual(shuffledBatches(10, 4, new Rng(2)), a);
    assert.deepEqual(shuffledBatches(10, 4, new Rng(1), { dropLast: true }).map((b) => b.length), [4, 4]);
    assert.deepEqual(shuffledBatches(5, 2, new Rng(1), { shuffle: false }), [[0, 1], [2, 3], [4]]);
    assert.throws(() => shuffledBatches(5, 0, new Rng(1)), /batch size must be a positive integer/);
  });

  it('class-balanced epochs on CK+48: cap at perClass, or oversample to the largest class', () => {
    const labels = ckLabels();
    assert.equal(labels.length, 669);
    const sizes = [...indicesByClass(labels).values()].map((v) => v.length).sort((a, b) => a - b);
    assert.deepEqual(sizes, [33, 51, 51, 78, 138, 138, 180]);
    const capped = classBalancedEpoch(labels, new Rng(3), { mode: 'cap', perClass: 60 });
    assert.equal(new Set(capped).size, capped.length, 'capping never repeats an item');
    assert.deepEqual([...counts(labels, capped).values()].sort((a, b) => a - b), [33, 51, 51, 60, 60, 60, 60]);
    const over = classBalancedEpoch(labels, new Rng(3), { mode: 'oversample' });
    assert.equal(over.length, 7 * 180);
    assert.ok([...counts(labels, over).values()].every((c) => c === 180));
    assert.equal(new Set(over).size, 669, 'every item is used at least once');
    // Fresh subsets each epoch (the rng moves on), reproducible from the seed.
    const rng = new Rng(5);
    const e1 = classBalancedEpoch(labels, rng, { mode: 'cap', perClass: 20 });
    const e2 = classBalancedEpoch(labels, rng, { mode: 'cap', perClass: 20 });
    assert.notDeepEqual(new Set(e1), new Set(e2));
    assert.deepEqual(classBalancedEpoch(labels, new Rng(5), { mode: 'cap', perClass: 20 }), e1);
  });

  it('triplet batches: P classes × t images each, with replacement', () => {
    const labels = ckLabels();
    const b = tripletBatch(labels, new Rng(8), { perClass: 4, classesPerBatch: 5 });
    assert.equal(b.length, 20);
    const groups = Array.from({ length: 5 }, (_, g) => b.slice(4 * g, 4 * g + 4).map((i) => labels[i]));
    for (const g of groups) assert.equal(new Set(g).size, 1, 'each group of t is one class');
    assert.equal(new Set(groups.map((g) => g[0])).size, 5, 'P distinct classes');
    // A class with a single image still fills its t slots (with replacement).
    const tiny = tripletBatch([0, 1, 1, 1], new Rng(1), { perClass: 3 });
    assert.deepEqual(tiny.filter((i) => i === 0).length, 3);
    assert.equal(tripletBatches(labels, new Rng(2), { perClass: 2, count: 6 }).length, 6);
    assert.throws(() => tripletBatch([1, 1, 1], new Rng(1), { perClass: 2 }), /at least 2 classes/);
  });

  it('clip frames through samplers.ts: IAL and NR-DFERNet grids with the golden indices', () => {
    assert.deepEqual(testFrameIndices(50, IAL_SAMPLING), [1, 4, 7, 10, 14, 17, 20, 23, 26, 29, 32, 35, 39, 42, 45, 48]);
    assert.deepEqual(testFrameIndices(100, IAL_SAMPLING), [3, 9, 15, 21, 28, 34, 40, 46, 53, 59, 65, 71, 78, 84, 90, 96]);
    assert.deepEqual(testFrameIndices(17, IAL_SAMPLING), [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert.deepEqual(testFrameIndices(16, IAL_SAMPLING), new Array(16).fill(0), 'faithful mode: the reference quirk');
    const rng = new Rng(3);
    for (let k = 0; k < 20; k++) {
      trainFrameIndices(50, IAL_SAMPLING, rng).forEach((f, u) => assert.ok(f - 3 * u >= 0 && f - 3 * u <= 2));
      trainFrameIndices(32, IAL_SAMPLING, rng).forEach((f, u) => assert.ok(f - 2 * u >= 0 && f - 2 * u <= 1));
    }
    for (const n of [16, 31]) assert.deepEqual(trainFrameIndices(n, IAL_SAMPLING, rng), Array.from({ length: 16 }, (_, i) => i));
    assert.equal(testFrameIndices(100, NR_DFERNET_SAMPLING).length, 16);
  });
});
