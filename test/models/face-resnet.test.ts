// The face-pretrained trunk (dlib's face-recognition ResNet, weights from @vladmandic/face-api):
// ferkit's own modules reproduce face-api's computeFaceDescriptor on real faces; the trunk runs at
// any size from 64 px, exports to ONNX with parity, and the fine-tuning controls (pretrained
// weights, frozen parts, frozen BatchNorm statistics, a scaled trunk lr) do what they say.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { initEngine, tf } from '../../src/engine/backend.js';
import type { Raster } from '../../src/data/image.js';
import { faceModelDir, loadFaceApi } from '../../src/detect/face-api.js';
import { FACE_RESNET_INPUT, FaceResNet } from '../../src/models/backbones/face-resnet.js';
import { createModel } from '../../src/models/io.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import type { FerModel, ModelConfig } from '../../src/models/model.js';
import { Rng } from '../../src/util/rng.js';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { applyFineTune, backbonesOf, calibrateBatchNorms } from '../../src/train/finetune.js';
import { createMethodReplica } from '../../src/train/method-replica.js';
import { sharedData } from '../data/data-fixtures.js';
import { realFaces } from '../helpers/real-faces.js';
import { createConfig } from '../../src/models/config.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

function ceConfig(size: number, backboneOptions: Record<string, unknown> = {}): ModelConfig {
  // No dropout, as the hand-written config had (ce's default is 0.3).
  return createConfig('ce', { classes: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral', 'contempt'], backbone: 'face-resnet', backboneOptions, methodOptions: { dropout: 0 }, size });
}

describe('face-resnet trunk', () => {
  let faces: Raster[];
  before(async () => {
    await initEngine();
    faces = await realFaces(150, [sharedData('ckplus48', 'happy'), sharedData('fer2013', 'val', 'surprise')]);
  });

  it("equals face-api's computeFaceDescriptor on real faces (max abs diff ≤ 1e-4)", async () => {
    const fa = await loadFaceApi('ssd');
    const net = fa.nets.faceRecognitionNet;
    if (!net.isLoaded) await net.loadFromDisk(faceModelDir());
    const trunk = new FaceResNet({ descriptor: true });
    trunk.loadPretrained();
    trunk.eval();
    const input = { kind: 'image' as const, size: [150, 150] as [number, number], channels: 3 as const, ...FACE_RESNET_INPUT };
    const x = imagesToInput(faces, input);
    const ours = trunk.features(x).arraySync();
    for (const [i, r] of faces.entries()) {
      const img = tf.tensor3d(Int32Array.from(r.data), [150, 150, 3], 'int32');
      const ref = (await net.computeFaceDescriptor(img as unknown as Parameters<typeof net.computeFaceDescriptor>[0])) as Float32Array;
      img.dispose();
      const d = maxAbsDiff(ours[i]!, ref);
      assert.ok(d <= 1e-4, `face ${i}: max abs diff ${d}`);
    }
    // Descriptors of different people differ (a zero or constant trunk would pass the above only
    // if face-api's did too; this guards the comparison itself).
    assert.ok(maxAbsDiff(ours[0]!, ours[faces.length - 1]!) > 0.05, 'descriptors of different faces differ');
    x.dispose();
    trunk.dispose();
  });

  it('runs at any size from 64 px, cut after any stage', () => {
    for (const [size, stages, dim] of [
      [64, 5, 256],
      [80, 5, 256],
      [96, 4, 256],
      [112, 3, 128],
      [150, 2, 64],
    ] as const) {
      const trunk = new FaceResNet({ stages });
      const y = trunk.features(tf.zeros([2, size, size, 3]), false);
      assert.deepEqual(y.shape, [2, dim], `${size} px, ${stages} stages`);
      y.dispose();
      trunk.dispose();
    }
    assert.throws(() => new FaceResNet({ inChannels: 1 }), /RGB input/);
    assert.throws(() => new FaceResNet({ stages: 6 }), /stages must be 1 to 5/);
  });

  it('exports to ONNX with parity on real faces at 96 and 64 px (padded down blocks)', async () => {
    for (const size of [96, 64]) {
      const cfg = ceConfig(size);
      const model = createModel(cfg, new Rng(5));
      applyFineTune(model, { pretrained: true });
      model.eval();
      const x = imagesToInput(faces, cfg.input);
      const out = model.forward(x, false);
      const session = await ort.InferenceSession.create(exportOnnx(model));
      const res = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
      await session.release();
      const d = maxAbsDiff(out.logits.dataSync(), res.logits!.data as Float32Array);
      const dEmb = maxAbsDiff(out.embedding!.dataSync(), res.embedding!.data as Float32Array);
      assert.ok(d <= 1e-4 && dEmb <= 1e-4, `${size} px: logits diff ${d}, embedding diff ${dEmb}`);
      tf.dispose([x, out.logits, out.embedding!]);
      model.dispose();
    }
  });

  it('BatchNorm calibration keeps the eval function and makes batch statistics reproduce it', () => {
    const trunk = new FaceResNet();
    trunk.loadPretrained();
    const input = { kind: 'image' as const, size: [96, 96] as [number, number], channels: 3 as const, ...FACE_RESNET_INPUT };
    const x = imagesToInput(faces, input);
    const before = trunk.features(x, false).dataSync();
    const other = new FaceResNet();
    other.loadPretrained();
    const trainBefore = other.features(x, true).dataSync(); // batch statistics of an uncalibrated trunk
    other.dispose();
    calibrateBatchNorms(trunk, x);
    const after = trunk.features(x, false).dataSync();
    const scale = maxAbsDiff(before, new Float32Array(before.length));
    assert.ok(maxAbsDiff(before, after) <= 1e-4 * scale, `eval output moved by ${maxAbsDiff(before, after)}`);
    // training mode normalises with these very batch moments: the same function on this batch
    const trained = trunk.features(x, true).dataSync();
    assert.ok(maxAbsDiff(trained, before) <= 2e-3 * scale, `train-mode output differs by ${maxAbsDiff(trained, before)} (scale ${scale})`);
    assert.ok(maxAbsDiff(trainBefore, before) > 0.1 * scale, 'without calibration batch statistics change the function (the test would be vacuous)');
    x.dispose();
    trunk.dispose();
  });
});

describe('fine-tuning controls', () => {
  before(async () => {
    await initEngine();
  });

  /** One SGD step of a CE replica on random inputs; returns the model's state before and after. */
  function stepOnce(finetune: Parameters<typeof applyFineTune>[1], lr = 0.1) {
    const cfg = ceConfig(64);
    let model: FerModel | undefined;
    const replica = createMethodReplica({ config: cfg, optimizer: { name: 'sgd', lr, momentum: 0 }, seed: 3, finetune }, (m) => (model = m));
    const snapshot = () => Object.fromEntries(Object.entries(model!.stateDict()).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
    const before = snapshot();
    const x = tf.randomNormal([4, 64, 64, 3], 0, 1, 'float32', 9);
    const y = tf.tensor1d([0, 3, 5, 6], 'int32');
    const { grads } = tf.variableGrads(() => replica.loss(x, y), replica.variables);
    replica.apply(
      replica.variables.map((v) => grads[v.name]!),
      lr,
    );
    tf.dispose([x, y, ...Object.values(grads)]);
    return { before, after: snapshot(), replica, model: model! };
  }
  const changed = (a: Float32Array, b: Float32Array) => maxAbsDiff(a, b) > 0;

  it('--pretrained loads the trunk; frozen parts and frozen BatchNorm statistics do not move', () => {
    const { before, after, model } = stepOnce({ pretrained: true, freeze: ['stem', 'stage1'], bn: 'frozen' });
    const ref = new FaceResNet();
    ref.loadPretrained();
    assert.equal(maxAbsDiff(before['backbone.stage2.0.conv1.conv.weight']!, ref.stateDict()['stage2.0.conv1.conv.weight']!.dataSync()), 0, 'pretrained weights loaded');
    for (const k of Object.keys(before)) {
      const frozenPart = /^backbone\.(stem|stage1)\./.test(k);
      const stats = /running_(mean|var)|num_batches/.test(k);
      if (frozenPart || stats) assert.ok(!changed(before[k]!, after[k]!), `${k} must not change`);
    }
    for (const k of ['backbone.stage2.0.conv1.conv.weight', 'backbone.stage5.0.conv2.bn.weight', 'fc.weight']) assert.ok(changed(before[k]!, after[k]!), `${k} must train`);
    assert.equal(backbonesOf(model).length, 1);
    model.dispose();
  });

  it('--bn train updates the running statistics; --backbone-lr-scale scales only the trunk step', () => {
    const full = stepOnce({ pretrained: true, bn: 'train' });
    assert.ok(changed(full.before['backbone.stage3.0.conv1.bn.running_mean']!, full.after['backbone.stage3.0.conv1.bn.running_mean']!), 'batch statistics update the running mean');
    const scaled = stepOnce({ pretrained: true, bn: 'train', backboneLrScale: 0.25 });
    const delta = (r: typeof full, k: string) => {
      const a = r.before[k]!;
      const b = r.after[k]!;
      return Float32Array.from(a, (v, i) => b[i]! - v);
    };
    // Same seed, data and gradients: the trunk moves a quarter as far, the head as far.
    const trunkKey = 'backbone.stage4.1.conv2.conv.weight';
    const dFull = delta(full, trunkKey);
    const dScaled = delta(scaled, trunkKey);
    const biggest = maxAbsDiff(dFull, new Float32Array(dFull.length));
    assert.ok(biggest > 0, 'the trunk moved');
    assert.ok(maxAbsDiff(dScaled, Float32Array.from(dFull, (v) => v * 0.25)) <= 1e-3 * biggest, 'trunk step is scaled by 0.25');
    assert.ok(maxAbsDiff(delta(scaled, 'fc.weight'), delta(full, 'fc.weight')) <= 1e-6, 'head step unchanged');
    assert.equal(scaled.replica.variables.length, full.replica.variables.length);
    full.model.dispose();
    scaled.model.dispose();
  });

  it('refuses unknown parts and backbones without pretrained weights, naming them', () => {
    const model = createModel(ceConfig(64));
    assert.throws(() => applyFineTune(model, { freeze: ['stage9'] }), /--freeze stage9: .*has no part "stage9"; it has stem, stage1, stage2, stage3, stage4, stage5/);
    model.dispose();
    const cnn = createModel({ ...ceConfig(48), backbone: 'fer-cnn', backboneOptions: { widthMultiplier: 0.25 }, input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] } });
    assert.throws(() => applyFineTune(cnn, { pretrained: true }), /has no pretrained weights/);
    cnn.dispose();
  });
});
