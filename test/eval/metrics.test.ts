import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calibration, classificationReport } from '../../src/eval/metrics.js';

describe('classification metrics', () => {
  it('WAR 0.70 and UAR 0.7291667 on the spec example (methods.md §1.16 item 6)', () => {
    const r = classificationReport([0, 0, 0, 1, 1, 2, 2, 2, 2, 3], [0, 0, 1, 1, 0, 2, 2, 2, 3, 3], 4);
    assert.ok(Math.abs(r.war - 0.7) < 1e-12);
    assert.ok(Math.abs(r.uar - 0.7291667) < 1e-6);
    assert.deepEqual(r.recall, [2 / 3, 1 / 2, 3 / 4, 1]);
    assert.deepEqual(r.confusion[2], [0, 0, 3, 1]);
    assert.deepEqual(r.precision, [2 / 3, 1 / 2, 1, 1 / 2]);
  });
  it('classes absent from the ground truth are named and left out of UAR', () => {
    const r = classificationReport([0, 0, 1], [0, 2, 1], 3);
    assert.deepEqual(r.absent, [2]);
    assert.equal(r.uar, (1 / 2 + 1) / 2);
    assert.equal(r.recall[2], null);
    assert.match(r.notes[0], /class 2 has no ground-truth samples.*left out of UAR/);
    assert.equal(classificationReport([0, 1], [0, 1], 2).notes.length, 0);
  });
  it('ECE: perfectly calibrated bins give 0; overconfident ones give the gap', () => {
    const half = calibration([[0.75, 0.25], [0.75, 0.25], [0.75, 0.25], [0.75, 0.25]], [0, 0, 0, 1], 10);
    assert.ok(Math.abs(half.ece) < 1e-12);
    const over = calibration([[0.9, 0.1], [0.9, 0.1]], [0, 1], 10);
    assert.ok(Math.abs(over.ece - 0.4) < 1e-12);
    assert.equal(over.bins[8].count, 2);
    assert.ok(Math.abs(over.bins[8].confidence - 0.9) < 1e-12 && over.bins[8].accuracy === 0.5);
  });
  it('ECE with the default 15 bins on mixed confidences (hand-computed 0.45)', () => {
    // Confidences 0.95 (bin 14, correct), 0.95 (bin 14, wrong), 0.5 (bin 7, correct), 0.6 (bin 8, correct).
    const r = calibration([[0.95, 0.05], [0.05, 0.95], [0.5, 0.5], [0.4, 0.6]], [0, 0, 0, 1]);
    assert.equal(r.bins.length, 15);
    assert.deepEqual(r.bins.map((b) => b.count).filter((c) => c > 0), [1, 1, 2]);
    // (2/4)·|0.5 − 0.95| + (1/4)·|1 − 0.5| + (1/4)·|1 − 0.6| = 0.225 + 0.125 + 0.1 = 0.45
    assert.ok(Math.abs(r.ece - 0.45) < 1e-12, `${r.ece}`);
    assert.throws(() => calibration([[1, 0]], [0, 1]), /1 probability rows but 2 labels/);
  });
});
