// Pattern-map on the face-pretrained trunk: --pretrained puts dlib's weights (BatchNorms
// calibrated) into the EFE trunk, --freeze keeps the named parts and their BatchNorm statistics
// through all three steps, --backbone-lr-scale gives the trunk its own lr in the steps that train
// it, the method's own init wins over --pretrained, a resumed run is bit-identical, and
// --cache-frozen is refused with the reason.
// Real CK+48 faces, face-resnet cut after stage 1 at 64 px (a 14x14 grid), one short epoch.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { readImages } from '../../src/data/registry.js';
import { CANONICAL_CLASSES } from '../../src/data/types.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import { FaceResNet } from '../../src/models/backbones/face-resnet.js';
import { createConfig } from '../../src/models/config.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import { train, type TrainerOptions } from '../../src/train/trainer.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const CLASSES = ['happy', 'surprise'];
const config = createConfig('patternmap', {
  classes: CLASSES,
  backbone: 'face-resnet',
  backboneOptions: { stages: 1 },
  methodOptions: { embeddingDim: 12, encoderHidden: 10, classifierHidden: 8, decoderChannels: [8, 6, 4, 3, 2, 2, 1] },
  size: 64,
  input: { greyscale: true },
});
// Steps 1 and 2 train the trunk, step 3 does not; step 2 freezes no extra convs here.
const objective = { lrEfe: 0.05, lrEmr: 0.02, lrEpmg: 0.01, tripletPerClass: 3, tripletIterations: 2, freezeConvs: 0, l4: 0.01, l5: 0.01 };

let base: TrainerOptions;
before(async () => {
  await initEngine('wasm');
  const ds = await readImages('ckplus', sharedData('ckplus48'));
  const items = CLASSES.flatMap((c) => ds.items.filter((s) => CANONICAL_CLASSES[s.label] === c).slice(0, 6));
  base = {
    config,
    objective,
    train: { store: await loadSampleStore(items, config.input), labels: Int32Array.from(items, (s) => CLASSES.indexOf(CANONICAL_CLASSES[s.label])) },
    outDir: '',
    epochs: 1,
    batchSize: 6,
    maxStepsPerEpoch: 1,
    optimizer: { name: 'sgd', lr: 0 },
    schedule: { name: 'constant' },
    workers: 1,
    seed: 3,
  };
});

