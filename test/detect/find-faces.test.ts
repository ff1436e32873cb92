// Face finding as a person sees it, on face-api's real sample photos and crops made from them at
// test time: close-ups and tight crops of a face, a 48x48 FER2013 face, a grid of 44 faces (no
// silent cap, reading order), two photos side by side at 3840 px (tiles); and the pure helpers.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { loadRecognizer, Recognizer, type FaceResult } from '../../src/api/index.js';
import { clipBox, mergeDetections, readingOrder, tileStarts } from '../../src/detect/face-layout.js';
import { decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import type { Face } from '../../src/detect/align.js';
import { sharedData } from '../data/data-fixtures.js';
import { demoDir, samplePhotos } from '../api/fixtures.js';

/** Face boxes [x, y, w, h] the detector gives on face-api's sample photos (full-size detection). */
const FACES = {
  sample1Left: ['sample1.jpg', [414, 355, 177, 240]],
  sample1Middle: ['sample1.jpg', [838, 421, 186, 228]],
  sample2Middle: ['sample2.jpg', [902, 220, 151, 233]],
  sample2Left: ['sample2.jpg', [361, 126, 153, 259]],
} as const;

async function raw(img: Sharp): Promise<Raster> {
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A square close-up: the face box with 30% of its side around it, resized to `side`. */
async function closeUp(face: keyof typeof FACES, side: number): Promise<Raster> {
  const [file, [x, y, w, h]] = FACES[face];
  const s = Math.round(Math.max(w, h) * 1.6);
  const left = Math.max(0, Math.round(x + w / 2 - s / 2));
  const top = Math.max(0, Math.round(y + h / 2 - s / 2));
  return raw(sharp(join(demoDir, file)).extract({ left, top, width: s, height: s }).resize(side, side));
}

const inside = (f: FaceResult, r: { width: number; height: number }) => f.box[0] >= 0 && f.box[1] >= 0 && f.box[0] + f.box[2] <= r.width + 1e-6 && f.box[1] + f.box[3] <= r.height + 1e-6;

describe('finding faces (bundled model; sample photos and crops of them)', () => {
  let rec: Recognizer;
  before(async () => {
    rec = await loadRecognizer();
  });

  it('finds the face in 350x350 close-ups the detector alone misses (a padded copy)', async () => {
    for (const face of ['sample2Middle', 'sample2Left'] as const) {
      const img = await closeUp(face, 350);
      const r = await rec.recognizeImage(img);
      assert.equal(r.faces.length, 1, `${face}: ${r.faces.length} faces`);
      const f = r.faces[0];
      assert.ok(f.detected && f.landmarks.length === 68 && inside(f, img), `${face}: ${JSON.stringify(f.box)}`);
      assert.ok(f.box[2] > 100 && f.box[3] > 100, `${face}: the face fills the close-up, box ${f.box}`);
      assert.equal(f.faceId, 1);
    }
  });

  it('a crop exactly at a face box: the face, its box clipped to the picture', async () => {
    const [file, [x, y, w, h]] = FACES.sample1Left;
    const img = await raw(sharp(join(demoDir, file)).extract({ left: x, top: y, width: w, height: h }));
    const faces = await rec.recognize(img);
    assert.equal(faces.length, 1);
    assert.ok(inside(faces[0], img), `box ${faces[0].box} in a ${img.width}x${img.height} picture`);
  });

  it('a 48x48 grey FER2013 face: one face in auto mode (the whole picture when not detected), none with detect', async () => {
    const file = join(sharedData('fer2013', 'val', 'happy'), 'PublicTest_10181609.jpg');
    const img = await decodeImageFile(file, { channels: 3 });
    const auto = await rec.recognizeImage(img);
    assert.equal(auto.faces.length, 1);
    const f = auto.faces[0];
    assert.deepEqual([f.detected, f.box, f.landmarks.length, f.detectionScore], [false, [0, 0, 48, 48], 0, 0]);
    // Read whole: the model sees the picture resized to its input, as FER2013 crops are.
    const { probs } = await rec.classify([resizeBilinear(img, 48, 48)]);
    for (const c of rec.classes) assert.ok(Math.abs(probs[0][c] - f.probabilities[c]!) < 1e-6);
    assert.deepEqual((await rec.recognizeImage(img, { faces: 'detect' })).faces, []);
  });

  it("whole mode: any picture is one face, its own box; a blank picture has no face in auto mode", async () => {
    const photo = await decodeImageFile(samplePhotos[0], { channels: 3 });
    const whole = await rec.recognizeImage(photo, { faces: 'whole' });
    assert.deepEqual(whole.faces.map((f) => [f.detected, f.box]), [[false, [0, 0, photo.width, photo.height]]]);
    const grey: Raster = { width: 300, height: 300, channels: 3, data: new Uint8Array(300 * 300 * 3).fill(90) };
    assert.deepEqual((await rec.recognizeImage(grey)).faces, []);
  });

  it('no silent cap: a grid of 44 faces gives 44, numbered in reading order; maxFaces keeps the best and counts the rest', async () => {
    const cells = await Promise.all((['sample1Left', 'sample1Middle'] as const).map((f) => closeUp(f, 160)));
    const comps = Array.from({ length: 44 }, (_, i) => ({
      input: Buffer.from(cells[i % 2].data),
      raw: { width: 160, height: 160, channels: 3 as const },
      left: (i % 11) * 180 + 10,
      top: Math.floor(i / 11) * 180 + 10,
    }));
    const grid = await raw(sharp({ create: { width: 11 * 180, height: 4 * 180, channels: 3, background: '#808080' } }).composite(comps));
    const all = await rec.recognizeImage(grid);
    assert.equal(all.faces.length, 44);
    assert.equal(all.droppedFaces, 0);
    // Reading order: face k sits in cell k (rows top to bottom, left to right).
    all.faces.forEach((f, k) => {
      assert.equal(f.faceId, k + 1);
      const [cx, cy] = [f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2];
      assert.deepEqual([Math.floor(cx / 180), Math.floor(cy / 180)], [k % 11, Math.floor(k / 11)], `face ${f.faceId} at ${f.box}`);
    });
    const capped = await new Recognizer(rec.runner, { maxFaces: 10 }).recognizeImage(grid);
    assert.equal(capped.faces.length, 10);
    assert.equal(capped.droppedFaces, 34);
    const best = [...all.faces].sort((a, b) => b.detectionScore - a.detectionScore).slice(0, 10);
    assert.ok(Math.min(...capped.faces.map((f) => f.detectionScore)) >= Math.min(...best.map((f) => f.detectionScore)) - 1e-9, 'the best detections are kept');
  });

  it('two photos side by side (3840x1280) show the faces of both photos: tiles, not one 1024 px pass', async () => {
    const [a, b] = await Promise.all(samplePhotos.slice(0, 2).map((p) => raw(sharp(p).resize(1920, 1280, { fit: 'cover' }))));
    const wide = await raw(
      sharp({ create: { width: 3840, height: 1280, channels: 3, background: '#000' } }).composite([
        { input: Buffer.from(a.data), raw: { width: 1920, height: 1280, channels: 3 }, left: 0, top: 0 },
        { input: Buffer.from(b.data), raw: { width: 1920, height: 1280, channels: 3 }, left: 1920, top: 0 },
      ]),
    );
    const [fa, fb, fw] = await Promise.all([rec.recognize(a), rec.recognize(b), rec.recognize(wide)]);
    assert.ok(fa.length >= 3 && fb.length >= 3);
    assert.equal(fw.length, fa.length + fb.length, `${fw.length} faces in the wide picture, ${fa.length} + ${fb.length} in the photos`);
    for (const f of fw) assert.ok(inside(f, wide));
  });
});

describe('face finding helpers', () => {
  const face = (box: Face['box'], score: number): Face => ({ box, score, landmarks: [] });

  it('tiles cover the side with the overlap asked for', () => {
    assert.deepEqual(tileStarts(1000, 1920, 384), [0]);
    const s = tileStarts(5760, 1920, 384);
    assert.deepEqual([s[0], s[s.length - 1] + 1920], [0, 5760]);
    for (let i = 1; i < s.length; i++) assert.ok(s[i - 1] + 1920 - s[i] >= 384, `tiles ${s}`);
  });

  it('merging drops overlapping and nested duplicates, keeps separate faces, best first', () => {
    const whole = face([100, 100, 50, 60], 0.9);
    const cut = face([100, 100, 30, 60], 0.95); // a tile edge cut the same face
    const other = face([400, 100, 50, 60], 0.7);
    const merged = mergeDetections([
      { face: whole, rank: 0.9 },
      { face: cut, rank: 0.95 / 2 },
      { face: face([102, 101, 50, 60], 0.8), rank: 0.8 },
      { face: other, rank: 0.7 },
    ]);
    assert.deepEqual(merged, [whole, other]);
  });

  it('reading order: rows top to bottom, left to right within a row; boxes clip to the picture', () => {
    const f = (x: number, y: number) => ({ box: [x, y, 40, 50] as Face['box'] });
    const order = readingOrder([f(300, 12), f(10, 200), f(150, 0), f(20, 5), f(200, 210)]);
    assert.deepEqual(order.map((o) => o.box.slice(0, 2)), [[20, 5], [150, 0], [300, 12], [10, 200], [200, 210]]);
    // sample1's three people stand at different heights: still one row, left to right.
    const people = readingOrder([{ box: [1476, 199, 203, 241] as Face['box'] }, { box: [414, 355, 177, 240] as Face['box'] }, { box: [838, 421, 186, 228] as Face['box'] }]);
    assert.deepEqual(people.map((p) => p.box[0]), [414, 838, 1476]);
    assert.deepEqual(clipBox([-5, 10, 30, 100], 20, 50), [0, 10, 20, 40]);
  });
});
