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
  });
  it('ECE: perfectly calibrated bins give 0; overconfident ones give the gap', () => {
    const half = calibration([[0.75, 0.25], [0.75, 0.25], [0.75, 0.25], [0.75, 0.25]], [0, 0, 0, 1], 10);
    assert.ok(Math.abs(half.ece) < 1e-12);
    const over = calibration([[0.9, 0.1], [0.9, 0.1]], [0, 1], 10);
    assert.ok(Math.abs(over.ece - 0.4) < 1e-12);
    assert.equal(over.bins[8].count, 2);
  });
});
