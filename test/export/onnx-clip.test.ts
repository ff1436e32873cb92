// ONNX export of the IAL clip model: TF.js and onnxruntime agree (logits, probs, embedding max abs
// diff ≤ 1e-4) on real CK+48 three-frame clips for the committed models/ial-ckplus48 and for
// randomly initialised small configurations with each attention block (gca, se, cbam) and
// scrambled BatchNorm statistics; NR-DFERNet's snippet filter suppresses neutral in both; the
// ONNX runner and the Recognizer take clips; `ferkit export --out DIR` writes a model folder that
// `ferkit eval --engine onnx` scores exactly as the TF.js model; the committed model.onnx of
// models/ial-ckplus48 is what loadModelFolder picks and is not stale.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initEngine, tf } from '../../src/engine/backend.js';
import { decodeImageFile, type Raster } from '../../src/data/image.js';
import { bundledModelDir, createModel, loadModel } from '../../src/models/io.js';
import { clipsToInput } from '../../src/models/preprocess.js';
import { outputProbs } from '../../src/models/methods.js';
import { disposeOutput, type FerModel } from '../../src/models/model.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { createConfig } from '../../src/models/config.js';
import type { IalModel } from '../../src/models/ial/model.js';
import { scrambleBatchNorms } from '../helpers/batch-norms.js';
import { Rng } from '../../src/util/rng.js';
import { buildOnnxGraph, exportOnnx } from '../../src/export/onnx/index.js';
import { OnnxRunner } from '../../src/infer/onnx-runner.js';
import { TfjsRunner } from '../../src/infer/tfjs-runner.js';
import { loadModelFolder } from '../../src/infer/load.js';
import { Recognizer } from '../../src/api/recognizer.js';
import { ckSequences, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

const TOL = 1e-4;
const CK_CLASSES = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'contempt'];
const WITH_NEUTRAL = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** `perClass` real CK+48 sequences of every class folder, each its three frames (grey rasters). */
async function ckClips(perClass: number): Promise<Raster[][]> {
  const byClass = new Map<string, string[][]>();
  for (const { cls, frames } of ckSequences().values()) {
    const list = byClass.get(cls) ?? [];
    if (list.length < perClass && frames.length === 3) list.push(frames);
    byClass.set(cls, list);
  }
  const seqs = [...byClass.values()].flat();
  return Promise.all(seqs.map((files) => Promise.all(files.map((f) => decodeImageFile(f, { channels: 1 })))));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Asserts TF.js and onnxruntime agree on x; returns the TF.js logits. */
async function assertParity(model: FerModel, x: tf.Tensor, bytes: Uint8Array): Promise<Float32Array> {
  const out = model.forward(x, false);
  const probs = outputProbs(out, tf);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const onnx = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
  await session.release();
  const logits = out.logits.dataSync() as Float32Array;
  const d = {
    logits: maxAbsDiff(logits, onnx.logits.data as Float32Array),
    probs: maxAbsDiff(probs.dataSync(), onnx.probs.data as Float32Array),
    embedding: maxAbsDiff(out.embedding!.dataSync(), onnx.embedding.data as Float32Array),
  };
  assert.ok(d.logits <= TOL && d.probs <= TOL && d.embedding <= TOL, `TF.js vs ONNX max abs diff: ${JSON.stringify(d)}`);
  // the clips are not all given the same features (a degenerate model would pass trivially)
  const spread = tf.tidy(() => tf.sub(tf.max(out.embedding!, 0), tf.min(out.embedding!, 0)).max().dataSync()[0]);
  assert.ok(spread > 0.1, `embeddings barely vary across clips (spread ${spread})`);
  disposeOutput(out);
  probs.dispose();
  return Float32Array.from(logits);
}

describe('ONNX export of clip models (IAL)', () => {
  let clips: Raster[][];
  before(async () => {
    await initEngine('wasm');
    clips = await ckClips(3); // 21 real sequences
  });

  it('models/ial-ckplus48: TF.js and onnxruntime agree on real CK+48 clips; the runner and the Recognizer take clips', async () => {
    const model = await loadModel(bundledModelDir('ial-ckplus48'));
    const x = clipsToInput(clips, model.config.input);
    assert.deepEqual(x.shape, [clips.length, 3, 48, 48, 1]);
    const bytes = exportOnnx(model);
    const logits = await assertParity(model, x, bytes);
    // the trained model tells the classes apart: not one answer for every clip
    const top = new Set(Array.from({ length: clips.length }, (_, i) => logits.subarray(i * 7, i * 7 + 7).indexOf(Math.max(...logits.subarray(i * 7, i * 7 + 7)))));
    assert.ok(top.size >= 3, `only ${top.size} distinct predictions`);

    const onnx = await OnnxRunner.create(bytes, model.config);
    await assert.rejects(onnx.run(new Float32Array(48 * 48), [1, 48, 48, 1]), /input shape \[1,48,48,1\] does not match the model's \[N, 3, 48, 48, 1\] \(clips of NHWC frames\)/);
    // Recognizer.classify is what video.ts calls with each face's crop window
    const viaOnnx = await new Recognizer(onnx).classify(clips.slice(0, 5));
    const viaTfjs = await new Recognizer(new TfjsRunner(model)).classify(clips.slice(0, 5));
    for (let i = 0; i < 5; i++) assert.ok(maxAbsDiff(Object.values(viaOnnx.probs[i]), Object.values(viaTfjs.probs[i])) <= TOL, `clip ${i}: Recognizer probs differ between engines`);
    // a still image: the crop repeated over the window, on both engines
    const still = await new Recognizer(onnx).classify([clips[0][2]]);
    assert.ok(Math.abs(Object.values(still.probs[0]).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    await onnx.dispose();
    tf.dispose(x);
    model.dispose();
  });

  for (const attention of ['gca', 'se', 'cbam']) {
    it(`small configuration with ${attention} attention (random init, BN statistics set): TF.js and onnxruntime agree`, async () => {
      const model = createModel(createConfig('ial', { classes: CK_CLASSES, defaults: IAL_SMALL, methodOptions: { attention } }), new Rng(5));
      scrambleBatchNorms(model, 300);
      model.eval();
      const x = clipsToInput(clips, model.config.input);
      const g = buildOnnxGraph(model);
      // inference only: no auxiliary heads; BatchNorm folded into every conv
      assert.ok(!g.nodes.some((n) => n.name.includes('AUX_fc')), 'aux heads are not exported');
      assert.equal(g.nodes.filter((n) => n.op === 'BatchNormalization').length, 0);
      if (attention === 'gca') assert.equal(g.nodes.filter((n) => n.op === 'Conv' && n.attrs.group === 32).length, 1, "layer2's global depth-wise conv (32 channels)");
      await assertParity(model, x, exportOnnx(model));
      tf.dispose(x);
      model.dispose();
    });
  }

  it('nr-dfernet: the mean class token and the snippet filter (neutral suppressed) agree', async () => {
    // six frames → five frame tokens → snippets [0:3] and [2:5] (size 3, stride 2)
    const input = { ...IAL_SMALL.input, frames: 6 };
    const model = createModel(createConfig('ial', { classes: WITH_NEUTRAL, defaults: { ...IAL_SMALL, input }, methodOptions: { variant: 'nr-dfernet' } }), new Rng(8)) as IalModel;
    scrambleBatchNorms(model, 500);
    model.eval();
    const x = clipsToInput(
      clips.map((c) => [c[0], c[0], c[1], c[1], c[2], c[2]]),
      model.config.input,
    );
    const bytes = exportOnnx(model);
    await assertParity(model, x, bytes);
    // push every snippet to a confident non-neutral answer: the filter fires for every clip
    const bias = model.fc_f.bias!;
    const saved = tf.clone(bias);
    bias.assign(tf.tensor1d([0, 0, 0, 40, 0, 0, 0]));
    const logits = await assertParity(model, x, exportOnnx(model));
    for (let i = 0; i < clips.length; i++) assert.equal(logits[i * 7 + 6], -1000, `clip ${i}: neutral logit not suppressed`);
    bias.assign(saved);
    saved.dispose();
    tf.dispose(x);
    model.dispose();
  });

  it('ferkit export --out DIR writes a model folder that ferkit eval --engine onnx scores as the TF.js model', () => {
    const out = join(tempDir('ial-onnx'), 'ial');
    const e = ferkit(['--quiet', 'export', '--model', 'models/ial-ckplus48', '--format', 'onnx', '--out', out]);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stdout.trim(), join(out, 'model.onnx'));
    for (const f of ['config.json', 'model.safetensors', 'model.onnx']) assert.ok(existsSync(join(out, f)), `${f} missing from the export folder`);
    const args = ['eval', '--model', out, '--dataset', 'ckplus48', '--root', '../shared/data/ckplus48', '--json'];
    const viaOnnx = ferkit(['--quiet', ...args, '--engine', 'onnx']);
    const viaTfjs = ferkit(['--quiet', 'eval', '--model', 'models/ial-ckplus48', ...args.slice(3)]);
    assert.equal(viaOnnx.code, 0, viaOnnx.stderr);
    assert.equal(viaTfjs.code, 0, viaTfjs.stderr);
    const a = JSON.parse(viaOnnx.stdout);
    const b = JSON.parse(viaTfjs.stdout);
    assert.equal(a.engine, 'onnxruntime');
    assert.equal(b.engine, 'tfjs');
    assert.equal(a.n, 223);
    assert.equal(a.n, b.n);
    assert.equal(a.war, b.war);
    assert.equal(a.uar, b.uar);
    assert.deepEqual(a.confusion, b.confusion);
    assert.ok(Math.abs(a.ece - b.ece) < 1e-4, `ECE ${a.ece} vs ${b.ece}`);
  });

  it('models/ial-ckplus48 ships its model.onnx: loadModelFolder picks onnxruntime, which agrees with TF.js on real clips (not stale)', async () => {
    const dir = bundledModelDir('ial-ckplus48');
    const model = await loadModel(dir);
    const runner = await loadModelFolder(dir);
    assert.equal(runner.engine, 'onnxruntime');
    assert.equal(runner.config.input.kind, 'clip');
    const x = clipsToInput(clips, model.config.input);
    const got = await runner.run(x.dataSync() as Float32Array, x.shape);
    const want = await new TfjsRunner(model).run(x.dataSync() as Float32Array, x.shape);
    const d = maxAbsDiff(got.probs, want.probs);
    assert.ok(d <= TOL, `${dir}/model.onnx is stale or wrong: max abs diff ${d} (re-run \`ferkit export --model ${dir} --format onnx\`)`);
    await runner.dispose();
    tf.dispose(x);
    model.dispose();
  });
});
