// The IAL clip model's frame head (methodOptions.frameHead): a per-frame classifier on the
// encoder's pooled last map, averaged over the clip and added to the temporal classifier, which
// starts at zero. On face-api's expression net with --pretrained the clip model therefore starts
// as that net averaged over the frames (checked on real CK+ clips); both paths then train, and the
// model saves, loads and exports (ONNX parity) with the head. `--init` of an image model on the same
// trunk (a CE run, per fold in `ferkit cv` with {fold}) starts the encoder and the frame head.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { BatchBuilder } from '../../src/data/batches.js';
import { readDataset } from '../../src/data/registry.js';
import { CANONICAL_CLASSES } from '../../src/data/types.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { OnnxRunner } from '../../src/infer/onnx-runner.js';
import { FaceExpressionNet } from '../../src/models/backbones/face-expression.js';
import { createConfig } from '../../src/models/config.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import type { IalModel } from '../../src/models/ial/model.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { disposeOutput, type FerModel, type ModelConfig } from '../../src/models/model.js';
import { createMethodReplica, initWeights } from '../../src/train/method-replica.js';
import { ferkit } from '../helpers/cli.js';
import { Rng } from '../../src/util/rng.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

const SMALL_TRANSFORMERS = { layers: [1, 1, 1, 1], spatialDepth: 1, temporalDepth: 1 };

/** The clip model on face-api's expression net (3 frames). */
function faceExpressionConfig(classes: string[], size: number, methodOptions: Record<string, unknown>): ModelConfig {
  return createConfig('ial', { classes, backbone: 'face-expression', methodOptions: { ...SMALL_TRANSFORMERS, frameHead: true, ...methodOptions }, size, input: { frames: 3, greyscale: true } });
}

