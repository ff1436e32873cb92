// The real folders in ../shared/data read through the readers, against the counts in its README.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { className } from '../../src/data/labels.js';
import { datasets, readDataset } from '../../src/data/registry.js';
import type { ClipSample, Dataset } from '../../src/data/types.js';
import { classCounts } from '../../src/data/validate.js';
import { sharedData } from './data-fixtures.js';

const named = (ds: Dataset<{ label: number }>) => Object.fromEntries([...classCounts(ds)].map(([c, n]) => [className(c), n]));

describe('real FER2013 through the folder reader', () => {
  it('val split: the README counts per class', async () => {
    const ds = await readDataset('folder', sharedData('fer2013'), { split: 'val' });
    assert.deepEqual(named(ds), { angry: 467, disgust: 56, fear: 496, happy: 895, sad: 653, surprise: 415, neutral: 607 });
    assert.equal(ds.items.length, 3589);
    assert.ok(ds.items.every((s) => s.split === 'val'));
    assert.deepEqual(ds.skipped, []);
  });
  it('a class folder read directly needs no split folders', async () => {
    const ds = await readDataset('folder', sharedData('fer2013', 'val'));
    assert.equal(ds.items.length, 3589);
    assert.equal(ds.items[0]!.split, undefined);
  });
  it('an unknown split names the root and the split folders found', async () => {
    await assert.rejects(readDataset('folder', sharedData('fer2013'), { split: 'test' }), (e: Error) => {
      assert.match(e.message, /fer2013: no split folder "test" \(found: train, val\)/);
      return true;
    });
  });
});

describe('real CK+48 through the ckplus readers', () => {
  it('669 images with the README counts, subjects from file names', async () => {
    const ds = await readDataset('ckplus', sharedData('ckplus48'));
    assert.equal(ds.items.length, 669);
    assert.deepEqual(named(ds), { angry: 78, disgust: 138, fear: 51, happy: 138, sad: 51, surprise: 180, contempt: 33 });
    for (const s of ds.items) assert.equal(s.subject, basename(s.id).split('_')[0]);
    assert.ok(new Set(ds.items.map((s) => s.subject)).size > 50);
  });
  it('223 three-frame clips grouped by subject and sequence, frames in order', async () => {
    assert.equal(datasets.get('ckplus-clips').create.kind, 'clip');
    const ds = (await readDataset('ckplus-clips', sharedData('ckplus48'))) as Dataset<ClipSample>;
    assert.equal(ds.items.length, 223);
    for (const clip of ds.items) {
      const frames = clip.frames as Array<{ kind: 'file'; path: string }>;
      assert.equal(frames.length, 3, clip.id);
      const names = frames.map((f) => basename(f.path));
      assert.ok(names.every((n) => n.startsWith(`${clip.id}_`)), clip.id);
      assert.deepEqual([...names].sort(), names);
    }
    // 3 frames per clip, same class counts / 3
    assert.deepEqual(named(ds), { angry: 26, disgust: 46, fear: 17, happy: 46, sad: 17, surprise: 60, contempt: 11 });
  });
  it('a split on a dataset without splits is refused, pointing to subject folds', async () => {
    await assert.rejects(readDataset('ckplus', sharedData('ckplus48'), { split: 'train' }), /ckplus48: ckplus has no "train" split .*subject folds/);
  });
  it('the registry knows every format and its aliases', () => {
    for (const n of ['folder', 'fer2013', 'ferplus', 'rafdb', 'affectnet', 'ckplus', 'ckplus-clips', 'jaffe', 'oulu', 'oulu-peak', 'dfew', 'ferv39k', 'affwild2', 'clips']) {
      assert.ok(datasets.has(n), n);
    }
    assert.equal(datasets.get('RAF-DB').name, 'rafdb');
    assert.throws(() => datasets.get('nope'), /unknown dataset "nope"; known: /);
  });
});
