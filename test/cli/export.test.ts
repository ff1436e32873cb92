// `ferkit export` as a user runs it: the bundled model to the TF.js folder format and from there to
// ONNX; the copies give the bundled model's probabilities on real faces; bad flags fail clearly.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { loadModel } from '../../src/models/io.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { ferImages, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

describe('ferkit export', () => {
  before(async () => {
    await initEngine();
  });

  it('bundled model → tfjs folder → onnx in that folder: both give the bundled probabilities on real faces', async () => {
    const dir = join(tempDir('export'), 'copy');
    const t = ferkit(['export', '--format', 'tfjs', '--out', dir]);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);
    const o = ferkit(['export', '--model', dir, '--format', 'onnx']);
    assert.equal(o.code, 0, o.stderr.slice(-2000));
    assert.equal(o.stdout.trim(), join(dir, 'model.onnx'));
    assert.match(o.stderr, /verified: onnxruntime vs TF\.js .* max abs diff/);

    const bundled = await loadModel();
    const copy = await loadModel(dir);
    const files = ['happy', 'sad', 'surprise'].flatMap((c) => ferImages(c, 2));
    const x = imagesToInput(await Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 }))), bundled.config.input);
    const want = tf.tidy(() => tf.softmax(bundled.forward(x, false).logits).dataSync());
    const viaCopy = tf.tidy(() => tf.softmax(copy.forward(x, false).logits).dataSync());
    assert.deepEqual(Array.from(viaCopy), Array.from(want), 'the tfjs copy is the same model');
    const runner = await loadModelFolder(dir, { runtime: 'onnx' });
    const got = (await runner.run(x.dataSync() as Float32Array, x.shape)).probs;
    await runner.dispose();
    const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i])));
    assert.ok(diff <= 1e-4, `onnx copy vs TF.js: max abs diff ${diff}`);
    tf.dispose(x);
    bundled.dispose();
    copy.dispose();
  });

  it('bad flags fail with exit 1 and say what is wrong', () => {
    const bad = ferkit(['export', '--format', 'keras']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown --format "keras"; use onnx or tfjs/);
    const noOut = ferkit(['export', '--format', 'tfjs']);
    assert.equal(noOut.code, 1);
    assert.match(noOut.stderr, /--format tfjs needs --out/);
    const missing = join(tempDir('export'), 'nothing');
    const r = ferkit(['export', '--model', missing, '--format', 'onnx']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such model folder/);
    assert.ok(!existsSync(join(missing, 'model.onnx')));
  });
});
