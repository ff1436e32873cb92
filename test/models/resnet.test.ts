// ResNet backbones: torchvision's parameter counts and names, shapes for 48/112 grey/RGB inputs,
// forward parity with the same network in PyTorch (train and eval mode), and a training smoke test.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/engine/backend.js';
import { backbones } from '../../src/models/backbones/registry.js';
import { ResNet, resnet18, resnet34, resnet50 } from '../../src/models/backbones/resnet.js';
import { BatchNorm } from '../../src/nn/norm.js';
import { Rng } from '../../src/util/rng.js';
import { torchStateDict } from '../../src/nn/torch-layout.js';
import { SGD } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';
import { relDiff, runTorchReference, TORCH_MISSING, torchAvailable } from '../helpers/torch-reference.js';

describe('ResNet', () => {
  before(async () => {
    await initEngine();
  });

  it("has torchvision's parameter counts (resnet18 11,689,512 / 11,176,512 without fc; resnet34, resnet50)", () => {
    const counts: Array<[() => ResNet, number]> = [
      [() => resnet18({ numClasses: 1000, rng: new Rng(1) }), 11_689_512],
      [() => resnet18({ rng: new Rng(1) }), 11_176_512],
      [() => resnet34({ numClasses: 1000, rng: new Rng(1) }), 21_797_672],
      [() => resnet50({ numClasses: 1000, rng: new Rng(1) }), 25_557_032],
    ];
    for (const [build, n] of counts) {
      const m = build();
      assert.equal(m.numParameters(), n, `resnet${m.depth}`);
      m.dispose();
    }
  });

  it("names every tensor like torchvision's state_dict", () => {
    const m = resnet18({ numClasses: 7, rng: new Rng(1) });
    const keys = Object.keys(m.stateDict());
    assert.equal(keys.length, 122); // 62 parameters + 20 BatchNorms × 3 buffers
    assert.equal(m.namedParameters().length, 62);
    assert.deepEqual(keys.slice(0, 6), ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']);
    for (const k of ['layer1.0.conv1.weight', 'layer1.1.bn2.running_var', 'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.running_mean', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']) {
      assert.ok(keys.includes(k), k);
    }
    assert.ok(!keys.includes('layer1.0.downsample.0.weight'), 'layer1 keeps the identity shortcut');
    assert.equal(keys.at(-1), 'fc.bias');
    const sd = torchStateDict(m);
    assert.deepEqual(sd['conv1.weight'].shape, [64, 3, 7, 7]);
    assert.deepEqual(sd['fc.weight'].shape, [7, 512]);
    tf.dispose(Object.values(sd));
    m.dispose();
  });

  it('features/logits shapes for 48 and 112 inputs, grey and RGB, with a width multiplier', () => {
    for (const [size, ch] of [
      [48, 1],
      [112, 3],
    ]) {
      const m = resnet18({ inChannels: ch, numClasses: 7, widthMultiplier: 0.25, rng: new Rng(2) });
      const x = tf.randomNormal([2, size, size, ch]);
      const features = m.features(x, false);
      const logits = m.forward(x, false);
      assert.deepEqual(features.shape, [2, 128]);
      assert.deepEqual(logits!.shape, [2, 7]);
      assert.equal(m.featureDim, 128);
      assert.throws(() => m.forward(tf.zeros([1, size, size, ch + 1])), /expected NHWC input with \d+ channels/);
      tf.dispose([x, features, logits!]);
      m.dispose();
    }
    const b = backbones.get('resnet-18').create({ inChannels: 1, rng: new Rng(3) });
    assert.equal(b.featureDim, 512);
    const f = b.forward(tf.zeros([1, 48, 48, 1]), false);
    assert.deepEqual(f.shape, [1, 512]);
    f.dispose();
    b.dispose();
  });

  it('forward equals the same weights in PyTorch, eval and train mode (incl. running statistics)', { timeout: 120_000 }, async (t) => {
    if (!torchAvailable()) {
      t.skip(TORCH_MISSING);
      return;
    }
    const rng = new Rng(4);
    const m = resnet18({ numClasses: 7, rng });
    for (const [, mod] of m.namedModules()) {
      if (mod instanceof BatchNorm) {
        const c = mod.numFeatures;
        mod.runningMean.assign(tf.tensor(rng.fillNormal(c, 0, 0.1)));
        mod.runningVar.assign(tf.tensor(rng.fillUniform(c, 0.5, 1.5)));
        mod.weight!.assign(tf.tensor(rng.fillUniform(c, 0.5, 1.5)));
        mod.bias!.assign(tf.tensor(rng.fillNormal(c, 0, 0.1)));
      }
    }
    const grey = resnet18({ inChannels: 1, widthMultiplier: 0.25, rng });
    const inputs: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(torchStateDict(m))) inputs[`rgb_eval.sd.${k}`] = inputs[`rgb_train.sd.${k}`] = v;
    for (const [k, v] of Object.entries(torchStateDict(grey))) inputs[`grey_train.sd.${k}`] = v;
    inputs['rgb_eval.x'] = inputs['rgb_train.x'] = tf.tensor(rng.fillNormal(2 * 112 * 112 * 3), [2, 112, 112, 3]);
    inputs['grey_train.x'] = tf.tensor(rng.fillNormal(3 * 48 * 48), [3, 48, 48, 1]);
    const ref = runTorchReference(inputs, [
      { name: 'rgb_eval', op: 'resnet', args: { layers: [2, 2, 2, 2], num_classes: 7, in_channels: 3, width: 1, train: false } },
      { name: 'rgb_train', op: 'resnet', args: { layers: [2, 2, 2, 2], num_classes: 7, in_channels: 3, width: 1, train: true } },
      { name: 'grey_train', op: 'resnet', args: { layers: [2, 2, 2, 2], num_classes: 0, in_channels: 1, width: 0.25, train: true } },
    ]);
    const evalOut = m.forward(inputs['rgb_eval.x'], false);
    assert.ok(relDiff(evalOut, ref['rgb_eval.y']) < 1e-4, `eval logits differ by ${relDiff(evalOut, ref['rgb_eval.y'])}`);
    const trainOut = m.forward(inputs['rgb_train.x'], true);
    assert.ok(relDiff(trainOut, ref['rgb_train.y']) < 1e-3, `train logits differ by ${relDiff(trainOut, ref['rgb_train.y'])}`);
    assert.ok(relDiff(m.bn1.runningMean, ref['rgb_train.bn1.running_mean']) < 1e-5, 'bn1 running mean');
    const last = m.layers[3].get(1) as unknown as { bn2: BatchNorm };
    assert.ok(relDiff(last.bn2.runningVar, ref['rgb_train.layer4.1.bn2.running_var']) < 1e-4, 'layer4.1.bn2 running var');
    const greyOut = grey.forward(inputs['grey_train.x'], true);
    assert.ok(relDiff(greyOut, ref['grey_train.y']) < 1e-3, `grey features differ by ${relDiff(greyOut, ref['grey_train.y'])}`);
  });

  it('trains: SGD steps on a small batch lower the loss, without leaking tensors', () => {
    const m = resnet18({ inChannels: 1, numClasses: 3, widthMultiplier: 0.25, rng: new Rng(5) });
    const x = tf.tensor(new Rng(6).fillNormal(6 * 32 * 32), [6, 32, 32, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
    const opt = new SGD(m.trainableParameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    m.train();
    const loss = () => tf.losses.softmaxCrossEntropy(y, m.forward(x)) as tf.Scalar;
    const first = trainStep(m, loss, opt);
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 8; i++) last = trainStep(m, loss, opt);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
  });
});
