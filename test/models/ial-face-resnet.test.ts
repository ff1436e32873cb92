// The IAL clip model on the face-pretrained frame encoder (--method ial --backbone face-resnet):
// dlib's weights land in the encoder, frozen parts stay put through a training step while GCA,
// the aux heads, DSF, the transformer and the rest of the trunk train, `ferkit train` builds it
// from grey CK+ clips (RGB trunk, greyscale input) and refuses --cache-frozen, and the method's
// own from-scratch trunk still gives the outputs it gave before (golden logits recorded on main).
// ONNX parity of the pair is in test/models/contract.test.ts.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/engine/backend.js';
import { FaceResNet } from '../../src/models/backbones/face-resnet.js';
import { createConfig } from '../../src/models/config.js';
import { IAL_SMALL } from '../../src/models/ial/method.js';
import { bundledModelDir, createModel, loadModel } from '../../src/models/io.js';
import type { FerModel, ModelConfig } from '../../src/models/model.js';
import { backbonesOf } from '../../src/train/finetune.js';
import { createMethodReplica } from '../../src/train/method-replica.js';
import { Rng } from '../../src/util/rng.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';
import { ferkit } from '../helpers/cli.js';

const CLASSES = ['angry', 'happy', 'sad', 'neutral'];

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

/** Uniform [0, 1) clips from a seeded Rng. */
function clips(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next()), shape);
}

/** The small clip model on face-resnet: 3 frames at 64 px, stages 1-3 (maps 14, 7, 3). */
function faceConfig(methodOptions: Record<string, unknown> = {}): ModelConfig {
  return createConfig('ial', { classes: CLASSES, defaults: IAL_SMALL, backbone: 'face-resnet', backboneOptions: { stages: 3 }, methodOptions: { layers: [1, 1, 1, 1], ...methodOptions }, size: 64 });
}

