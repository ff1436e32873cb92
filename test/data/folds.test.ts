// k-fold splits: subject-independent with subjects, stratified (with a warning) without.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kFolds, stratifiedFolds, subjectFolds } from '../../src/data/folds.js';
import { readDataset } from '../../src/data/registry.js';
import { sharedData } from './data-fixtures.js';

function assertPartition(folds: { train: number[]; test: number[] }[], n: number): void {
  const seen = new Array<number>(n).fill(0);
  for (const f of folds) {
    for (const i of f.test) seen[i]! += 1;
    assert.equal(f.train.length + f.test.length, n);
    const test = new Set(f.test);
    assert.ok(f.train.every((i) => !test.has(i)));
  }
  assert.ok(seen.every((c) => c === 1), 'every item is tested exactly once');
}

describe('subject folds on real CK+48', async () => {
  const ds = await readDataset('ckplus', sharedData('ckplus48'));
  it('no subject on both sides; balanced; deterministic by seed', () => {
    const k = 5;
    const split = subjectFolds(ds.items, k, 7);
    assert.equal(split.subjectIndependent, true);
    assertPartition(split.folds, ds.items.length);
    for (const f of split.folds) {
      const testSubjects = new Set(f.test.map((i) => ds.items[i]!.subject));
      for (const i of f.train) assert.ok(!testSubjects.has(ds.items[i]!.subject), `subject ${ds.items[i]!.subject} on both sides`);
    }
    const sizes = split.folds.map((f) => f.test.length);
    const perSubject = new Map<string, number>();
    for (const s of ds.items) perSubject.set(s.subject!, (perSubject.get(s.subject!) ?? 0) + 1);
    const largestSubject = Math.max(...perSubject.values());
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= largestSubject, `fold sizes ${sizes}`);
    assert.deepEqual(subjectFolds(ds.items, k, 7).foldOf, split.foldOf);
    assert.notDeepEqual(subjectFolds(ds.items, k, 8).foldOf, split.foldOf);
  });
  it('kFolds picks subject folds when every sample has a subject', () => {
    let warned = '';
    const split = kFolds(ds.items, 3, 1, (m) => (warned = m));
    assert.equal(split.subjectIndependent, true);
    assert.equal(warned, '');
  });
});

describe('stratified fallback', () => {
  const items = Array.from({ length: 103 }, (_, i) => ({ label: i % 7 === 0 ? 1 : i % 3 }));
  it('partitions, keeps fold sizes within 1 and classes spread, and warns', () => {
    let warned = '';
    const split = kFolds(items, 5, 3, (m) => (warned = m));
    assert.equal(split.subjectIndependent, false);
    assert.match(warned, /NOT subject-independent/);
    assertPartition(split.folds, items.length);
    const sizes = split.folds.map((f) => f.test.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
    for (const label of [0, 1, 2]) {
      const total = items.filter((s) => s.label === label).length;
      for (const f of split.folds) {
        const n = f.test.filter((i) => items[i]!.label === label).length;
        assert.ok(Math.abs(n - total / 5) <= 1, `class ${label}: ${n} of ${total} in a fold`);
      }
    }
    assert.deepEqual(stratifiedFolds(items, 5, 3).foldOf, split.foldOf);
  });
  it('rejects bad k and items without subjects for subjectFolds', () => {
    assert.throws(() => stratifiedFolds(items, 1), /k >= 2/);
    assert.throws(() => subjectFolds(items, 2), /no subject/);
    assert.throws(() => subjectFolds([{ label: 0, subject: 'a' }], 2), /cannot make 2 folds from 1 subjects/);
  });
});
