// ONNX export: TF.js and onnxruntime agree (max abs diff ≤ 1e-4) on real FER2013 val faces for a
// fer-cnn and a ResNet-18 classifier with non-trivial BatchNorm statistics and for the bundled
// model (its committed model.onnx included); BatchNorm is folded into the convs; a module class
// registered by another method exports; unknown classes fail naming the module.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile } from '../../src/data/image.js';
import { createModel, bundledModelDir, loadModel } from '../../src/models/io.js';
import { buildEnsemble } from '../../src/models/ensemble/build.js';
import { imagesToInput } from '../../src/models/preprocess.js';
import { methods, modelEmitter, outputProbs } from '../../src/models/methods.js';
import { disposeOutput, type FerModel, type ModelConfig, type ModelOutput } from '../../src/models/model.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Linear } from '../../src/nn/linear.js';
import { Module, Sequential } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Flatten } from '../../src/nn/pool.js';
import { relu } from '../../src/nn/activations.js';
import { Rng } from '../../src/util/rng.js';
import { buildOnnxGraph, exportOnnx } from '../../src/export/onnx/index.js';
import { decodeModel, OPSET } from '../../src/onnx/index.js';
import { OnnxRunner } from '../../src/infer/onnx-runner.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { sharedData } from '../data/data-fixtures.js';
import { scrambleBatchNorms } from '../helpers/batch-norms.js';
import { createConfig } from '../../src/models/config.js';

const CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const TOL = 1e-4;

function config(backbone: string, channels: 1 | 3, size: number, backboneOptions?: Record<string, unknown>): ModelConfig {
  return createConfig('ce', { classes: CLASSES, backbone, backboneOptions, size, channels });
}

