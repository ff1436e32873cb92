// OnnxRunner on the bundled model's model.onnx: embeddings on request (equal to TF.js's on real
// faces), batches of any size, and clear errors for wrong shapes and missing or broken files.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { bundledModelDir, loadModel } from '../../src/models/io.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { disposeOutput } from '../../src/models/model.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { ferImages, tempDir } from '../data/data-fixtures.js';

describe('OnnxRunner', () => {
  before(async () => {
    await initEngine();
  });

  it('returns probabilities and, when asked, embeddings equal to TF.js on real faces, for batches of 1 and 5', async () => {
    const model = await loadModel();
    const runner = await loadModelFolder(bundledModelDir(), { runtime: 'onnx', embedding: true, threads: 1 });
    assert.equal(runner.engine, 'onnxruntime');
    for (const n of [1, 5]) {
      const files = ferImages('fear', n);
      const x = imagesToInput(await Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 }))), model.config.input);
      const out = model.forward(x, false);
      const got = await runner.run(x.dataSync() as Float32Array, x.shape);
      assert.equal(got.probs.length, n * model.config.classes.length);
      assert.equal(got.embeddingDim, out.embedding!.shape[1]);
      const want = out.embedding!.dataSync();
      const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got.embedding![i])));
      assert.ok(diff <= 1e-4, `embedding max abs diff ${diff}`);
      for (let i = 0; i < n; i++) {
        const row = got.probs.slice(i * 7, (i + 1) * 7).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(row - 1) < 1e-5, `row ${i} sums to ${row}`);
      }
      disposeOutput(out);
      x.dispose();
    }
    const plain = await loadModelFolder(bundledModelDir(), { runtime: 'onnx' });
    const [h, w] = model.config.input.size;
    const one = await plain.run(new Float32Array(h * w * model.config.input.channels), [1, h, w, model.config.input.channels]);
    assert.equal(one.embedding, undefined, 'no embedding unless asked');
    await plain.dispose();
    await runner.dispose();
    model.dispose();
  });

  it('rejects a wrong input shape, naming the model file and the expected shape', async () => {
    const runner = await loadModelFolder(bundledModelDir(), { runtime: 'onnx' });
    const { size: [h, w], channels: c } = runner.config.input;
    const expected = `\\[N, ${h}, ${w}, ${c}\\]`;
    await assert.rejects(runner.run(new Float32Array(2 * 64 * 64), [2, 64, 64, 1]), new RegExp(`model\\.onnx: input shape \\[2,64,64,1\\] does not match the model's ${expected} \\(NHWC\\)`));
    await assert.rejects(runner.run(new Float32Array(10), [1, h, w, c]), new RegExp(`input has 10 values for shape \\[1,${h},${w},${c}\\]`));
    await runner.dispose();
  });

  it('a folder without model.onnx, or with a broken one, is an error naming the file', async () => {
    const dir = tempDir('onnx-runner');
    copyFileSync(join(bundledModelDir(), 'config.json'), join(dir, 'config.json'));
    await assert.rejects(loadModelFolder(dir, { runtime: 'onnx' }), /model\.onnx: missing \(export it with `ferkit export --model .* --format onnx`\)/);
    writeFileSync(join(dir, 'model.onnx'), 'not a protobuf');
    await assert.rejects(loadModelFolder(dir, { runtime: 'onnx' }), /model\.onnx: onnxruntime cannot load it/);
  });
});
