// The ONNX face detector (face-api's SSD + landmark nets on onnxruntime, sharp letterbox and crops)
// against face-api itself on TF.js, on real pictures: the same faces (count, boxes, scores,
// landmarks) in full-size photos, a webcam-sized crop and a padded CK+48 face; face-api's NMS on
// hand-made boxes; the recognizer runs it by default and TF.js on request.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { crop, decodeImageFile, resizeBilinear, type Raster } from '../../src/data/image.js';
import type { Face } from '../../src/detect/align.js';
import { detectFaces, type DetectOptions } from '../../src/detect/face-api.js';
import { nonMaxSuppression, OnnxFaceDetector } from '../../src/detect/detector.js';
import { loadRecognizer } from '../../src/api/recognizer.js';
import { iou } from '../../src/api/tracker.js';
import { ckSequence, demoDir } from '../api/fixtures.js';

/** Every face-api face has an ONNX face over it with nearly the same box, score and landmarks. The
 *  pictures reach the two SSDs resampled differently (libvips' antialiased reduce vs TF.js's
 *  bilinear), which moves scores by up to ~0.15 on the sample photos, boxes and landmarks (on
 *  average 1.5-2% of the box width) by a few pixels. */
function assertSameFaces(what: string, want: Face[], got: Face[]): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} faces on ONNX, ${want.length} on TF.js`);
  for (const w of want) {
    const [overlap, g] = got.map((f) => [iou(w.box, f.box), f] as const).sort((a, b) => b[0] - a[0])[0];
    assert.ok(overlap > 0.85, `${what}: box ${w.box.map(Math.round)} best IoU ${overlap.toFixed(3)}`);
    assert.ok(Math.abs(g.score - w.score) < 0.2, `${what}: score ${g.score.toFixed(3)} vs ${w.score.toFixed(3)}`);
    const err = w.landmarks.reduce((a, p, k) => a + Math.hypot(p[0] - g.landmarks[k][0], p[1] - g.landmarks[k][1]), 0) / 68;
    assert.ok(err < 0.05 * w.box[2], `${what}: landmarks ${err.toFixed(2)} px apart on average (box ${w.box[2].toFixed(0)} px wide)`);
  }
}

describe('ONNX face detector (face-api nets on onnxruntime)', () => {
  let det: OnnxFaceDetector;
  const photos: Raster[] = [];
  before(async () => {
    det = await OnnxFaceDetector.load();
    // 1024 px wide, as the recognizer hands pictures to face-api on TF.js (and faster in tests).
    for (const f of ['sample1.jpg', 'sample2.jpg', 'sample6.jpg']) {
      const p = await decodeImageFile(join(demoDir, f), { channels: 3 });
      photos.push(resizeBilinear(p, 1024, Math.round((p.height * 1024) / p.width)));
    }
  });

  it('finds the faces face-api finds in full-size real photos', async () => {
    for (const [i, p] of photos.entries()) assertSameFaces(`photo ${i}`, await detectFaces(p), await det.detect(p));
  });

  it('and in a webcam-sized crop and a padded 48x48 CK+ face (pad, minSide)', async () => {
    const p = photos[0];
    const webcam = crop(p, p.width - 640, 150, 640, 480);
    assertSameFaces('640x480 crop', await detectFaces(webcam), await det.detect(webcam));
    const ck = await decodeImageFile(ckSequence('happy')[0], { channels: 3 });
    const opts: DetectOptions = { minConfidence: 0.3, pad: 0.5, minSide: 288 };
    const want = await detectFaces(ck, opts);
    assert.equal(want.length, 1, 'face-api finds the padded CK+ face');
    assertSameFaces('CK+48 padded', want, await det.detect(ck, opts));
    // maxResults and minConfidence as face-api reads them.
    assert.equal((await det.detect(p, { maxResults: 1 })).length, 1);
    assert.deepEqual(await det.detect(p, { minConfidence: 0.9999 }), []);
  });

  it("face-api's non-maximum suppression: greedy by score, IoU above 0.5 suppressed", () => {
    // [ymin, xmin, ymax, xmax]: box 1 overlaps box 0 by IoU 0.81, box 2 overlaps box 0 by 1/3.
    const boxes = Float32Array.from([0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 0.5, 1, 1.5, 2, 2, 3, 3]);
    assert.deepEqual(nonMaxSuppression(boxes, Float32Array.from([0.9, 0.95, 0.8, 0.4]), 10, 0.5, 0.5), [1, 2]);
    assert.deepEqual(nonMaxSuppression(boxes, Float32Array.from([0.9, 0.6, 0.8, 0.7]), 10, 0.5, 0.5), [0, 2, 3]);
    assert.deepEqual(nonMaxSuppression(boxes, Float32Array.from([0.9, 0.6, 0.8, 0.7]), 2, 0.5, 0.5), [0, 2]);
  });

  it('the recognizer detects on ONNX by default and on TF.js with engine tfjs, with the same faces', async () => {
    const onnx = await loadRecognizer();
    const tfjs = await loadRecognizer({ engine: 'tfjs' });
    assert.equal(onnx.detectorEngine, 'onnxruntime');
    assert.equal(tfjs.detectorEngine, 'tfjs');
    const [a, b] = [await onnx.recognize(photos[0]), await tfjs.recognize(photos[0])];
    assert.equal(a.length, b.length);
    for (const f of b) assert.ok(a.some((g) => iou(f.box, g.box) > 0.8), `TF.js face at ${f.box.map(Math.round)} also found on ONNX`);
    // The tiny detector exists on TF.js only: asked of the ONNX detector, it refuses.
    assert.equal((await loadRecognizer({ detector: 'tiny' })).detectorEngine, 'tfjs');
    await assert.rejects(det.detect(photos[0], { detector: 'tiny' }), /tiny detector runs on TF\.js/);
    await onnx.dispose();
  });
});