describe('ial frame head', () => {
  before(async () => {
    await initEngine();
  });

  it('on face-api\'s net with --pretrained it starts as that net averaged over the frames (real CK+ clips)', async () => {
    const ds = await readDataset('ckplus-clips', sharedData('ckplus48'));
    const classes: string[] = ds.classes.map((i) => CANONICAL_CLASSES[i]!);
    const wanted = ['happy', 'surprise', 'sad', 'angry'];
    const items = wanted.map((c) => ds.items.find((s) => CANONICAL_CLASSES[s.label] === c)!);
    assert.ok(items.every(Boolean), `CK+48 clips of ${wanted.join(', ')}`);
    // GCA on dense2 and dense3 (the default): with a frame head the blocks start as the identity.
    const config = faceExpressionConfig(classes, 112, {});
    let model: FerModel | undefined;
    createMethodReplica({ config, optimizer: { name: 'adamw', lr: 1e-3 }, seed: 2, finetune: { pretrained: true } }, (m) => (model = m));
    model!.eval();
    const store = await loadSampleStore(items, config.input, { cache: false });
    const { x: data, shape } = new BatchBuilder(store, config.input).build(items.map((_, i) => i));
    assert.deepEqual(shape, [4, 3, 112, 112, 3]);
    const x = tf.tensor(data, shape);

    // face-api's expression net (its trunk and classifier) on every frame, averaged per clip.
    const ref = new FaceExpressionNet();
    ref.loadPretrained();
    const head = ref.pretrainedHead();
    const k = head.classes.length;
    const frameLogits = tf.tidy(() => tf.add(tf.matMul(ref.features(tf.reshape(x, [12, 112, 112, 3]), false), tf.tensor2d(head.weight, [256, k])), tf.tensor1d(head.bias)).arraySync() as number[][]);
    ref.dispose();

    const out = model!.forward(x, false);
    const logits = out.logits.arraySync();
    let checked = 0;
    for (let i = 0; i < 4; i++) {
      classes.forEach((c, j) => {
        const from = head.classes.indexOf(c as (typeof head.classes)[number]);
        if (from < 0) return; // contempt: not in face-api's classes
        const want = (frameLogits[3 * i]![from]! + frameLogits[3 * i + 1]![from]! + frameLogits[3 * i + 2]![from]!) / 3;
        // GCA's identity is √(1 + 1e-5), not exactly 1: a relative 5e-6 per attended block.
        assert.ok(Math.abs(logits[i]![j]! - want) < 1e-3, `clip ${i} (${wanted[i]}) class ${c}: ${logits[i]![j]} vs face-api ${want}`);
        checked++;
      });
    }
    assert.equal(checked, 4 * (classes.length - 1), 'every class but contempt is one of face-api\'s');
    // Zero-shot it already reads the clear expressions.
    const top = (i: number) => classes[logits[i]!.indexOf(Math.max(...logits[i]!))];
    assert.equal(top(0), 'happy');
    assert.equal(top(1), 'surprise');
    disposeOutput(out);
    x.dispose();
    model!.dispose();
  });

  it('the temporal classifier starts at zero and both paths train (two steps)', () => {
    let model: FerModel | undefined;
    const config = createConfig('ial', { classes: ['angry', 'happy', 'sad', 'neutral'], defaults: IAL_SMALL, methodOptions: { frameHead: true } });
    const replica = createMethodReplica({ config, optimizer: { name: 'adamw', lr: 1e-2, weightDecay: 0 }, seed: 4 }, (m) => (model = m));
    const ial = model as IalModel;
    assert.equal(tf.tidy(() => tf.abs(ial.fc_f.weight).max().dataSync()[0]), 0, 'fc_f starts at zero');
    const gcaLast = Object.entries(model!.stateDict()).filter(([key]) => /attn\.fc2\.0\.weight$/.test(key));
    assert.equal(gcaLast.length, 2, 'GCA in layer2 and layer3');
    for (const [key, v] of gcaLast) assert.equal(tf.tidy(() => tf.abs(v).max().dataSync()[0]), 0, `${key} starts at zero (GCA as the identity)`);
    assert.deepEqual(ial.fc!.weight.shape, [64, 4], 'the frame head reads the own trunk\'s 64 pooled channels');
    const snapshot = () => Object.fromEntries(Object.entries(model!.stateDict()).map(([key, v]) => [key, Float32Array.from(v.dataSync() as Float32Array)]));
    const before = snapshot();
    const rng = new Rng(5);
    const x = tf.tensor(Float32Array.from({ length: 4 * 3 * 48 * 48 }, () => rng.next()), [4, 3, 48, 48, 1]);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    for (let step = 0; step < 2; step++) {
      const { grads } = tf.variableGrads(() => replica.loss(x, y), replica.variables);
      replica.apply(replica.variables.map((v) => grads[v.name]!), 1e-2);
      tf.dispose(Object.values(grads));
    }
    tf.dispose([x, y]);
    const after = snapshot();
    for (const key of ['fc.weight', 'fc_f.weight', gcaLast[0]![0], 's_former.temporal_transformer.layers.0.0.fn.fn.to_qkv.weight', 's_former.dsf.layer4.0.conv1.weight', 's_former.layer1.0.conv1.weight']) {
      assert.ok(maxAbsDiff(before[key]!, after[key]!) > 0, `${key} trains`);
    }
    model!.dispose();
  });

  for (const [name, config] of [
    ['own trunk, GCA', createConfig('ial', { classes: ['angry', 'happy', 'sad', 'neutral'], defaults: IAL_SMALL, methodOptions: { frameHead: true } })],
    ['face-expression, GCA on its last two blocks', faceExpressionConfig(['angry', 'happy', 'sad', 'neutral'], 64, {})],
  ] as const) {
    it(`${name}: save/load gives the same logits, ONNX the same probabilities`, async () => {
      const model = createModel(config, new Rng(6)) as IalModel;
      // A trained temporal classifier and GCA blocks away from the identity: every path counts.
      tf.tidy(() => {
        model.fc_f.weight.assign(tf.randomNormal(model.fc_f.weight.shape, 0, 0.05, 'float32', 7));
        for (const [key, v] of Object.entries(model.stateDict())) if (/attn\.fc2\.0\.weight$/.test(key)) (v as tf.Variable).assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 13));
      });
      model.eval();
      const { frames, size, channels } = config.input;
      const x = tf.randomNormal([2, frames!, size[0], size[1], channels], 0.5, 0.25, 'float32', 8);
      const out = model.forward(x, false);
      const dir = tempDir('ial-frame-head');
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      const again = loaded.forward(x, false);
      assert.equal(maxAbsDiff(again.logits.dataSync(), out.logits.dataSync()), 0);
      disposeOutput(again);
      loaded.dispose();
      // Without the frame head's share the logits differ: the export must carry it.
      const temporalOnly = tf.tidy(() => model.fc_f.forward(out.embedding!).dataSync());
      assert.ok(maxAbsDiff(temporalOnly, out.logits.dataSync()) > 1e-3);
      const runner = await OnnxRunner.create(exportOnnx(model), model.config);
      const onnx = await runner.run(x.dataSync() as Float32Array, x.shape);
      await runner.dispose();
      const probs = tf.tidy(() => tf.softmax(out.logits).dataSync());
      assert.ok(maxAbsDiff(onnx.probs, probs) <= 1e-4, `TF.js vs ONNX max abs diff ${maxAbsDiff(onnx.probs, probs)}`);
      disposeOutput(out);
      x.dispose();
      model.dispose();
    });
  }

  it('--init of an image model on the same trunk: the clip model starts as that model averaged over the frames', async () => {
    const ceDir = tempDir('ial-frame-head-ce');
    // The image model's classes in another order: the frame head takes them by name.
    const ce = createModel(createConfig('ce', { classes: ['happy', 'angry', 'sad', 'neutral'], backbone: 'face-expression', size: 64, input: { greyscale: true } }), new Rng(9));
    await saveModel(ceDir, ce);
    const clipModel = createModel(faceExpressionConfig(['angry', 'happy', 'sad', 'neutral'], 64, {}), new Rng(10));
    const notes: string[] = [];
    initWeights(clipModel, ceDir, (n) => notes.push(n));
    assert.match(notes.join('\n'), /frame encoder from .*an image model \(ce on face-expression\); the frame head from its classifier; attention, DSF, the transformer and fc_f start fresh/);
    ce.eval();
    clipModel.eval();
    const x = tf.randomNormal([2, 3, 64, 64, 3], 0, 0.5, 'float32', 11);
    const frameLogits = tf.tidy(() => ce.forward(tf.reshape(x, [6, 64, 64, 3]), false).logits.arraySync() as number[][]);
    const out = clipModel.forward(x, false);
    const logits = out.logits.arraySync();
    const order = [1, 0, 2, 3]; // clip class j is the image model's class order[j]
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        const want = (frameLogits[3 * i]![order[j]!]! + frameLogits[3 * i + 1]![order[j]!]! + frameLogits[3 * i + 2]![order[j]!]!) / 3;
        assert.ok(Math.abs(logits[i]![j]! - want) < 1e-3, `clip ${i} class ${j}: ${logits[i]![j]} vs ${want}`);
      }
    }
    disposeOutput(out);
    x.dispose();
    ce.dispose();
    // Another trunk is refused by name.
    const other = createModel(createConfig('ce', { classes: ['angry', 'happy', 'sad', 'neutral'] }), new Rng(12));
    const otherDir = tempDir('ial-frame-head-fercnn');
    await saveModel(otherDir, other);
    other.dispose();
    assert.throws(() => initWeights(clipModel, otherDir), /an image model \(ce on fer-cnn\) cannot start this clip model's frame encoder \(face-expression\)/);
    clipModel.dispose();
  });

  it('ferkit cv --init with {fold}: each fold starts from its own folder', () => {
    const out = tempDir('ial-frame-head-cv');
    const r = ferkit(['--quiet', 'cv', '--method', 'ial', '--dataset', 'ckplus-clips', '--root', sharedData('ckplus48'), '--folds', '10', '--only-folds', '2', '--frames', '3', '--size', '48', '--channels', '1', '--width', '0.25', '--epochs', '1', '--workers', '1', '--init', `${out}/ce/fold-{fold}/last`, '--out', `${out}/cv`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ce\/fold-2\/last: initial weights not found/);
  });
});
