// The contract every registered method meets on every backbone it takes: output shapes, no
// tensor left behind by a forward pass (eval or training), a save/load round trip that gives the
// same outputs, and an ONNX export that onnxruntime-node runs to the TF.js outputs. Image methods
// take every registered backbone; a method with its own network (ial, ensemble) its own, and the
// backbones it also takes as its encoder (ial on face-resnet and face-expression). A new
// method or backbone is covered by registering it; one that needs a special small setting adds a
// line to SMALL below.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { OnnxRunner } from '../../src/infer/onnx-runner.js';
import { methods } from '../../src/models/all-methods.js';
import { backbones } from '../../src/models/backbones/registry.js';
import { createConfig, type ConfigChoices } from '../../src/models/config.js';
import { buildEnsemble } from '../../src/models/ensemble/build.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { createModel, loadModel, saveModel } from '../../src/models/io.js';
import { outputProbs } from '../../src/models/methods.js';
import { disposeOutput, type FerModel, type ModelOutput } from '../../src/models/model.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../data/data-fixtures.js';
import { scrambleBatchNorms } from '../helpers/batch-norms.js';

const CLASSES = ['angry', 'happy', 'sad', 'neutral'];
const N = 2;
const TOL = 1e-4;

/** Small widths per backbone (and the input side each needs for a pattern-map grid of ≥ 4). */
const BACKBONE: Record<string, Omit<ConfigChoices, 'classes'>> = {
  'fer-cnn': { backboneOptions: { widthMultiplier: 0.125 }, size: 48 },
  resnet18: { backboneOptions: { widthMultiplier: 0.125 }, size: 64 },
  resnet34: { backboneOptions: { widthMultiplier: 0.125 }, size: 64 },
  resnet50: { backboneOptions: { widthMultiplier: 0.0625 }, size: 64 },
  'face-resnet': { size: 64 },
  'face-expression': { size: 64 },
};

/** Method settings that keep a model small; pattern-map needs a ≥ 4x4 feature grid. */
const SMALL: Record<string, (backbone: string) => Omit<ConfigChoices, 'classes'>> = {
  ce: () => ({}),
  scn: () => ({}),
  arbex: () => ({ methodOptions: { hiddenSizes: [8], anchors: 2 } }),
  patternmap: (backbone) => ({
    methodOptions: { embeddingDim: 8, encoderHidden: 8, classifierHidden: 8 },
    // ResNets reach a 4x4 grid at 128 px; face-resnet keeps two stages (64 px → 7x7).
    ...(backbone.startsWith('resnet') ? { size: 128 } : backbone === 'face-resnet' ? { backboneOptions: { stages: 2 } } : {}),
  }),
  // On face-resnet: two stages at 64 px (14x14 and 7x7 maps carry GCA), one dynamic block; on
  // face-expression at 64 px its last two blocks' 8x8 and 4x4 maps carry them.
  ial: (backbone) =>
    backbone === 'face-resnet'
      ? { defaults: IAL_SMALL, backboneOptions: { stages: 2 }, methodOptions: { layers: [1, 1, 1, 1] }, size: 64 }
      : backbone === 'face-expression'
        ? { defaults: IAL_SMALL, methodOptions: { layers: [1, 1, 1, 1] }, size: 64 }
        : { defaults: IAL_SMALL, backboneOptions: { widthMultiplier: 0.125 }, size: 32 },
};

/** Registered backbones a method with its own network also takes as its encoder (ial's frames). */
const ALSO_ON: Record<string, string[]> = { ial: ['face-resnet', 'face-expression'] };

function build(method: string, backbone: string | undefined, seed: number): FerModel {
  if (method === 'ensemble') {
    const members = [build('ce', 'fer-cnn', seed), build('ce', 'fer-cnn', seed + 1)];
    return buildEnsemble(members, { mirror: true, weights: [2, 1] });
  }
  const b = backbone ? BACKBONE[backbone] : {};
  const own = SMALL[method]?.(backbone ?? '') ?? {};
  const config = createConfig(method, {
    classes: CLASSES,
    ...b,
    ...own,
    ...(backbone ? { backbone } : {}),
    backboneOptions: { ...(b.backboneOptions ?? {}), ...(own.backboneOptions ?? {}) },
  });
  const model = createModel(config, new Rng(seed));
  scrambleBatchNorms(model, seed * 100);
  return model.eval();
}

/** The method × backbone pairs: image methods on every registered backbone, others on their own. */
function pairs(): [string, string | undefined][] {
  return methods.list().flatMap(({ name, create }) =>
    create.kind === 'image' && backbones.has(create.defaults.backbone)
      ? backbones.names().map((b): [string, string | undefined] => [name, b])
      : [[name, undefined], ...(ALSO_ON[name] ?? []).map((b): [string, string | undefined] => [name, b])],
  );
}

