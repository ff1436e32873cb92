// foldEnsemble: fer-cnn classifiers of different widths folded into one network give exactly the
// weighted mean of their logits, through TF.js and through the exported ONNX graph, and members
// that cannot fold are refused with the member named.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { foldEnsemble } from '../../src/models/ce/fold-ensemble.js';
import type { FerModel } from '../../src/models/model.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';

before(async () => {
  await initEngine('wasm');
});

const member = smallFerCnn;

const logitsOf = (m: FerModel, x: tf.Tensor) => tf.tidy(() => m.forward(x, false).logits.arraySync() as number[][]);

describe('foldEnsemble', () => {
  it('folds members of different widths into one network whose logits are their weighted mean', () => {
    const a = member([[4, 6], [8], [12, 10]], 1);
    const b = member([[3, 5], [7], [9, 11]], 2);
    const c = member([[2, 2], [4], [5, 6]], 3);
    const w = [0.5, 0.3, 0.2];
    // Relative weights: 5:3:2 is the same mean as 0.5/0.3/0.2.
    const folded = foldEnsemble([a, b, c], { weights: [5, 3, 2], names: ['a', 'b', 'c'] });
    assert.deepEqual(folded.config.backboneOptions, { stages: [[9, 13], [19], [26, 27]], widthMultiplier: 1 });
    const info = folded.config.info as { ensemble: { source: string; weight: number }[] };
    assert.deepEqual(info.ensemble.map((e) => [e.source, e.weight]), [['a', 0.5], ['b', 0.3], ['c', 0.2]]);
    const x = tf.randomNormal([5, 16, 16, 1], 0, 1, 'float32', 7);
    const parts = [a, b, c].map((m) => logitsOf(m, x));
    const want = parts[0].map((row, n) => row.map((_, k) => parts.reduce((s, p, i) => s + w[i] * p[n][k], 0)));
    const got = logitsOf(folded, x);
    let maxDiff = 0;
    got.forEach((row, n) => row.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - want[n][k])))));
    assert.ok(maxDiff < 1e-4, `folded logits differ from the weighted mean by ${maxDiff}`);
    // Not a trivial agreement: the members themselves disagree.
    assert.ok(Math.abs(parts[0][0][0] - parts[1][0][0]) > 1e-3);
    x.dispose();
  });

  it('mirror folds flip test-time augmentation in: the mean over members and their flipped inputs', () => {
    const a = member([[4, 6], [8], [12, 10]], 1);
    const b = member([[3, 5], [7], [9, 11]], 2);
    const w = [0.6, 0.4];
    const folded = foldEnsemble([a, b], { weights: w, mirror: true });
    assert.deepEqual(folded.config.backboneOptions, { stages: [[14, 22], [30], [42, 42]], widthMultiplier: 1 });
    assert.equal((folded.config.info as { mirrored: boolean }).mirrored, true);
    const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 8);
    const flipped = tf.reverse(x, 2);
    const parts = [a, b].flatMap((m) => [logitsOf(m, x), logitsOf(m, flipped)]);
    const want = parts[0].map((row, n) => row.map((_, k) => parts.reduce((s, p, j) => s + (w[j >> 1] / 2) * p[n][k], 0)));
    const got = logitsOf(folded, x);
    let maxDiff = 0;
    got.forEach((row, n) => row.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - want[n][k])))));
    assert.ok(maxDiff < 1e-4, `mirror-folded logits differ from the flip-TTA mean by ${maxDiff}`);
    assert.ok(Math.abs(parts[0][0][0] - parts[1][0][0]) > 1e-3, 'a member and its mirror image disagree, so the test sees the flip');
    // The folded network itself is flip-invariant.
    const gotFlipped = logitsOf(folded, flipped);
    gotFlipped.forEach((row, n) => row.forEach((v, k) => assert.ok(Math.abs(v - got[n][k]) < 1e-4)));
    tf.dispose([x, flipped]);
  });

  it('refuses to mirror where a pooling halves an odd width', () => {
    const odd = { kind: 'image' as const, size: [18, 18] as [number, number], channels: 1 as const, mean: [0.5], std: [0.25] };
    const m = (seed: number, stages: number[][]) => member(stages, seed, { input: odd });
    assert.throws(() => foldEnsemble([m(1, [[4], [6], [8]]), m(2, [[4], [6], [8]])], { mirror: true }), /input 18x18 is 9 wide before stage 3/);
    assert.doesNotThrow(() => foldEnsemble([m(1, [[4], [6]]), m(2, [[4], [6]])], { mirror: true }));
  });

  it('saves, reloads and exports to ONNX like any model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferkit-fold-'));
    try {
      const folded = foldEnsemble([member([[4], [6]], 4), member([[2], [3]], 5)]);
      await saveModel(dir, folded);
      const again = await loadModel(dir);
      const x = tf.randomNormal([3, 16, 16, 1], 0, 1, 'float32', 9);
      assert.deepEqual(logitsOf(again, x), logitsOf(folded, x));
      const { writeOnnx } = await import('../../src/export/onnx/index.js');
      const { verifyOnnx } = await import('../../src/export/onnx/verify.js');
      const diff = await verifyOnnx(again, await writeOnnx(again, dir));
      assert.ok(diff < 1e-4, `ONNX vs TF.js: ${diff}`);
      x.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses members that do not fold, naming them', () => {
    const a = member([[4], [6]], 1);
    assert.throws(() => foldEnsemble([a]), /at least two models/);
    assert.deepEqual(foldEnsemble([a], { mirror: true }).config.backboneOptions, { stages: [[8], [12]], widthMultiplier: 1 });
    assert.throws(() => foldEnsemble([a, member([[4], [6], [8]], 2)], { names: ['a', 'deep'] }), /deep: stage layout/);
    assert.throws(() => foldEnsemble([a, member([[4], [6]], 2, { classes: ['angry', 'happy'] })], { names: ['a', 'two'] }), /two: classes/);
    const rgb = { kind: 'image' as const, size: [16, 16] as [number, number], channels: 3 as const, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    assert.throws(() => foldEnsemble([a, member([[4], [6]], 2, { input: rgb })], { names: ['a', 'rgb'] }), /rgb: input/);
    assert.throws(() => foldEnsemble([a, member([[4], [6]], 2, { method: 'scn', methodOptions: {} })], { names: ['a', 'scn'] }), /scn: only cross-entropy/);
    assert.throws(() => foldEnsemble([a, a], { weights: [1, -1] }), /positive numbers/);
  });
});
