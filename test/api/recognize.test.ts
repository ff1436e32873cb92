// recognize() on face-api's real sample photos with the bundled model: faces with valid boxes,
// 68 landmarks, probability rows that sum to 1, the top label; engine choice and fallback; clear
// errors for bad input; concurrent calls queue and agree.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadRecognizer, type Recognizer } from '../../src/api/index.js';
import { decodeImageFile, type Raster } from '../../src/data/image.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { createModel, saveModel, bundledModelDir } from '../../src/models/io.js';
import { tempDir } from '../data/data-fixtures.js';
import { annotatePng } from '../../src/api/annotate.js';
import { samplePhotos } from './fixtures.js';
import { createConfig } from '../../src/models/config.js';

describe('recognize (bundled model, real photos)', () => {
  let rec: Recognizer;
  let photo: Raster;
  before(async () => {
    rec = await loadRecognizer({ engine: 'tfjs' });
    photo = await decodeImageFile(samplePhotos[0], { channels: 3 });
  });

  it('finds every face of two sample photos with valid boxes, landmarks and probabilities', async () => {
    assert.ok(samplePhotos.length >= 2, `face-api ships sample photos in ${samplePhotos[0]}`);
    for (const file of samplePhotos.slice(0, 2)) {
      const img = await decodeImageFile(file, { channels: 3 });
      const faces = await rec.recognize(file);
      assert.ok(faces.length >= 3, `${file}: ${faces.length} faces (the group photos show 3+)`);
      for (const f of faces) {
        const [x, y, w, h] = f.box;
        assert.ok(x >= -1 && y >= -1 && x + w <= img.width + 1 && y + h <= img.height + 1 && w > 20 && h > 20, `box ${f.box}`);
        assert.equal(f.landmarks.length, 68);
        assert.deepEqual(Object.keys(f.probabilities), rec.classes);
        const sum = Object.values(f.probabilities).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
        assert.ok(Object.values(f.probabilities).every((p) => p >= 0 && p <= 1));
        const top = Object.entries(f.probabilities).sort((a, b) => b[1] - a[1])[0];
        assert.equal(f.label, top[0]);
        assert.equal(f.confidence, top[1]);
      }
    }
  });

  it('sees the broad smile in sample1 as happy (the rightmost face)', async () => {
    const faces = await rec.recognize(photo);
    const right = faces.reduce((a, b) => (b.box[0] > a.box[0] ? b : a));
    assert.equal(right.label, 'happy', JSON.stringify(right.probabilities));
  });

  it('takes a path, encoded bytes or a raster and gives the same answer; concurrent calls queue', async () => {
    const bytes = await sharp(samplePhotos[0]).png().toBuffer();
    const [a, b, c] = await Promise.all([rec.recognize(samplePhotos[0]), rec.recognize(new Uint8Array(bytes)), rec.recognize(photo)]);
    assert.equal(a.length, b.length);
    assert.deepEqual(a.map((f) => f.label), c.map((f) => f.label));
    for (let i = 0; i < a.length; i++) {
      for (const k of rec.classes) assert.ok(Math.abs(a[i].probabilities[k]! - c[i].probabilities[k]!) < 1e-6);
    }
  });

  it('a picture without a face gives no faces', async () => {
    const grey: Raster = { width: 320, height: 240, channels: 3, data: new Uint8Array(320 * 240 * 3).fill(90) };
    assert.deepEqual(await rec.recognize(grey), []);
  });

  it('names the file and the problem for bad input', async () => {
    const dir = tempDir('bad');
    await assert.rejects(rec.recognize(join(dir, 'missing.jpg')), /missing\.jpg: file not found/);
    const junk = join(dir, 'junk.jpg');
    writeFileSync(junk, 'not a jpeg at all');
    await assert.rejects(rec.recognize(junk), /junk\.jpg: not an image/);
    await assert.rejects(rec.recognize(new Uint8Array([1, 2, 3, 4])), /image: not an image/);
    await assert.rejects(rec.recognize({ width: 4, height: 4, channels: 3, data: new Uint8Array(5) }), /raster buffer holds 5 bytes/);
  });

  it('annotates: a valid PNG of the photo size', async () => {
    const png = await annotatePng(photo, await rec.recognize(photo));
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', photo.width, photo.height]);
    // The overlay changed pixels (boxes and bars are drawn).
    const back = await sharp(png).removeAlpha().raw().toBuffer();
    let changed = 0;
    for (let i = 0; i < back.length; i++) if (back[i] !== photo.data[i]) changed++;
    assert.ok(changed > 1000, `${changed} bytes changed`);
  });
});

describe('loadModelFolder runtime choice', () => {
  it('tfjs on request; auto falls back to tfjs with a note when model.onnx does not load', async () => {
    const tfjs = await loadModelFolder(bundledModelDir(), { runtime: 'tfjs' });
    assert.match(tfjs.engine, /^tfjs-/);
    const dir = tempDir('runner');
    const model = createModel(createConfig('ce', { classes: ['a', 'b', 'c'], backboneOptions: { widthMultiplier: 0.25 } }));
    await saveModel(dir, model);
    writeFileSync(join(dir, 'model.onnx'), 'garbage');
    const notes: string[] = [];
    const r = await loadModelFolder(dir, { onNote: (n) => notes.push(n) });
    assert.match(r.engine, /^tfjs-/);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /ONNX Runtime not used/);
    const out = await r.run(new Float32Array(2 * 48 * 48), [2, 48, 48, 1]);
    assert.equal(out.probs.length, 6);
    await assert.rejects(loadModelFolder(dir, { runtime: 'onnx' }));
    await assert.rejects(r.run(new Float32Array(3), [2, 48, 48, 1]), /holds 3 values/);
  });
});
