// face-api's SSD MobileNet v1 and 68-landmark net, written to ONNX by ferkit's writer, against
// face-api's own TF.js forward on the same pixels of real photos: the SSD's decoded boxes and
// face scores over all 5118 anchors, and the landmark net's 136 outputs on real face crops, agree
// to float32 noise (BatchNorm folded into the depthwise convs, TF 'same' padding as SAME_UPPER).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile, type Raster } from '../../src/data/image.js';
import { loadFaceApi } from '../../src/detect/face-api.js';
import { letterbox } from '../../src/detect/detector.js';
import { decodeModel } from '../../src/onnx/index.js';
import { buildLandmarkGraph, buildSsdGraph, faceApiOnnx, LANDMARK_SIZE, readFaceApiWeights, SSD_ANCHORS, SSD_SIZE } from '../../src/detect/face-api-onnx.js';
import { demoDir } from '../api/fixtures.js';

type FaceApi = Awaited<ReturnType<typeof loadFaceApi>>;
interface NetWithForward {
  forwardInput(input: unknown): unknown;
  runNet(input: unknown): tf.Tensor2D;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** uint8 HWC pixels as the int32 tensor face-api is given, through its own NetInput. */
async function netInput(fa: FaceApi, pixels: Uint8Array, size: number): Promise<{ input: unknown; tensor: tf.Tensor3D }> {
  const tensor = tf.tensor3d(Int32Array.from(pixels), [size, size, 3], 'int32');
  return { input: await fa.toNetInput(tensor as unknown as Parameters<FaceApi['toNetInput']>[0]), tensor };
}

describe('face-api nets as ONNX (parity with face-api on TF.js, real photos)', () => {
  let fa: FaceApi;
  let ssd: ort.InferenceSession;
  let landmarks: ort.InferenceSession;
  const photos: Raster[] = [];

  before(async () => {
    await initEngine();
    fa = await loadFaceApi('ssd');
    const bytes = await faceApiOnnx();
    ssd = await ort.InferenceSession.create(bytes.ssd);
    landmarks = await ort.InferenceSession.create(bytes.landmarks);
    for (const f of ['sample1.jpg', 'sample4.jpg']) photos.push(await decodeImageFile(join(demoDir, f), { channels: 3 }));
  });

  it('SSD: the same boxes and scores over every anchor on letterboxed real photos', async () => {
    for (const [k, photo] of photos.entries()) {
      const lb = await letterbox(photo, SSD_SIZE);
      const out = await ssd.run({ image: new ort.Tensor('uint8', lb.data, [1, SSD_SIZE, SSD_SIZE, 3]) });
      const { input, tensor } = await netInput(fa, lb.data, SSD_SIZE);
      const ref = (fa.nets.ssdMobilenetv1 as unknown as NetWithForward).forwardInput(input) as { boxes: tf.Tensor2D[]; scores: tf.Tensor1D[] };
      const [refBoxes, refScores] = [ref.boxes[0].dataSync(), ref.scores[0].dataSync()];
      tf.dispose([tensor, ...ref.boxes, ...ref.scores]);
      assert.deepEqual(out.boxes.dims, [1, SSD_ANCHORS, 4]);
      assert.deepEqual(out.scores.dims, [1, SSD_ANCHORS]);
      const dBoxes = maxAbsDiff(out.boxes.data as Float32Array, refBoxes);
      const dScores = maxAbsDiff(out.scores.data as Float32Array, refScores);
      assert.ok(dBoxes < 1e-4 && dScores < 1e-4, `photo ${k}: max abs diff boxes ${dBoxes}, scores ${dScores}`);
      // Real faces score high: the comparison is not over an all-background output.
      assert.ok(Math.max(...refScores) > 0.9, `photo ${k}: best face score ${Math.max(...refScores)}`);
    }
  });

  it('landmark net: the same 136 outputs on real face crops, batched', async () => {
    // Face regions of sample1 (from face-api's own detections), resized to 112 by sharp.
    const photo = photos[0];
    const found = await fa.nets.ssdMobilenetv1.locateFaces(tf.tensor3d(photo.data, [photo.height, photo.width, 3], 'int32') as unknown as Parameters<FaceApi['nets']['ssdMobilenetv1']['locateFaces']>[0]);
    assert.ok(found.length >= 3, `${found.length} faces in sample1`);
    const side = LANDMARK_SIZE * LANDMARK_SIZE * 3;
    const batch = new Uint8Array(found.length * side);
    for (const [i, d] of found.entries()) {
      const b = d.box;
      const crop = await sharp(Buffer.from(photo.data), { raw: { width: photo.width, height: photo.height, channels: 3 } })
        .extract({ left: Math.max(0, Math.floor(b.x)), top: Math.max(0, Math.floor(b.y)), width: Math.floor(b.width), height: Math.floor(b.height) })
        .resize(LANDMARK_SIZE, LANDMARK_SIZE, { fit: 'fill' })
        .raw()
        .toBuffer();
      batch.set(crop, i * side);
    }
    const out = (await landmarks.run({ image: new ort.Tensor('uint8', batch, [found.length, LANDMARK_SIZE, LANDMARK_SIZE, 3]) })).landmarks;
    assert.deepEqual(out.dims, [found.length, 136]);
    for (let i = 0; i < found.length; i++) {
      const { input, tensor } = await netInput(fa, batch.subarray(i * side, (i + 1) * side), LANDMARK_SIZE);
      const ref = (fa.nets.faceLandmark68Net as unknown as NetWithForward).runNet(input);
      const want = ref.dataSync();
      tf.dispose([tensor, ref]);
      const got = (out.data as Float32Array).subarray(i * 136, (i + 1) * 136);
      const d = maxAbsDiff(got, want);
      assert.ok(d < 1e-4, `face ${i}: max abs diff ${d}`);
      // Landmarks of a face crop lie inside the square.
      assert.ok(Array.from(want).every((v) => v > -0.1 && v < 1.1));
    }
  });

  it('graphs: uint8 NHWC input with a dynamic batch, BatchNorm folded away, weights from the package', async () => {
    const g = buildSsdGraph(await readFaceApiWeights('ssd_mobilenetv1_model'));
    assert.equal(g.nodes.filter((n) => n.op === 'BatchNormalization').length, 0, 'every BatchNorm folded');
    assert.equal(g.nodes.filter((n) => n.op === 'Conv').length, 47);
    const lm = decodeModel((await faceApiOnnx()).landmarks);
    const input = lm.graph!.input![0];
    assert.equal(input.name, 'image');
    assert.equal(input.type!.tensorType!.elemType, 2, 'uint8');
    assert.equal(input.type!.tensorType!.shape!.dim![0].dimParam, 'N');
    assert.equal(buildLandmarkGraph(await readFaceApiWeights('face_landmark_68_model')).outputs[0].shape[1], 136);
    await assert.rejects(readFaceApiWeights('ssd_mobilenetv1_model', '/nonexistent'), /nonexistent\/ssd_mobilenetv1_model-weights_manifest\.json: cannot read/);
  });
});
