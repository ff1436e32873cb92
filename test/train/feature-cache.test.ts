// --cache-frozen: training on cached features of a frozen trunk prefix is the same training as
// running the prefix on every batch (same losses, same validation, same saved weights).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import { train } from '../../src/train/trainer.js';
import { tempDir } from '../data/data-fixtures.js';
import { CLASSES, options } from './trainer-fixtures.js';
import { createConfig } from '../../src/models/config.js';

const faceResNet = createConfig('ce', { classes: CLASSES, backbone: 'face-resnet', backboneOptions: { stages: 4 }, methodOptions: { dropout: 0 }, size: 64, input: { greyscale: true } });

async function weightsOf(dir: string): Promise<Record<string, Float32Array>> {
  const file = readdirSync(dir).find((f) => f.endsWith('.safetensors'))!;
  const { tensors } = await loadSafetensors(join(dir, file));
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.dataSync() as Float32Array]));
}

describe('frozen-prefix feature cache', () => {
  const run = async (name: string, over: Record<string, unknown>) =>
    options(tempDir(name), {
      config: faceResNet,
      epochs: 2,
      maxStepsPerEpoch: 3,
      batchSize: 16,
      workers: 1,
      tta: true,
      trainAugment: 'none',
      optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
      finetune: { pretrained: true, freeze: ['stem', 'stage1', 'stage2'], bn: 'train', backboneLrScale: 0.5 },
      ...over,
    });

  it('trains exactly as running the frozen parts on every batch: losses, validation, saved weights', async () => {
    await initEngine('wasm');
    const a = await train(await run('cache-off', {}));
    const b = await train(await run('cache-on', { cacheFrozen: true }));
    assert.equal(b.history.length, 2);
    b.history.forEach((h, i) => {
      const ref = a.history[i]!;
      assert.ok(Math.abs(h.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `epoch ${i + 1} loss ${h.loss} vs ${ref.loss}`);
      assert.equal(h.val?.war, ref.val?.war);
    });
    // A second run on the same faces and trunk reads the maps from the disk cache: the same run again.
    const again = await train(await run('cache-again', { cacheFrozen: true }));
    assert.deepEqual(again.history.map((h) => [h.loss, h.val?.war]), b.history.map((h) => [h.loss, h.val?.war]));
    const wa = await weightsOf(a.bestDir);
    const wb = await weightsOf(b.bestDir);
    assert.deepEqual(Object.keys(wb).sort(), Object.keys(wa).sort(), 'the saved model is the whole network');
    for (const [k, v] of Object.entries(wa)) {
      let d = 0;
      v.forEach((x, i) => (d = Math.max(d, Math.abs(x - wb[k]![i]!))));
      assert.ok(d <= 1e-4, `${k} differs by ${d}`);
    }
  });

  it('needs frozen leading parts, and leaves one to train', async () => {
    await initEngine('wasm');
    await assert.rejects(train(await run('cache-none', { cacheFrozen: true, finetune: { pretrained: true, freeze: [], bn: 'train' } })), /--cache-frozen: freeze the backbone's leading parts \(stem, stage1, stage2, \.\.\.\)/);
    await assert.rejects(
      train(await run('cache-all', { cacheFrozen: true, finetune: { pretrained: true, freeze: ['stem', 'stage1', 'stage2', 'stage3', 'stage4'], bn: 'train' } })),
      /every backbone part is frozen/,
    );
  });
});
