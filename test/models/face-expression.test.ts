// face-api.js's expression net as a trunk (weights from @vladmandic/face-api): ferkit's modules
// with the pretrained classifier reproduce face-api's predictExpressions on real faces, a CE model
// over ferkit's classes starts from face-api's classifier (contempt keeps its own init), the
// trunk exports to ONNX with parity and its dense blocks freeze by name.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { initEngine, tf } from '../../src/engine/backend.js';
import { resizeBilinear, type Raster } from '../../src/data/image.js';
import { faceModelDir, loadFaceApi } from '../../src/detect/face-api.js';
import { FACE_API_EXPRESSIONS, FACE_EXPRESSION_INPUT, FaceExpressionNet } from '../../src/models/backbones/face-expression.js';
import { createModel } from '../../src/models/io.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { createConfig } from '../../src/models/config.js';
import type { FerModel } from '../../src/models/model.js';
import { Rng } from '../../src/util/rng.js';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { applyFineTune } from '../../src/train/finetune.js';
import { createMethodReplica } from '../../src/train/method-replica.js';
import { sharedData } from '../data/data-fixtures.js';
import { realFaces } from '../helpers/real-faces.js';

const SIZE = 112;
const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral', 'contempt'];

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

const ceConfig = (size = SIZE) => createConfig('ce', { classes: CLASSES, backbone: 'face-expression', methodOptions: { dropout: 0 }, size });

describe('face-expression trunk', () => {
  let faces: Raster[];
  before(async () => {
    await initEngine();
    faces = await realFaces(SIZE, [sharedData('ckplus48', 'disgust'), sharedData('ckplus48', 'surprise'), sharedData('fer2013', 'val', 'happy')]);
  });

  it("with its pretrained classifier equals face-api's predictExpressions on real faces (max abs diff ≤ 1e-4)", async () => {
    const fa = await loadFaceApi('ssd');
    const net = fa.nets.faceExpressionNet;
    if (!net.isLoaded) await net.loadFromDisk(faceModelDir());
    const trunk = new FaceExpressionNet();
    trunk.loadPretrained();
    const head = trunk.pretrainedHead();
    assert.deepEqual(head.classes, [...FACE_API_EXPRESSIONS]);
    const input = { kind: 'image' as const, size: [SIZE, SIZE] as [number, number], channels: 3 as const, ...FACE_EXPRESSION_INPUT };
    const x = imagesToInput(faces, input);
    const probs = tf.tidy(() => tf.softmax(tf.add(tf.matMul(trunk.features(x, false), tf.tensor2d(head.weight, [256, 7])), tf.tensor1d(head.bias))).arraySync()) as number[][];
    const names = { neutral: 'neutral', happy: 'happy', sad: 'sad', angry: 'angry', fear: 'fearful', disgust: 'disgusted', surprise: 'surprised' } as const;
    const winners = new Set<string>();
    for (const [i, r] of faces.entries()) {
      const img = tf.tensor3d(Int32Array.from(r.data), [SIZE, SIZE, 3], 'int32');
      const ref = (await net.predictExpressions(img as unknown as Parameters<typeof net.predictExpressions>[0])) as unknown as Record<string, number>;
      img.dispose();
      const theirs = FACE_API_EXPRESSIONS.map((c) => ref[names[c]]!);
      const d = maxAbsDiff(probs[i]!, theirs);
      assert.ok(d <= 1e-4, `face ${i}: max abs diff ${d}`);
      winners.add(FACE_API_EXPRESSIONS[theirs.indexOf(Math.max(...theirs))]!);
    }
    // Different expressions get different answers (guards a comparison of two constant nets).
    assert.ok(winners.size >= 3, `face-api's answers on these faces: ${[...winners]}`);
    x.dispose();
    trunk.dispose();
  });

  it('a CE model over ferkit classes starts from the pretrained classifier, class by class', () => {
    const model = createModel(ceConfig(), new Rng(4)) as FerModel & { fc: { weight: tf.Variable; bias: tf.Variable } };
    const contemptBefore = model.fc.bias.dataSync()[7];
    const { notes } = applyFineTune(model, { pretrained: true });
    assert.deepEqual(notes, ['the classifier starts from the pretrained one (contempt: not in it, initialised as usual)']);
    const head = new FaceExpressionNet().pretrainedHead();
    const w = model.fc.weight.arraySync() as number[][];
    const b = model.fc.bias.dataSync();
    CLASSES.slice(0, 7).forEach((c, j) => {
      const i = (FACE_API_EXPRESSIONS as readonly string[]).indexOf(c);
      assert.equal(b[j], head.bias[i], `${c} bias`);
      for (const r of [0, 100, 255]) assert.equal(w[r]![j], head.weight[r * 7 + i], `${c} weight row ${r}`);
    });
    assert.equal(b[7], contemptBefore, 'contempt keeps its init');
    model.dispose();
  });

  it('exports to ONNX with parity on real faces at 112 and 96 px', async () => {
    for (const size of [SIZE, 96]) {
      const cfg = ceConfig(size);
      const model = createModel(cfg, new Rng(5));
      applyFineTune(model, { pretrained: true });
      model.eval();
      const x = imagesToInput(
        faces.map((f) => resizeBilinear(f, size, size)),
        cfg.input,
      );
      const out = model.forward(x, false);
      const session = await ort.InferenceSession.create(exportOnnx(model));
      const res = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
      await session.release();
      const d = maxAbsDiff(out.logits.dataSync(), res.logits!.data as Float32Array);
      assert.ok(d <= 1e-4, `${size} px: logits diff ${d}`);
      tf.dispose([x, out.logits, out.embedding!]);
      model.dispose();
    }
  });

  it('freezes dense blocks by name; the rest trains', () => {
    const cfg = ceConfig(64);
    let model: FerModel | undefined;
    const replica = createMethodReplica({ config: cfg, optimizer: { name: 'sgd', lr: 0.1, momentum: 0 }, seed: 3, finetune: { pretrained: true, freeze: ['dense0', 'dense1'] } }, (m) => (model = m));
    const snapshot = () => Object.fromEntries(Object.entries(model!.stateDict()).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
    const before = snapshot();
    const x = tf.randomNormal([4, 64, 64, 3], 0, 0.3, 'float32', 9);
    const y = tf.tensor1d([0, 3, 5, 6], 'int32');
    const { grads } = tf.variableGrads(() => replica.loss(x, y), replica.variables);
    replica.apply(
      replica.variables.map((v) => grads[v.name]!),
      0.1,
    );
    const after = snapshot();
    for (const k of Object.keys(before)) {
      const moved = maxAbsDiff(before[k]!, after[k]!) > 0;
      if (/^backbone\.dense[01]\./.test(k)) assert.ok(!moved, `${k} must not change`);
    }
    for (const k of ['backbone.dense2.conv1.depthwise.weight', 'backbone.dense3.conv3.pointwise.bias', 'fc.weight']) assert.ok(maxAbsDiff(before[k]!, after[k]!) > 0, `${k} must train`);
    tf.dispose([x, y, ...Object.values(grads)]);
    model!.dispose();
    assert.throws(() => applyFineTune(createModel(ceConfig()), { freeze: ['stage1'] }), /has no part "stage1"; it has dense0, dense1, dense2, dense3/);
  });
});