const tensorsOf = async (file: string) => (await loadSafetensors(file)).tensors;
const same = (a: tf.Tensor, b: tf.Tensor) => a.shape.join() === b.shape.join() && (a.dataSync() as Float32Array).every((v, i) => v === b.dataSync()[i]);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('pattern-map on the face-pretrained trunk', () => {
  it('loads the pretrained trunk, keeps frozen parts and their BatchNorm statistics through the three steps, scales the trunk lr', async () => {
    const out = tempDir('pm-pre');
    const r = await train({ ...base, outDir: out, finetune: { pretrained: true, freeze: ['stem'], bn: 'train', backboneLrScale: 0.5 } });
    assert.equal(r.finished, true);
    const dlib = new FaceResNet({ stages: 1 });
    dlib.loadPretrained();
    const init = await tensorsOf(join(out, 'pretrained', 'model.safetensors'));
    const end = await tensorsOf(join(out, 'checkpoint.safetensors'));
    // Conv weights are dlib's as loaded (calibration changes only the BatchNorms).
    for (const k of ['stem.conv.weight', 'stage1.0.conv1.conv.weight', 'stage1.2.conv2.conv.weight']) assert.ok(same(init[`backbone.${k}`], dlib.stateDict()[k]), `${k} is dlib's`);
    // Frozen stem: weights and BatchNorm statistics unchanged after the epoch.
    for (const k of ['stem.conv.weight', 'stem.bn.weight', 'stem.bn.bias', 'stem.bn.running_mean', 'stem.bn.running_var']) assert.ok(same(end[`backbone.${k}`], init[`backbone.${k}`]), `frozen ${k} changed`);
    // Stage 1 trained (steps 1-2), from dlib's start.
    const d = maxDiff(end['backbone.stage1.0.conv1.conv.weight'], init['backbone.stage1.0.conv1.conv.weight']);
    assert.ok(d > 0 && d < 0.1, `stage1 moved by ${d}`);
    assert.ok(!same(end['backbone.stage1.0.conv1.bn.running_mean'], init['backbone.stage1.0.conv1.bn.running_mean']), 'an unfrozen BatchNorm updates its statistics');
    // The frozen stem holds no optimizer slots; the trunk's group has lr × 0.5 in steps 1-2 only.
    const groups = JSON.parse((await loadSafetensors(join(out, 'checkpoint.safetensors'))).metadata.optimizers) as Record<string, { groups: { lr: number; size: number }[] }>;
    assert.deepEqual(groups.efe.groups.map((g) => g.lr), [0.05, 0.025]);
    assert.deepEqual(groups.emr.groups.map((g) => g.lr), [0.02, 0.01]);
    assert.deepEqual(groups.epmg.groups.map((g) => g.lr), [0.01]);
    assert.equal(groups.efe.groups[1].size, dlib.stageList[0]!.parameters().length, 'the trunk group is stage 1 alone (the stem is frozen)');
    dlib.dispose();
    tf.dispose([...Object.values(init), ...Object.values(end)]);
  });

  it('--backbone-lr-scale 0 leaves the trunk as loaded while the EFE mask and head train; --bn frozen keeps every trunk statistic', async () => {
    const out = tempDir('pm-pre0');
    await train({ ...base, outDir: out, finetune: { pretrained: true, freeze: [], bn: 'frozen', backboneLrScale: 0 } });
    const init = await tensorsOf(join(out, 'pretrained', 'model.safetensors'));
    const end = await tensorsOf(join(out, 'checkpoint.safetensors'));
    for (const k of Object.keys(init).filter((k) => k.startsWith('backbone.'))) assert.ok(same(end[k], init[k]), `${k} changed`);
    assert.ok(!same(end['maskNet.weight'], init['maskNet.weight']) && !same(end['efeHead.weight'], init['efeHead.weight']), 'mask net and EFE head train');
    // --bn frozen: no calibration, so the BatchNorms hold dlib's folded affine form (variance 1 − ε).
    assert.ok(Math.abs(init['backbone.stem.bn.running_var'].dataSync()[0] - (1 - 1e-5)) < 1e-6);
    tf.dispose([...Object.values(init), ...Object.values(end)]);
  });

  it("the method's own init wins over --pretrained; --cache-frozen is refused with the reason", async () => {
    const out = tempDir('pm-pre-init');
    const lines: string[] = [];
    // A trunk of this architecture that is not dlib's: a first run's, fine-tuned.
    const first = tempDir('pm-pre-src');
    await train({ ...base, outDir: first, finetune: { pretrained: true, freeze: [], bn: 'train', backboneLrScale: 1 } });
    const src = join(first, 'best');
    await train({ ...base, outDir: out, objective: { ...objective, init: src }, finetune: { pretrained: true, freeze: ['stem', 'stage1'], bn: 'frozen', backboneLrScale: 1 }, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => /initialised .* from .*\(--pretrained not applied/.test(l)), lines.join('\n'));
    const want = await tensorsOf(join(src, 'model.safetensors'));
    const end = await tensorsOf(join(out, 'checkpoint.safetensors'));
    for (const k of Object.keys(want).filter((k) => k.startsWith('backbone.'))) assert.ok(same(end[k], want[k]), `${k}: not the init's (every trunk part is frozen)`);
    assert.ok(!same(end['backbone.stage1.0.conv1.conv.weight'], (await tensorsOf(join(first, 'pretrained', 'model.safetensors')))['backbone.stage1.0.conv1.conv.weight']), "the init's trunk is not dlib's");
    tf.dispose([...Object.values(want), ...Object.values(end)]);
    await assert.rejects(train({ ...base, outDir: tempDir('pm-pre-cache'), cacheFrozen: true, finetune: { freeze: ['stem'] } }), /does not apply --cache-frozen: its steps need the face images themselves/);
  });

  it('a run stopped after every batch and resumed equals the uninterrupted one (pretrained, frozen stem, scaled trunk lr)', async () => {
    const finetune = { pretrained: true, freeze: ['stem'], bn: 'train' as const, backboneLrScale: 0.5 };
    const run = (outDir: string, over: Partial<TrainerOptions> = {}) => train({ ...base, outDir, finetune, trainAugment: 'fer-train', ...over });
    const full = tempDir('pm-pre-full');
    const cut = tempDir('pm-pre-cut');
    await run(full);
    let calls = 1;
    for (let r = await run(cut, { timeBudgetSec: 0 }); !r.finished; calls++) r = await run(cut, { timeBudgetSec: 0, resume: true });
    assert.equal(calls, 5, 'one call per batch (1 + 2 + 2)');
    const a = await tensorsOf(join(full, 'checkpoint.safetensors'));
    const b = await tensorsOf(join(cut, 'checkpoint.safetensors'));
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const k of Object.keys(a)) assert.ok(same(b[k], a[k]), `${k} differs after resuming`);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
});