describe('ial on the face-pretrained frame encoder', () => {
  before(async () => {
    await initEngine();
  });

  it('builds GCA and the aux heads on the last two stages, RGB input with the trunk normalisation', () => {
    const config = faceConfig();
    assert.equal(config.input.channels, 3);
    assert.deepEqual(config.input.mean.map((m) => Math.round(m * 255 * 1000) / 1000), [122.782, 117.001, 104.298]);
    const model = createModel(config, new Rng(1));
    const names = Object.keys(model.stateDict());
    for (const k of ['s_former.encoder.stage1.0.conv1.conv.weight', 's_former.stage2_attention.attn.gc.0.weight', 's_former.stage3_attention.AUX_fc.1.weight', 's_former.dsf.layer4.0.conv1.weight', 'fc_f.weight']) {
      assert.ok(names.includes(k), `${k} in the state dict`);
    }
    assert.ok(!names.some((k) => k.startsWith('s_former.stage1_attention')), 'stage 1 carries no attention by default');
    model.train();
    const out = model.forward(clips([2, 3, 64, 64, 3], 2), true);
    assert.deepEqual(Object.keys(out.extras ?? {}).sort(), ['aux2', 'aux3']);
    assert.deepEqual(out.logits.shape, [2, 4]);
    tf.dispose([out.logits, out.embedding!, ...Object.values(out.extras ?? {})]);
    model.dispose();
    // attention none: no blocks, no aux heads; stages named by the encoder's own numbering.
    const plain = createModel(faceConfig({ attention: 'none' }), new Rng(1));
    assert.ok(!Object.keys(plain.stateDict()).some((k) => k.includes('_attention')));
    plain.dispose();
    assert.throws(() => createModel(faceConfig({ attentionStages: [3, 4] })), /attentionStages lists stages of the face-resnet encoder, 1-3 \(stage1, stage2, stage3\), got \[3,4\]/);
  });

  it('--pretrained loads dlib weights into the encoder; frozen parts stay put through a step, the rest trains', () => {
    let model: FerModel | undefined;
    const finetune = { pretrained: true, freeze: ['stem', 'stage1'] };
    const replica = createMethodReplica({ config: faceConfig(), optimizer: { name: 'sgd', lr: 0.05, momentum: 0 }, seed: 3, finetune }, (m) => (model = m));
    const snapshot = () => Object.fromEntries(Object.entries(model!.stateDict()).map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
    const before = snapshot();
    const ref = new FaceResNet({ stages: 3 });
    ref.loadPretrained();
    const refState = ref.stateDict();
    for (const k of ['stem.conv.weight', 'stage2.0.conv1.conv.weight', 'stage3.2.conv2.bn.running_mean']) {
      assert.equal(maxAbsDiff(before[`s_former.encoder.${k}`]!, refState[k]!.dataSync()), 0, `${k} is dlib's`);
    }
    ref.dispose();
    assert.equal(backbonesOf(model!).length, 1);

    const x = clips([4, 3, 64, 64, 3], 4);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const { grads } = tf.variableGrads(() => replica.loss(x, y), replica.variables);
    replica.apply(
      replica.variables.map((v) => grads[v.name]!),
      0.05,
    );
    tf.dispose([x, y, ...Object.values(grads)]);
    const after = snapshot();
    for (const k of Object.keys(before)) {
      if (/^s_former\.encoder\.(stem|stage1)\./.test(k)) assert.equal(maxAbsDiff(before[k]!, after[k]!), 0, `${k} is frozen`);
    }
    for (const k of ['s_former.encoder.stage2.0.conv1.conv.weight', 's_former.encoder.stage3.0.conv2.bn.running_var', 's_former.stage2_attention.attn.fc1.0.weight', 's_former.stage2_attention.AUX_fc.0.weight', 's_former.dsf.layer4.0.conv1.weight', 's_former.temporal_transformer.layers.0.0.fn.fn.to_qkv.weight', 'fc_f.weight']) {
      assert.ok(maxAbsDiff(before[k]!, after[k]!) > 0, `${k} trains`);
    }
    model!.dispose();
  });

  it('ferkit train builds it from grey CK+ clips and refuses --cache-frozen, saying why', () => {
    const out = tempDir('ial-face-train');
    const common = ['--quiet', 'train', '--method', 'ial', '--dataset', 'ckplus-clips', '--root', sharedData('ckplus48'), '--limit', '8', '--frames', '3', '--backbone', 'face-resnet', '--pretrained', '--backbone-options', '{"stages":3}', '--size', '64', '--freeze', 'stem,stage1'];
    const refused = ferkit([...common, '--cache-frozen', '--out', join(out, 'cached')]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--cache-frozen keeps one map per face .* the ial clip model runs its frame encoder per clip/);
    const r = ferkit([...common, '--method-options', '{"layers":[1,1,1,1],"temporalDepth":1,"spatialDepth":1}', '--batch-size', '4', '--epochs', '1', '--max-steps', '1', '--workers', '1', '--out', join(out, 'run')]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(readFileSync(join(out, 'run', 'best', 'config.json'), 'utf8')) as ModelConfig;
    assert.equal(config.backbone, 'face-resnet');
    assert.equal(config.input.channels, 3);
    assert.equal(config.input.greyscale, true, 'grey CK+ frames go to the RGB trunk as grey');
    assert.match(String((config.info as { pretrained?: string }).pretrained), /dlib_face_recognition_resnet_model_v1/);
  });
});

describe('ial on its own trunk: unchanged', () => {
  before(async () => {
    await initEngine();
  });

  it('models/ial-ckplus48 gives the logits it gave before the encoder choice', async () => {
    const model = await loadModel(bundledModelDir('ial-ckplus48'));
    const x = clips([2, 3, 48, 48, 1], 7);
    const out = model.forward(x, false);
    const golden = [-1.797115, -2.217911, 8.605961, -2.393301, -5.107712, 10.439712, -10.817724, -0.965127, -0.026079, 6.767666, 2.362637, -4.897416, 4.154948, -9.808472];
    assert.ok(maxAbsDiff(out.logits.dataSync(), golden) < 1e-5, `logits ${Array.from(out.logits.dataSync())}`);
    tf.dispose([x, out.logits, out.embedding!]);
    model.dispose();
  });

  it('a new GCA model from a seed draws the same weights and gives the same logits and aux logits', () => {
    const model = createModel(createConfig('ial', { classes: CLASSES, defaults: IAL_SMALL, size: 32 }), new Rng(11));
    model.train();
    const x = clips([2, 3, 32, 32, 1], 5);
    const out = model.forward(x, true);
    const golden: Record<string, number[]> = {
      logits: [0.868234, 0.08632, 0.175597, -1.244696, 1.238894, -0.10319, 0.058307, -1.946871],
      aux2: [-0.049986, 0.056061, -0.006362, -0.046442, 0.054105, 0.065783, -0.151284, -0.035797],
      aux3: [0.050293, -0.011417, 0.037394, 0.008727, 0.012997, 0.033255, 0.093616, -0.003611],
    };
    const got: Record<string, tf.Tensor> = { logits: out.logits, ...(out.extras as Record<string, tf.Tensor>) };
    assert.deepEqual(Object.keys(got).sort(), Object.keys(golden).sort());
    for (const [k, v] of Object.entries(golden)) assert.ok(maxAbsDiff(got[k]!.dataSync(), v) < 1e-5, `${k}: ${Array.from(got[k]!.dataSync())}`);
    tf.dispose([x, out.embedding!, ...Object.values(got)]);
    model.dispose();
  });
});
