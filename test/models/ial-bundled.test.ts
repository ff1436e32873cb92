// The committed CK+48 clip model (models/ial-ckplus48) loads through the methods registry and
// re-scores its held-out fold (the subjects listed in its config) exactly as its training logged.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.js';
import { readDataset } from '../../src/data/registry.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { sharedData } from '../data/data-fixtures.js';

before(async () => {
  await initEngine('wasm');
});

describe('models/ial-ckplus48', () => {
  it('scores its held-out CK+48 subjects with the WAR/UAR recorded at save time', async () => {
    const model = await loadModel(bundledModelDir('ial-ckplus48'));
    assert.equal(model.config.method, 'ial');
    assert.equal(model.config.input.kind, 'clip');
    const info = model.config.info as { testSubjects: string[]; war: number; uar: number };
    const ds = await readDataset('ckplus-clips', sharedData('ckplus48'));
    const test = ds.items.filter((s) => info.testSubjects.includes(s.subject!));
    assert.equal(test.length, 45);
    const e = await evaluate(model, test);
    assert.equal(e.n, 45);
    assert.ok(Math.abs(e.war - info.war) < 1e-9, `WAR ${e.war} vs logged ${info.war}`);
    assert.ok(Math.abs(e.uar - info.uar) < 1e-9, `UAR ${e.uar} vs logged ${info.uar}`);
    model.dispose();
  });
});
