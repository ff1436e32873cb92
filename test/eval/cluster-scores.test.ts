// Davies-Bouldin and Calinski-Harabasz against values computed independently with numpy from the
// textbook formulas (test/eval/cluster-scores-reference.py).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calinskiHarabasz, daviesBouldin, groupClusters } from '../../src/eval/cluster-scores.js';

const X = [
  [0.1, 0.2, -0.3], [0.4, -0.1, 0.0], [-0.2, 0.3, 0.1], [0.0, 0.0, 0.5], [0.3, 0.1, -0.1],
  [2.0, 1.8, 0.2], [2.3, 2.1, -0.1], [1.7, 2.2, 0.4], [2.1, 1.6, 0.0],
  [-1.5, 2.5, 1.0], [-1.9, 2.2, 1.4], [-1.2, 2.9, 0.7],
  [0.5, -2.0, 2.0], [0.9, -2.4, 1.6],
];
const y = [0, 0, 0, 0, 0, 2, 2, 2, 2, 5, 5, 5, 7, 7];
const mixed = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);

describe('cluster scores', () => {
  it('match the numpy reference on 4 separated clusters and on a mixed labelling', () => {
    close(daviesBouldin(X, y), 0.25753470134778234, 'DB');
    close(calinskiHarabasz(X, y), 94.05699287589056, 'CH');
    close(daviesBouldin(X, mixed), 9.384371633025012, 'DB mixed');
    close(calinskiHarabasz(X, mixed), 0.1136626099315981, 'CH mixed');
  });
  it('accept a flat row-major array with its dimension, and do not depend on row order', () => {
    close(daviesBouldin(Float32Array.from(X.flat()), y, 3), daviesBouldin(X.map((r) => r.map(Math.fround)), y), 'flat DB');
    const perm = X.map((_, i) => (i * 5) % X.length);
    close(calinskiHarabasz(perm.map((i) => X[i]), perm.map((i) => y[i])), 94.05699287589056, 'permuted CH');
  });
  it('scale as the definitions say: DB unchanged and CH unchanged under uniform scaling', () => {
    const scaled = X.map((r) => r.map((v) => v * 3));
    close(daviesBouldin(scaled, y), 0.25753470134778234, 'DB ×3');
    close(calinskiHarabasz(scaled, y), 94.05699287589056, 'CH ×3');
  });
  it('group clusters by sorted label, and refuse too few clusters or mismatched inputs', () => {
    const cl = groupClusters(X, y);
    assert.deepEqual(cl.labels, [0, 2, 5, 7]);
    assert.deepEqual(cl.members[3], [12, 13]);
    close(cl.centroids[3][1], -2.2, 'centroid');
    assert.throws(() => daviesBouldin(X, new Array(14).fill(1)), /needs 2 ≤ clusters < samples/);
    assert.throws(() => calinskiHarabasz(X.slice(0, 3), [0, 1, 2]), /clusters < samples/);
    assert.throws(() => daviesBouldin(X, y.slice(1)), /14 embeddings but 13 labels/);
    assert.throws(() => daviesBouldin(new Float32Array(10), [0, 1, 0], 3), /10 values do not make 3 rows of 3/);
  });
});
