// Frame indices against the golden values of methods.md §1.16 item 5 (golden_ial.py).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IAL_SAMPLING, NR_DFERNET_SAMPLING, testFrameIndices, trainFrameIndices } from '../../src/data/clip-sampling.js';
import { Rng } from '../../src/util/rng.js';

describe('U×V clip sampling', () => {
  it('test indices (U16×V1) for n = 50, 100, 17 and the n = 16 quirk', () => {
    assert.deepEqual(testFrameIndices(50, IAL_SAMPLING), [1, 4, 7, 10, 14, 17, 20, 23, 26, 29, 32, 35, 39, 42, 45, 48]);
    assert.deepEqual(testFrameIndices(100, IAL_SAMPLING), [3, 9, 15, 21, 28, 34, 40, 46, 53, 59, 65, 71, 78, 84, 90, 96]);
    assert.deepEqual(testFrameIndices(17, IAL_SAMPLING), [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert.deepEqual(testFrameIndices(16, IAL_SAMPLING), new Array(16).fill(0));
    assert.deepEqual(testFrameIndices(16, { ...IAL_SAMPLING, shortClips: 'spread' }), Array.from({ length: 16 }, (_, i) => i));
  });
  it('train grid (U16×V1): n = 50 → avg 3, n = 32 → avg 2, n = 16 and 31 → frames 0..15', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const idx50 = trainFrameIndices(50, IAL_SAMPLING, rng);
      idx50.forEach((f, u) => assert.ok(f >= 3 * u && f <= 3 * u + 2, `n=50 segment ${u}: ${f}`));
      trainFrameIndices(32, IAL_SAMPLING, rng).forEach((f, u) => assert.ok(f === 2 * u || f === 2 * u + 1));
    }
    for (const n of [16, 31]) assert.deepEqual(trainFrameIndices(n, IAL_SAMPLING, rng), Array.from({ length: 16 }, (_, i) => i));
  });
  it('NR-DFERNet U8×V2: pairs of consecutive frames; the last frame repeats at the clip end', () => {
    assert.deepEqual(testFrameIndices(50, NR_DFERNET_SAMPLING), [3, 4, 9, 10, 15, 16, 21, 22, 27, 28, 33, 34, 39, 40, 45, 46]);
    const tr = trainFrameIndices(50, NR_DFERNET_SAMPLING, new Rng(1));
    assert.equal(tr.length, 16);
    for (let k = 0; k < 8; k++) {
      assert.equal(tr[2 * k + 1], tr[2 * k] + 1);
      assert.ok(tr[2 * k] >= 6 * k && tr[2 * k] < 6 * k + 6);
    }
    assert.deepEqual(testFrameIndices(9, NR_DFERNET_SAMPLING).slice(-2), [0, 1], 'short clip: first frames');
    assert.deepEqual(trainFrameIndices(3, { ...NR_DFERNET_SAMPLING, segments: 1 }, new Rng(2)).length, 2);
  });
  it('is reproducible from the RNG state', () => {
    const a = new Rng(42);
    const first = trainFrameIndices(100, IAL_SAMPLING, a);
    const state = a.getState();
    const second = trainFrameIndices(100, IAL_SAMPLING, a);
    const b = new Rng(0);
    b.setState(state);
    assert.deepEqual(trainFrameIndices(100, IAL_SAMPLING, b), second);
    assert.deepEqual(trainFrameIndices(100, IAL_SAMPLING, new Rng(42)), first);
  });
});
