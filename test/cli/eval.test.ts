// `ferkit eval` as a user runs it: the bundled model on a folder of real FER2013 val faces, JSON
// fields as the issue states, scores equal to the library's evaluate(), classes the model does not
// know (CK+48 contempt) reported and left out, bad input named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { readImages } from '../../src/data/registry.js';
import { loadModel } from '../../src/models/io.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

/** 12 val faces per FER2013 class, plus 5 CK+48 contempt faces, in a temp folder per class. */
function fixture(): string {
  const root = tempDir('eval');
  for (const cls of readdirSync(sharedData('fer2013', 'val'))) {
    mkdirSync(join(root, cls));
    for (const f of readdirSync(sharedData('fer2013', 'val', cls)).sort().slice(0, 12)) copyFileSync(sharedData('fer2013', 'val', cls, f), join(root, cls, f));
  }
  mkdirSync(join(root, 'contempt'));
  for (const f of readdirSync(sharedData('ckplus48', 'contempt')).sort().slice(0, 5)) copyFileSync(sharedData('ckplus48', 'contempt', f), join(root, 'contempt', f));
  return root;
}

describe('ferkit eval', () => {
  it('scores the bundled model on real faces; JSON equals evaluate(); unknown classes left out', async () => {
    const root = fixture();
    const r = ferkit(['--quiet', 'eval', '--data', root, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    for (const k of ['n', 'war', 'uar', 'per_class', 'macro_f1', 'ece']) assert.ok(k in j, `missing ${k}`);
    assert.equal(j.n, 84);
    assert.deepEqual(j.left_out, { contempt: 5 });
    assert.deepEqual(Object.keys(j.per_class), ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    await initEngine('wasm');
    const ds = await readImages('folder', root);
    const e = await evaluate(await loadModel(), ds.items);
    assert.ok(Math.abs(e.war - j.war) < 1e-12 && Math.abs(e.uar - j.uar) < 1e-12, `CLI ${j.war}/${j.uar} vs library ${e.war}/${e.uar}`);
    assert.ok(j.war > 1 / 7, `bundled model WAR ${j.war} is not above chance on real faces`);
  });

  it('names a missing model folder and a missing data folder', () => {
    const a = ferkit(['--quiet', 'eval', '--model', '/nonexistent/model', '--data', '/tmp']);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /\/nonexistent\/model: no such model folder/);
    const b = ferkit(['--quiet', 'eval', '--data', '/nonexistent/faces']);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /\/nonexistent\/faces/);
  });
});
