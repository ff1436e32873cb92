// `ferkit ensemble` as a user runs it: the bundled model folded with itself is a model folder (with
// a verified model.onnx) twice as wide that gives the bundled logits on real faces; bad flags fail
// with exit 1 and say what is wrong.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { ferImages, tempDir } from '../data/data-fixtures.js';

function ferkit(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/ferkit.js', ...args], { encoding: 'utf8', env: { ...process.env, FERKIT_DEBUG: '' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ferkit ensemble', () => {
  before(async () => {
    await initEngine();
  });

  it('folds the bundled model with itself into a model folder that gives the bundled logits', async () => {
    const out = join(tempDir('ensemble'), 'twice');
    const b = bundledModelDir();
    const r = ferkit(['ensemble', '--model', b, '--model', b, '--weights', '0.25,0.75', '--out', out]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.equal(r.stdout.trim(), out);
    assert.match(r.stderr, /onnxruntime vs TF\.js max abs diff/);
    assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.onnx', 'model.safetensors']);
    const bundled = await loadModel();
    const folded = await loadModel(out);
    const widths = (m: typeof bundled) => m.namedParameters().filter(([n]) => n.endsWith('conv.weight')).map(([, v]) => v.shape[3]);
    assert.deepEqual(widths(folded), widths(bundled).map((w) => 2 * w!));
    const files = ['happy', 'sad', 'surprise', 'angry'].flatMap((c) => ferImages(c, 2));
    const x = imagesToInput(await Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 }))), bundled.config.input);
    const want = tf.tidy(() => bundled.forward(x, false).logits.dataSync());
    const got = tf.tidy(() => folded.forward(x, false).logits.dataSync());
    const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got[i])));
    assert.ok(diff < 1e-4, `folded vs bundled logits: max abs diff ${diff}`);
    tf.dispose(x);
    bundled.dispose();
    folded.dispose();
  });

  it('bad flags fail with exit 1 and say what is wrong', () => {
    const out = join(tempDir('ensemble'), 'bad');
    const b = bundledModelDir();
    const one = ferkit(['ensemble', '--model', b, '--out', out]);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /at least two models/);
    const w = ferkit(['ensemble', '--model', b, '--model', b, '--weights', '1', '--out', out]);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /--weights gives 1 numbers for 2 models/);
    const clip = ferkit(['ensemble', '--model', b, '--model', join('models', 'ial-ckplus48'), '--out', out]);
    assert.equal(clip.code, 1);
    assert.match(clip.stderr, /models\/ial-ckplus48: only cross-entropy models on the fer-cnn backbone/);
    assert.ok(!existsSync(out));
  });
});
