// Model folders that cannot go stale: config.json records the weights' fingerprint, model.onnx the
// one it was exported from; a model saved again over an old model.onnx (a retrain into the same
// --out) is never answered by the old graph. Also: no model with NaN weights is ever written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { writeOnnx } from '../../src/export/onnx/index.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { onnxMetadata } from '../../src/infer/onnx-runner.js';
import { bundledModelDir, loadModel, saveModel } from '../../src/models/io.js';
import { fingerprintFile, fingerprintTensors } from '../../src/nn/checkpoint.js';
import { tempDir } from '../data/data-fixtures.js';
import { smallFerCnn } from '../helpers/small-fer-cnn.js';

const configOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { fingerprint?: string };

describe('weights fingerprints', () => {
  it('the same weights give the same fingerprint in memory, in the file and in config.json; other weights another', async () => {
    await initEngine();
    const dir = tempDir('fingerprint');
    const a = smallFerCnn([[8], [8]], 1);
    await saveModel(dir, a);
    const fp = fingerprintTensors(a.stateDict());
    assert.match(fp, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await fingerprintFile(join(dir, 'model.safetensors')), fp);
    assert.equal(configOf(dir).fingerprint, fp);
    assert.equal(fingerprintTensors((await loadModel(dir)).stateDict()), fp);
    assert.notEqual(fingerprintTensors(smallFerCnn([[8], [8]], 2).stateDict()), fp);
  });

  it('a retrained model saved over an old model.onnx: auto runs TF.js and says why, onnx refuses with the fix', async () => {
    const dir = tempDir('stale');
    const first = smallFerCnn([[8], [8]], 1);
    await saveModel(dir, first);
    await writeOnnx(first, dir);
    assert.equal(onnxMetadata(readFileSync(join(dir, 'model.onnx')))['ferkit.weights'], configOf(dir).fingerprint);
    const fresh = await loadModelFolder(dir);
    assert.equal(fresh.engine, 'onnxruntime');

    const retrained = smallFerCnn([[8], [8]], 7);
    await saveModel(dir, retrained); // as the trainer saves best/ again
    const notes: string[] = [];
    const auto = await loadModelFolder(dir, { onNote: (n) => notes.push(n) });
    assert.match(auto.engine, /^tfjs-/);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /model\.onnx is stale: it was exported from other weights .*`ferkit export --model .* --format onnx`/);
    await assert.rejects(loadModelFolder(dir, { runtime: 'onnx' }), /model\.onnx is stale/);
    // The answer is the retrained model's, not the old graph's.
    const x = new Float32Array(2 * 16 * 16).map((_, i) => Math.sin(i));
    const want = tf.tidy(() => tf.softmax(retrained.forward(tf.tensor(x, [2, 16, 16, 1])).logits).dataSync());
    const got = (await auto.run(x, [2, 16, 16, 1])).probs;
    want.forEach((p, i) => assert.ok(Math.abs(p - got[i]) < 1e-5));

    await writeOnnx(retrained, dir);
    assert.equal((await loadModelFolder(dir)).engine, 'onnxruntime', 'exported again: ONNX Runtime runs it');
  });

  it('the bundled models carry their fingerprints and run on ONNX Runtime without a note', async () => {
    for (const name of ['fer2013-cnn', 'ial-ckplus48']) {
      const dir = bundledModelDir(name);
      const fp = await fingerprintFile(join(dir, 'model.safetensors'));
      assert.equal(configOf(dir).fingerprint, fp, `${name}/config.json`);
      assert.equal(onnxMetadata(readFileSync(join(dir, 'model.onnx')))['ferkit.weights'], fp, `${name}/model.onnx`);
      const notes: string[] = [];
      assert.equal((await loadModelFolder(dir, { onNote: (n) => notes.push(n) })).engine, 'onnxruntime');
      assert.deepEqual(notes, []);
    }
  });

  it('a model whose weights hold NaN is not saved', async () => {
    const dir = tempDir('nan');
    const m = smallFerCnn([[8], [8]], 3);
    const [name, v] = m.namedParameters()[0];
    v.assign(tf.fill(v.shape, NaN));
    await assert.rejects(saveModel(dir, m), new RegExp(`not saved: the weights hold NaN or Infinity \\(${name.replace(/\./g, '\\.')}`));
  });
});
