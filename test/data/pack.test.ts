// Pack files: real FER2013 faces packed and read back bit-exactly through the `packed` reader;
// damaged packs are refused with the file named. Label noise flips exactly the asked fraction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImages, readDataset } from '../../src/data/registry.js';
import { decodeImageFile } from '../../src/data/image.js';
import { readPack, writePack } from '../../src/data/pack.js';
import { flipLabels } from '../../src/data/label-noise.js';
import { DataError } from '../../src/data/errors.js';
import { sharedData, tempDir } from './data-fixtures.js';

describe('pack files', () => {
  it('round-trips real faces, labels and ids through the packed reader', async () => {
    const ds = await readImages('folder', sharedData('fer2013'), { split: 'val' });
    const items = ds.items.filter((_, i) => i % 300 === 0);
    const rasters = await Promise.all(items.map((s) => decodeImageFile((s.image as { path: string }).path, { channels: 1 })));
    const file = join(tempDir('pack'), 'val.fkpack');
    await writePack(file, items.map((s, i) => ({ id: s.id, label: s.label, raster: rasters[i] })), { dataset: 'folder' });
    const back = await readDataset('packed', file);
    assert.equal(back.items.length, items.length);
    back.items.forEach((s, i) => {
      assert.equal(s.id, items[i].id);
      assert.equal(s.label, items[i].label);
      const img = (s as { image: { kind: string; data: Uint8Array } }).image;
      assert.equal(img.kind, 'pixels');
      assert.deepEqual(Buffer.from(img.data), Buffer.from(rasters[i].data));
    });
    assert.deepEqual(back.classes, [...new Set(items.map((s) => s.label))].sort((a, b) => a - b));
  });

  it('refuses truncated and foreign files, naming them', async () => {
    const dir = tempDir('pack-bad');
    const good = join(dir, 'good.fkpack');
    const r = { width: 2, height: 2, channels: 1 as const, data: new Uint8Array([1, 2, 3, 4]) };
    await writePack(good, [{ id: 'a', label: 3, raster: r }, { id: 'b', label: 5, raster: r }]);
    const cut = join(dir, 'cut.fkpack');
    copyFileSync(good, cut);
    truncateSync(cut, 30);
    await assert.rejects(readPack(cut), (e: unknown) => e instanceof DataError && e.message.includes(cut));
    const foreign = join(dir, 'foreign.fkpack');
    writeFileSync(foreign, 'not a pack at all');
    await assert.rejects(readPack(foreign), /bad magic/);
  });
});

describe('label noise', () => {
  it('flips exactly round(rate·n) labels, each to another class, reproducibly', () => {
    const labels = Array.from({ length: 1000 }, (_, i) => i % 7);
    const classes = [0, 1, 2, 3, 4, 5, 6];
    const a = flipLabels(labels, classes, 0.2, 5);
    const b = flipLabels(labels, classes, 0.2, 5);
    assert.equal(a.flipped.length, 200);
    assert.deepEqual(a.labels, b.labels);
    let changed = 0;
    a.labels.forEach((y, i) => (changed += y !== labels[i] ? 1 : 0));
    assert.equal(changed, 200);
    for (const i of a.flipped) assert.notEqual(a.labels[i], labels[i]);
    assert.notDeepEqual(flipLabels(labels, classes, 0.2, 6).flipped, a.flipped);
    assert.throws(() => flipLabels(labels, classes, 1.5, 0), /\[0, 1\]/);
  });
});
