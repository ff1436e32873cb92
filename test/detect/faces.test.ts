// Face detection and alignment on face-api's real sample photos and on a real CK+48 frame; the
// aligned-crop cache. face-api must run on ferkit's TF.js engine, not a second one.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tf } from '../../src/engine/backend.js';
import { decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import { buildAlignedCache } from '../../src/data/aligned-cache.js';
import { alignFace, alignmentFor, eyeCentres, mapToAligned, type Face } from '../../src/detect/align.js';
import { faceCropper } from '../../src/detect/crop.js';
import { detectFaces, loadFaceApi } from '../../src/detect/face-api.js';
import type { ImageSample } from '../../src/data/types.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const require = createRequire(import.meta.url);
const demo = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const eyeTilt = (f: Face) => {
  const [l, r] = eyeCentres(f);
  return (Math.atan2(r[1] - l[1], r[0] - l[0]) * 180) / Math.PI;
};

describe('faces (face-api on the ferkit engine)', () => {
  let photo: Raster;
  let faces: Face[];
  before(async () => {
    photo = await decodeImageFile(join(demo, 'sample1.jpg'), { channels: 3 });
    faces = await detectFaces(photo);
  });

  it('shares the running TF.js engine', async () => {
    const fa = await loadFaceApi();
    assert.equal((fa.tf as unknown as { engine(): unknown }).engine(), tf.engine());
    assert.equal((fa.tf as unknown as { getBackend(): string }).getBackend(), tf.getBackend());
  });

  it('finds the faces of a real photo: boxes inside the image, landmarks inside their box', () => {
    assert.ok(faces.length >= 1, 'sample1.jpg shows faces');
    for (const f of faces) {
      const [x, y, w, h] = f.box;
      assert.ok(f.score >= 0.5 && f.score <= 1);
      assert.ok(x >= 0 && y >= 0 && x + w <= photo.width + 1 && y + h <= photo.height + 1, `box ${f.box}`);
      assert.ok(w > 20 && h > 20);
      assert.equal(f.landmarks.length, 68);
      const tol = 0.1 * Math.max(w, h);
      for (const [px, py] of f.landmarks) assert.ok(px >= x - tol && px <= x + w + tol && py >= y - tol && py <= y + h + tol, `landmark (${px}, ${py}) outside box ${f.box}`);
      // Anatomy: the eyes are above the mouth, the image-left eye left of the right one.
      const [l, r] = eyeCentres(f);
      assert.ok(l[0] < r[0]);
      assert.ok(f.landmarks[57][1] > Math.max(l[1], r[1]));
    }
  });

  it('aligns: the right size, eyes level, and a re-detection on the crop agrees', async () => {
    const f = faces[0];
    const a = alignmentFor(f, 224);
    const [l, r] = eyeCentres(f).map((p) => mapToAligned(a, p));
    assert.ok(Math.abs(l[1] - r[1]) < 1e-6, 'eye centres map to one row');
    assert.ok(l[0] > 40 && r[0] < 184 && l[1] > 40 && l[1] < 130, `eyes at ${l}, ${r}`);
    const crop = alignFace(photo, f, 224);
    assert.deepEqual([crop.width, crop.height, crop.channels], [224, 224, 3]);
    const grey = alignFace(photo, f, 112, { channels: 1 });
    assert.deepEqual([grey.width, grey.height, grey.channels], [112, 112, 1]);
    const again = await detectFaces(crop, { minConfidence: 0.3 });
    assert.ok(again.length >= 1, 'the aligned crop still looks like a face to the detector');
    assert.ok(Math.abs(eyeTilt(again[0])) < 3, `eyes tilt ${eyeTilt(again[0]).toFixed(2)}° after alignment (source ${eyeTilt(f).toFixed(2)}°)`);
    // A tilted copy of the photo comes back level too.
    const { rotateNearest } = await import('../../src/data/augment.js');
    const [bx, by, bw, bh] = f.box;
    const pad = Math.round(Math.max(bw, bh) * 0.6);
    const { crop: cut } = await import('../../src/data/image.js');
    const x0 = Math.max(0, Math.round(bx) - pad);
    const y0 = Math.max(0, Math.round(by) - pad);
    const region = cut(photo, x0, y0, Math.min(photo.width - x0, Math.round(bw) + 2 * pad), Math.min(photo.height - y0, Math.round(bh) + 2 * pad));
    const tilted = rotateNearest(region, 15);
    const tf2 = await detectFaces(tilted);
    assert.ok(tf2.length >= 1);
    assert.ok(Math.abs(eyeTilt(tf2[0]) - (eyeTilt(f) - 15)) < 5, `tilted by ${eyeTilt(tf2[0]).toFixed(1)}°`);
    const level = await detectFaces(alignFace(tilted, tf2[0], 224), { minConfidence: 0.3 });
    assert.ok(level.length >= 1 && Math.abs(eyeTilt(level[0])) < 3, `after alignment ${level[0] && eyeTilt(level[0]).toFixed(2)}°`);
  });

  it('TinyFaceDetector also finds the face', async () => {
    const tiny = await detectFaces(photo, { detector: 'tiny' });
    assert.ok(tiny.length >= 1);
    const [x, y] = tiny[0].box;
    assert.ok(faces.some((f) => Math.abs(f.box[0] - x) < f.box[2] / 2 && Math.abs(f.box[1] - y) < f.box[3] / 2), 'tiny and SSD agree on a face');
  });

  it('on a 48x48 CK+48 crop: reports what the detector does (tiny crops are at its limit)', async (t) => {
    const dir = sharedData('ckplus48', 'happy');
    const file = join(dir, readdirSync(dir).sort()[0]);
    const small = await decodeImageFile(file, { channels: 3 });
    const at48 = await detectFaces(small, { minConfidence: 0.3 });
    const at192 = await detectFaces(resizeBilinear(small, 192, 192), { minConfidence: 0.3 });
    // With a grey border for context (and upscaled) the same frame is found, in source pixels.
    const padded = await detectFaces(small, { minConfidence: 0.3, pad: 0.5, minSide: 288 });
    t.diagnostic(
      `CK+48 at 48x48: ${at48.length} face(s); upscaled to 192: ${at192.length}; padded 50% + upscaled to 288: ${padded.length}${padded[0] ? ` score ${padded[0].score.toFixed(2)}, box ${padded[0].box.map((v) => v.toFixed(1))}` : ''}`,
    );
    for (const f of [...at48, ...at192]) assert.equal(f.landmarks.length, 68);
    assert.ok(padded.length >= 1, 'a padded CK+48 frame is detected');
    const [x, y, w, h] = padded[0].box;
    assert.ok(x > -8 && y > -8 && x + w < 56 && y + h < 56 && w > 24, `box in source pixels: ${padded[0].box}`);
    const crop = alignFace(small, padded[0], 48, { channels: 1 });
    assert.deepEqual([crop.width, crop.height, crop.channels], [48, 48, 1]);
  });

  it('caches aligned crops by content and settings: the second pass detects nothing', async () => {
    const root = tempDir('aligned');
    const dir = sharedData('ckplus48', 'happy');
    const ck = join(dir, readdirSync(dir).sort()[0]);
    const samples: ImageSample[] = [
      { id: 'photo', image: { kind: 'file', path: join(demo, 'sample1.jpg') }, label: 3 },
      { id: 'ck', image: { kind: 'file', path: ck }, label: 3 },
    ];
    const first = await buildAlignedCache(samples, { size: 112, faces: faceCropper(), root, progress: false });
    assert.deepEqual(first.map((e) => [e.id, e.cached]), [['photo', false], ['ck', false]]);
    assert.equal(first[0].found, true);
    assert.ok(first.every((e) => e.path?.includes(join('.cache', 'ferkit', 'aligned'))));
    const crop = await decodeImageFile(first[0].path!, { channels: 3 });
    assert.deepEqual([crop.width, crop.height], [112, 112]);
    const t0 = performance.now();
    const second = await buildAlignedCache(samples, { size: 112, faces: faceCropper(), root, progress: false });
    assert.ok(second.every((e) => e.cached), 'all from the cache');
    assert.deepEqual(second.map((e) => e.path), first.map((e) => e.path));
    assert.ok(performance.now() - t0 < 500, 'no detection on the second pass');
    const other = await buildAlignedCache(samples.slice(1), { size: 64, faces: faceCropper(), root, progress: false, noFace: 'resize' });
    assert.notEqual(other[0].path, first[1].path, 'another size is another key');
    assert.deepEqual([(await decodeImageFile(other[0].path!, { channels: 1 })).width], [64]);
  });
});