/** `perClass` real FER2013 val faces of every class, preprocessed for `cfg`. */
async function realFaces(cfg: ModelConfig, perClass: number): Promise<tf.Tensor4D> {
  const files = CLASSES.flatMap((c) => {
    const dir = sharedData('fer2013', 'val', c);
    return readdirSync(dir).sort().slice(0, perClass).map((f) => join(dir, f));
  });
  const rasters = await Promise.all(files.map((f) => decodeImageFile(f, { channels: cfg.input.channels })));
  return imagesToInput(rasters, cfg.input);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Every output of the ONNX graph, straight from onnxruntime. */
async function onnxOutputs(bytes: Uint8Array, x: tf.Tensor4D): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const out = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** Asserts logits, probs and embedding agree; returns the logits difference. */
async function assertParity(model: FerModel, x: tf.Tensor4D, bytes: Uint8Array): Promise<number> {
  const out: ModelOutput = model.forward(x, false);
  const probs = outputProbs(out, tf);
  const onnx = await onnxOutputs(bytes, x);
  const dLogits = maxAbsDiff(out.logits.dataSync(), onnx.logits);
  const dProbs = maxAbsDiff(probs.dataSync(), onnx.probs);
  const dEmb = maxAbsDiff(out.embedding!.dataSync(), onnx.embedding);
  assert.ok(dLogits <= TOL && dProbs <= TOL && dEmb <= TOL, `TF.js vs ONNX max abs diff: logits ${dLogits}, probs ${dProbs}, embedding ${dEmb}`);
  assert.equal('confidence' in onnx, out.confidence !== undefined, 'a confidence output exactly when the model has one');
  if (out.confidence) {
    const dConf = maxAbsDiff(out.confidence.dataSync(), onnx.confidence);
    assert.ok(dConf <= TOL, `TF.js vs ONNX confidence max abs diff ${dConf}`);
  }
  // the runner (what inference uses) returns the same probabilities
  const runner = await OnnxRunner.create(bytes, model.config);
  const viaRunner = await runner.run(x.dataSync() as Float32Array, x.shape);
  await runner.dispose();
  assert.ok(maxAbsDiff(probs.dataSync(), viaRunner.probs) <= TOL, 'OnnxRunner probs differ from TF.js');
  if (out.confidence) assert.ok(maxAbsDiff(out.confidence.dataSync(), viaRunner.confidence!) <= TOL, 'OnnxRunner confidence differs from TF.js');
  // the faces are not all given the same answer (a degenerate model would pass trivially)
  const top = tf.tidy(() => tf.argMax(out.logits, 1).dataSync());
  const spread = tf.tidy(() => tf.sub(tf.max(out.logits, 0), tf.min(out.logits, 0)).max().dataSync()[0]);
  assert.ok(spread > 0.05 || new Set(top).size > 1, `logits barely vary across faces (spread ${spread})`);
  disposeOutput(out);
  probs.dispose();
  return dLogits;
}

describe('ONNX export', () => {
  before(async () => {
    await initEngine();
  });

  it('fer-cnn classifier (48x48 grey, BN statistics set): TF.js and onnxruntime agree on real faces', async () => {
    const cfg = config('fer-cnn', 1, 48, { widthMultiplier: 0.5 });
    const model = createModel(cfg, new Rng(7));
    scrambleBatchNorms(model, 100);
    model.eval();
    const x = await realFaces(cfg, 3);
    const bytes = exportOnnx(model);
    const unfolded = exportOnnx(model, { foldBatchNorm: false });
    assert.ok(bytes.length < unfolded.length, 'folding removes the BatchNorm parameters');
    await assertParity(model, x, bytes);
    await assertParity(model, x, unfolded);
    tf.dispose(x);
    model.dispose();
  });

  it('ResNet-18 classifier (112x112 RGB): parity on real faces, BatchNorm folded into all 20 convs', async () => {
    const cfg = config('resnet18', 3, 112);
    const model = createModel(cfg, new Rng(3));
    scrambleBatchNorms(model, 500);
    model.eval();
    const g = buildOnnxGraph(model);
    const ops = g.nodes.map((n) => n.op);
    assert.equal(ops.filter((o) => o === 'Conv').length, 20);
    assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 0, 'every BatchNorm follows a conv and is folded');
    assert.deepEqual(ops.slice(0, 1), ['Transpose']);
    const bytes = exportOnnx(model);
    const decoded = decodeModel(bytes);
    assert.equal(Number(decoded.opsetImport[0].version), OPSET);
    const input = decoded.graph!.input![0];
    assert.equal(input.name, 'input');
    assert.deepEqual(
      input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)),
      ['N', 112, 112, 3],
      'NHWC input with a dynamic batch',
    );
    assert.deepEqual(decoded.graph!.output!.map((o) => o.name), ['logits', 'probs', 'embedding']);
    assert.deepEqual(JSON.parse(decoded.metadataProps.find((p) => p.key === 'ferkit.config')!.value!), cfg);
    const x = await realFaces(cfg, 1);
    await assertParity(model, x, bytes);
    tf.dispose(x);
    model.dispose();
  });

  it('the bundled model: a fresh export and the committed model.onnx agree with TF.js on real faces', async () => {
    const dir = bundledModelDir();
    const model = await loadModel(dir);
    const x = await realFaces(model.config, 4);
    await assertParity(model, x, exportOnnx(model));
    const runner = await loadModelFolder(dir, { runtime: 'onnx' });
    const probs = tf.tidy(() => tf.softmax(model.forward(x, false).logits).dataSync());
    const got = await runner.run(x.dataSync() as Float32Array, x.shape);
    await runner.dispose();
    const d = maxAbsDiff(probs, got.probs);
    assert.ok(d <= TOL, `${dir}/model.onnx is stale or wrong: max abs diff ${d} (re-run \`ferkit export --format onnx\`)`);
    tf.dispose(x);
    model.dispose();
  });

  it('SCN on fer-cnn (logits α·z): parity on real faces', async () => {
    const cfg = { ...config('fer-cnn', 1, 48, { widthMultiplier: 0.5 }), method: 'scn' };
    const model = createModel(cfg, new Rng(21)) as FerModel & { fc: Linear };
    scrambleBatchNorms(model, 300);
    tf.tidy(() => model.fc.weight.assign(tf.mul(model.fc.weight, 20))); // logits big enough to differ per face
    model.eval();
    const x = await realFaces(cfg, 2);
    await assertParity(model, x, exportOnnx(model));
    tf.dispose(x);
    model.dispose();
  });

  it('ARBEx on fer-cnn (MLP head with BN, anchors, attention across the batch and per sample): probs, confidence parity', async () => {
    for (const attentionMode of ['batch', 'sample']) {
      const methodOptions = { hiddenSizes: [32], headBatchNorm: true, anchors: 3, anchorInit: 'normal', anchorStd: 0.3, attentionSlots: 2, attentionHeads: 2, attentionMode, temperature: 0.7, delta: 0.5, testTrust: 0.8 };
      const cfg = { ...config('fer-cnn', 1, 48, { widthMultiplier: 0.25 }), method: 'arbex', methodOptions };
      const model = createModel(cfg, new Rng(31)) as FerModel & { head: { net: Sequential } };
      scrambleBatchNorms(model, 700);
      const last = model.head.net.get(-1) as Linear;
      tf.tidy(() => last.weight.assign(tf.mul(last.weight, 20))); // logits big enough to differ per face
      model.eval();
      const x = await realFaces(cfg, 2);
      await assertParity(model, x, exportOnnx(model));
      tf.dispose(x);
      model.dispose();
    }
  });

  it('an ensemble (CE and SCN members of different widths, flip TTA built in): logits, probs, embedding parity', async () => {
    const a = createModel(config('fer-cnn', 1, 48, { widthMultiplier: 0.5 }), new Rng(51)) as FerModel & { fc: Linear };
    const b = createModel({ ...config('fer-cnn', 1, 48, { widthMultiplier: 0.25 }), method: 'scn' }, new Rng(52)) as FerModel & { fc: Linear };
    for (const [m, seed] of [[a, 900], [b, 901]] as const) {
      scrambleBatchNorms(m, seed);
      tf.tidy(() => m.fc.weight.assign(tf.mul(m.fc.weight, 20))); // logits big enough to differ per face
    }
    for (const mirror of [true, false]) {
      const model = buildEnsemble([a, b], { weights: [2, 1], mirror });
      const x = await realFaces(model.config, 2);
      await assertParity(model, x, exportOnnx(model));
      tf.dispose(x);
      model.dispose();
    }
    a.dispose();
    b.dispose();
  });

  it('an ensemble of members with different inputs (48 px grey, 56 px RGB): the in-model adapters export with parity', async () => {
    const a = createModel(config('fer-cnn', 1, 48, { widthMultiplier: 0.25 }), new Rng(53)) as FerModel & { fc: Linear };
    const c = createModel(config('fer-cnn', 3, 56, { widthMultiplier: 0.25 }), new Rng(54)) as FerModel & { fc: Linear };
    for (const [m, seed] of [[a, 902], [c, 903]] as const) {
      scrambleBatchNorms(m, seed);
      tf.tidy(() => m.fc.weight.assign(tf.mul(m.fc.weight, 20)));
    }
    const model = buildEnsemble([a, c], { weights: [1, 1], mirror: true });
    assert.deepEqual(model.config.input.size, [56, 56]);
    const x = await realFaces(model.config, 2);
    await assertParity(model, x, exportOnnx(model));
    // A member that knows an eighth class (FER+'s contempt), listed in another order: its logits
    // of the ensemble's seven are picked (a Gather in the graph).
    const eight = ['contempt', ...CLASSES].reverse();
    const d = createModel({ ...config('fer-cnn', 1, 48, { widthMultiplier: 0.25 }), classes: eight }, new Rng(55)) as FerModel & { fc: Linear };
    scrambleBatchNorms(d, 904);
    tf.tidy(() => d.fc.weight.assign(tf.mul(d.fc.weight, 20)));
    const picked = buildEnsemble([a, d, c], { weights: [1, 2, 1], mirror: true });
    assert.deepEqual(picked.config.classes, CLASSES);
    await assertParity(picked, x, exportOnnx(picked));
    tf.dispose(x);
    for (const m of [model, picked, a, c, d]) m.dispose();
  });

  it('pattern-map on fer-cnn (masked trunk features → encoder → classifier), with and without the encoder BatchNorm: parity on real faces', async () => {
    for (const encoderNorm of ['none', 'batch']) {
      const cfg = { ...config('fer-cnn', 1, 48, { widthMultiplier: 0.5 }), method: 'patternmap', methodOptions: { embeddingDim: 32, encoderHidden: 32, classifierHidden: 16, encoderNorm } };
      const model = createModel(cfg, new Rng(41)) as FerModel & { classifier: { fc2: Linear }; encoder: { conv2: Conv2d; norm?: BatchNorm2d } };
      assert.equal(model.encoder.norm !== undefined, encoderNorm === 'batch');
      scrambleBatchNorms(model, 800);
      // embeddings and logits that differ per face (a fresh model's sigmoid embedding sits near 0.5)
      tf.tidy(() => model.encoder.conv2.weight.assign(tf.mul(model.encoder.conv2.weight, 10)));
      tf.tidy(() => model.classifier.fc2.weight.assign(tf.mul(model.classifier.fc2.weight, 20)));
      model.eval();
      const x = await realFaces(cfg, 2);
      await assertParity(model, x, exportOnnx(model));
      tf.dispose(x);
      model.dispose();
    }
  });

  it("a new method exports once its MethodDef registers an emitter (Flatten keeps TF.js's NHWC order)", async () => {
    class TinyModel extends Module implements FerModel {
      readonly body: Sequential;
      readonly head: Linear;
      constructor(readonly config: ModelConfig) {
        super();
        const rng = new Rng(11);
        this.body = this.registerModule('body', new Sequential(new Conv2d(1, 4, 3, { stride: 2, padding: 'same', rng }), new BatchNorm2d(4), relu, new Flatten()));
        this.head = this.registerModule('head', new Linear(24 * 24 * 4, config.classes.length, { rng }));
      }
      forward(x: tf.Tensor, training?: boolean): ModelOutput {
        if (training !== undefined) this.train(training);
        const embedding = this.body.forward(x) as tf.Tensor2D;
        return { logits: this.head.forward(embedding) as tf.Tensor2D, embedding };
      }
    }
    const cfg = { ...config('none', 1, 48), method: 'tiny-test' };
    const model = new TinyModel(cfg);
    scrambleBatchNorms(model, 900);
    model.eval();
    assert.throws(() => exportOnnx(model), /no emitter for model class TinyModel \(method "tiny-test"\)/);
    // Adding a method: one registry line (the MethodDef carries its ONNX emitter).
    methods.register({
      name: 'tiny-test',
      description: 'test only',
      create: {
        kind: 'image',
        defaults: { backbone: 'none', input: cfg.input, trainAugment: 'fer-train', testAugment: 'fer-test' },
        createModel: (c) => new TinyModel(c),
        createObjective: () => {
          throw new Error('not trained');
        },
        onnx: modelEmitter(TinyModel, (ctx, m, x) => {
          const embedding = ctx.emit(m.body, x);
          return { logits: ctx.emit(m.head, embedding), embedding };
        }),
      },
    });
    const x = await realFaces(cfg, 2);
    await assertParity(model, x, exportOnnx(model));
    tf.dispose(x);
    model.dispose();
  });

  it('a module class without an emitter is an error naming its path and class', () => {
    class Mystery extends Module {
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const resnet = createModel(config('resnet18', 3, 64, { widthMultiplier: 0.125 }), new Rng(1)) as FerModel & { backbone: { layers: Sequential[] } };
    resnet.backbone.layers[1].append(new Mystery());
    assert.throws(() => exportOnnx(resnet), /no emitter for module "backbone\.layer2\.2" of class Mystery/);
    resnet.dispose();
    const model = createModel(config('fer-cnn', 1, 48, { widthMultiplier: 0.25 }), new Rng(1)) as FerModel & { backbone: { stages: Sequential[] } };
    model.backbone.stages[1].append(new Mystery());
    assert.throws(() => exportOnnx(model), /fer-cnn block "backbone\.stage2\.2" \(Mystery\) is not a conv \+ bn block/);
    model.dispose();
  });
});
