// The generic trainer on real FER2013 faces: a short run learns (loss falls, val accuracy beats
// chance), an interrupted-and-resumed run reproduces the uninterrupted one exactly, and the best
// model folder loads and scores as the log says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { readImages } from '../../src/data/registry.js';
import type { ImageSample } from '../../src/data/types.js';
import { BASIC7 } from '../../src/data/types.js';
import { loadModel } from '../../src/models/io.js';
import type { ModelConfig } from '../../src/models/model.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { loadSampleStore } from '../../src/train/sample-store.js';
import { train, type TrainerOptions } from '../../src/train/trainer.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import { sharedData, tempDir } from '../data/data-fixtures.js';

const CLASSES = ['happy', 'surprise'];

async function subset(split: 'train' | 'val', perClass: number): Promise<ImageSample[]> {
  const ds = await readImages('folder', sharedData('fer2013'), { split });
  const out: ImageSample[] = [];
  for (const c of CLASSES) out.push(...ds.items.filter((s) => BASIC7[s.label] === c).slice(0, perClass));
  return out;
}

function config(): ModelConfig {
  return {
    format: 'ferkit-model',
    version: 1,
    method: 'ce',
    backbone: 'fer-cnn',
    backboneOptions: { widthMultiplier: 0.25 },
    methodOptions: { dropout: 0.1 },
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    classes: CLASSES,
  };
}

async function options(outDir: string, over: Partial<TrainerOptions> = {}): Promise<TrainerOptions> {
  const cfg = config();
  const toModel = (s: ImageSample) => CLASSES.indexOf(BASIC7[s.label]);
  const tr = await subset('train', 160);
  const va = await subset('val', 40);
  return {
    config: cfg,
    train: { store: await loadSampleStore(tr, cfg.input), labels: Int32Array.from(tr, toModel) },
    val: { store: await loadSampleStore(va, cfg.input), labels: Int32Array.from(va, toModel) },
    outDir,
    epochs: 6,
    batchSize: 32,
    optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    schedule: { name: 'cosine' },
    workers: 1,
    seed: 3,
    trainAugment: 'fer-train',
    ...over,
  };
}

describe('trainer', () => {
  it('learns happy vs surprise from real FER2013 faces; the best folder scores as logged', async () => {
    await initEngine('wasm');
    const out = tempDir('trainer');
    const o = await options(out);
    const result = await train(o);
    assert.equal(result.finished, true);
    const losses = result.history.map((h) => h.loss);
    assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses.join(', ')}`);
    assert.ok(result.best && result.best.war > 0.6, `best val WAR ${result.best?.war} is not above chance (0.5); history ${JSON.stringify(result.history)}`);
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    assert.deepEqual(log.map((l) => l.epoch), [1, 2, 3, 4, 5, 6]);
    const model = await loadModel(result.bestDir);
    const e = await evaluate(model, await subset('val', 40));
    assert.ok(Math.abs(e.war - result.best!.war) < 1e-9, `reloaded best scores ${e.war}, the trainer logged ${result.best!.war}`);
    model.dispose();
  });

  it('a run stopped mid-epoch by its time budget and resumed ends with the same weights and losses', async () => {
    await initEngine('wasm');
    const full = tempDir('trainer-full');
    const cut = tempDir('trainer-cut');
    const short = { epochs: 2, maxStepsPerEpoch: 3, val: undefined };
    const a = await train(await options(full, short));
    // Budget 0: stops after the first step, with a checkpoint; then resumes to the end.
    const b1 = await train(await options(cut, { ...short, timeBudgetSec: 0 }));
    assert.equal(b1.finished, false);
    const b2 = await train(await options(cut, { ...short, resume: true }));
    assert.equal(b2.finished, true);
    assert.deepEqual(b2.history.map((h) => h.loss), a.history.map((h) => h.loss));
    const wa = await loadSafetensors(join(full, 'checkpoint.safetensors'));
    const wb = await loadSafetensors(join(cut, 'checkpoint.safetensors'));
    for (const [k, t] of Object.entries(wa.tensors)) {
      assert.deepEqual(Array.from(wb.tensors[k].dataSync()), Array.from(t.dataSync()), `${k} differs after resume`);
    }
  });
});