/** Whether the method trains (an ensemble is built from trained members, never trained itself). */
function trains(method: string, model: FerModel): boolean {
  try {
    methods.get(method).create.createObjective(model, {});
    return true;
  } catch {
    return false;
  }
}

function inputOf(model: FerModel): tf.Tensor {
  const { kind, size, channels, frames } = model.config.input;
  const shape = kind === 'clip' ? [N, frames!, size[0], size[1], channels] : [N, size[0], size[1], channels];
  return tf.randomNormal(shape, 0, 1, 'float32', 5);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function checkShapes(out: ModelOutput, classes: number): void {
  assert.deepEqual(out.logits.shape, [N, classes]);
  if (out.probs) assert.deepEqual(out.probs.shape, [N, classes]);
  if (out.confidence) assert.deepEqual(out.confidence.shape, [N]);
  assert.ok(out.embedding, 'every method gives an embedding');
  assert.equal(out.embedding.shape.length, 2);
  assert.equal(out.embedding.shape[0], N);
}

describe('method x backbone contract', () => {
  before(async () => {
    await initEngine();
  });

  it('covers every registered method and backbone', () => {
    const covered = pairs();
    for (const m of methods.names()) assert.ok(covered.some(([name]) => name === m), `method ${m} is not covered`);
    for (const b of backbones.names()) {
      assert.ok(BACKBONE[b], `backbone ${b} has no small setting in this test`);
      assert.ok(covered.some(([, name]) => name === b), `backbone ${b} is not covered`);
    }
  });

  for (const [method, backbone] of pairs()) {
    it(`${method}${backbone ? ` on ${backbone}` : ''}: shapes, no leaks, save/load, ONNX parity`, async () => {
      const model = build(method, backbone, 3);
      const classes = model.config.classes.length;
      const x = inputOf(model);

      // Shapes, and no tensors left behind by an eval or a training forward (methods that train).
      const before = tf.memory().numTensors;
      if (trains(method, model)) disposeOutput(model.forward(x, true));
      model.eval();
      const out = model.forward(x, false);
      checkShapes(out, classes);
      const probs = outputProbs(out, tf);
      const extra = 1 + (out.probs ? 1 : 0) + (out.confidence ? 1 : 0) + (out.embedding ? 1 : 0) + Object.keys(out.extras ?? {}).length + 1;
      assert.equal(tf.memory().numTensors, before + extra, 'a forward pass leaks tensors');
      const probsSum = tf.tidy(() => tf.sum(probs, 1).dataSync());
      for (const s of probsSum) assert.ok(Math.abs(s - 1) < 1e-5, `probabilities sum to ${s}`);

      // Save and load: same config, same outputs.
      const dir = tempDir(`contract-${method}-${backbone ?? 'own'}`);
      await saveModel(dir, model);
      const loaded = await loadModel(dir);
      assert.deepEqual({ ...loaded.config, fingerprint: undefined }, { ...model.config, fingerprint: undefined });
      const again = loaded.forward(x, false);
      assert.equal(maxAbsDiff(again.logits.dataSync(), out.logits.dataSync()), 0, 'loaded model gives other logits');
      disposeOutput(again);
      loaded.dispose();

      // ONNX: onnxruntime-node gives TF.js's probabilities, embeddings (and confidences).
      const runner = await OnnxRunner.create(exportOnnx(model), model.config, { embedding: true });
      const onnx = await runner.run(x.dataSync() as Float32Array, x.shape);
      await runner.dispose();
      const d = maxAbsDiff(onnx.probs, probs.dataSync());
      assert.ok(d <= TOL, `TF.js vs ONNX probs max abs diff ${d}`);
      const dEmb = maxAbsDiff(onnx.embedding!, out.embedding!.dataSync());
      assert.ok(dEmb <= TOL, `TF.js vs ONNX embedding max abs diff ${dEmb}`);
      if (out.confidence) assert.ok(maxAbsDiff(onnx.confidence!, out.confidence.dataSync()) <= TOL, 'TF.js vs ONNX confidence differ');
      // The inputs are not all given the same answer (a degenerate model would pass trivially).
      const spread = tf.tidy(() => tf.sub(tf.max(out.embedding!, 0), tf.min(out.embedding!, 0)).max().dataSync()[0]);
      assert.ok(spread > 1e-3, `embeddings do not vary across the batch (spread ${spread})`);

      disposeOutput(out);
      probs.dispose();
      x.dispose();
      model.dispose();
    });
  }
});
