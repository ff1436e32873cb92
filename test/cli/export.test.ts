// `ferkit export` as a user runs it: the bundled model to the TF.js folder format and from there to
// ONNX; the copies give the bundled model's probabilities on real faces; bad flags fail clearly.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
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

  it('several --model export their ensemble, weighted by --weights: the probabilities of the ensemble built in the library', async () => {
    const { buildEnsemble } = await import('../../src/models/ensemble/build.js');
    const dir = join(tempDir('export'), 'pair');
    const refs = ['models/fer2013-cnn#1', 'models/fer2013-cnn#2'];
    const r = ferkit(['export', '--model', refs[0], '--model', refs[1], '--weights', '1,3', '--format', 'onnx', '--out', dir]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(config.method, 'ensemble');
    assert.deepEqual(config.methodOptions.weights, [0.25, 0.75]);
    const members = await Promise.all(refs.map((ref) => loadModel(ref)));
    const want = buildEnsemble(members, { weights: [1, 3] });
    const files = ['angry', 'fear', 'neutral'].flatMap((c) => ferImages(c, 2));
    const x = imagesToInput(await Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 }))), want.config.input);
    const p = tf.tidy(() => tf.softmax(want.forward(x, false).logits).dataSync());
    const runner = await loadModelFolder(dir, { runtime: 'onnx' });
    const got = (await runner.run(x.dataSync() as Float32Array, x.shape)).probs;
    await runner.dispose();
    const diff = Math.max(...Array.from(p, (v, i) => Math.abs(v - got[i])));
    assert.ok(diff <= 1e-4, `exported ensemble vs library ensemble: max abs diff ${diff}`);
    // Not the plain mean: the weights reached the model.
    const equal = buildEnsemble(members, {});
    const pe = tf.tidy(() => tf.softmax(equal.forward(x, false).logits).dataSync());
    assert.ok(Math.max(...Array.from(p, (v, i) => Math.abs(v - pe[i]))) > 1e-3, 'weights 1,3 give other probabilities than equal weights');
    tf.dispose(x);
    for (const m of [...members, want, equal]) m.dispose();
  });

  it('bad flags fail with exit 1 and say what is wrong', () => {
    const one = ferkit(['export', '--model', 'models/fer2013-cnn#1', '--weights', '1', '--format', 'onnx', '--out', join(tempDir('export'), 'w')]);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /--weights weighs the members of an ensemble: give two --model or more/);
    const count = ferkit(['export', '--model', 'models/fer2013-cnn#1', '--model', 'models/fer2013-cnn#2', '--weights', '1,2,3', '--format', 'onnx', '--out', join(tempDir('export'), 'w')]);
    assert.equal(count.code, 1);
    assert.match(count.stderr, /--weights needs 2 numbers ≥ 0/);
    const noOutPair = ferkit(['export', '--model', 'models/fer2013-cnn#1', '--model', 'models/fer2013-cnn#2', '--format', 'onnx']);
    assert.equal(noOutPair.code, 1);
    assert.match(noOutPair.stderr, /several --model needs --out/);
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
