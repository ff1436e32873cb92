// SCN relabeling through the generic trainer (methods.md §2.5): the objective's decisions travel
// back from the replicas (in-process and worker threads) with their dataset indices and change the
// trainer's label table from the relabel epoch on; checkpoints keep the table, so a run stopped
// after relabels and resumed ends with the uninterrupted run's labels and weights.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine } from '../../src/engine/backend.js';
import { BASIC7 } from '../../src/data/types.js';
import type { Raster } from '../../src/data/image.js';
import type { ModelConfig } from '../../src/models/model.js';
import { loadSafetensors } from '../../src/nn/checkpoint.js';
import type { SampleStore } from '../../src/data/sample-store.js';
import { train, type TrainerOptions } from '../../src/train/trainer.js';
import { tempDir } from '../data/data-fixtures.js';
import { IDENTITY } from '../models/identity-backbone.js';
import { Z_SCALE } from '../fixtures/scn-golden-replica.js';
import { config, options } from './trainer-fixtures.js';

before(async () => {
  await initEngine('wasm');
});

const Z_GOLD = [2.0, 0.5, -1.0, 0.0, 1.0, 0.2, -0.3];
const ZERO = [0, 0, 0, 0, 0, 0, 0];

/** One sample of the golden replica: α = sigmoid(alphaLogit), z as given, label y. */
const sample = (alphaLogit: number, z: number[], y: number) => ({ row: [alphaLogit, ...z.map((v) => v * Z_SCALE)], y });

// Sample 3: α ≈ 1, z0 = 4, y = 4 → P_max − P_y = 0.8328061, relabeled to 0 by the code's rule; in the
// high-importance group, so the paper's low-group rule leaves it. Sample 5: the golden sample (α =
// 0.5, y = 4): 0.1159612 < δ2, never relabeled. Sample 8: the lowest α (0.5 against 0.88 for the
// others), z6 = 6, y = 0 → relabeled to 6 by both rules. The rest: z = 0, uniform P, no relabel.
const SAMPLES = [
  sample(2, ZERO, 0),
  sample(2, ZERO, 1),
  sample(2, ZERO, 2),
  sample(30, [4, ...Z_GOLD.slice(1)], 4),
  sample(2, ZERO, 3),
  sample(0, Z_GOLD, 4),
  sample(2, ZERO, 5),
  sample(2, ZERO, 6),
  sample(0, [0, 0, 0, 0, 0, 0, 6], 0),
  sample(2, ZERO, 1),
];

/** The samples as 1x8 grey images: pixel = 128 + embedding value. */
function goldenStore(): SampleStore {
  const rasters: Raster[] = SAMPLES.map(({ row }) => {
    const data = Uint8Array.from(row, (v) => 128 + v);
    row.forEach((v, i) => assert.equal(data[i], 128 + v, `embedding value ${v} does not fit a pixel`));
    return { width: 8, height: 1, channels: 1, data };
  });
  return { size: rasters.length, width: 8, height: 1, channels: 1, framesOf: () => 1, frame: (i) => rasters[i] };
}

function goldenOptions(outDir: string, workers: number, relabelMode: string): TrainerOptions {
  const cfg: ModelConfig = {
    format: 'ferkit-model',
    version: 1,
    method: 'scn',
    backbone: IDENTITY,
    backboneOptions: { dim: 8 },
    methodOptions: { dropout: 0, beta: 0.7, margin1: 0.07, margin2: 0.2, relabelEpoch: 2, relabelMode },
    input: { kind: 'image', size: [1, 8], channels: 1, mean: [128 / 255], std: [1 / 255] },
    classes: [...BASIC7],
  };
  return {
    config: cfg,
    train: { store: goldenStore(), labels: Int32Array.from(SAMPLES, (s) => s.y) },
    outDir,
    epochs: 3,
    batchSize: SAMPLES.length,
    // A negligible step: the decisions stay the golden ones in every epoch.
    optimizer: { name: 'sgd', lr: 1e-7, momentum: 0, weightDecay: 0 },
    schedule: { name: 'constant' },
    workers,
    seed: 1,
    replicaModule: new URL('../fixtures/scn-golden-replica.ts', import.meta.url).href,
  };
}

const relabeledPerEpoch = (outDir: string) =>
  readFileSync(join(outDir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { relabeled?: number }).relabeled);

describe('trainer: SCN relabeling', () => {
  const want = (changes: Array<[number, number]>) => {
    const labels = SAMPLES.map((s) => s.y);
    for (const [i, y] of changes) labels[i] = y;
    return labels;
  };

  for (const workers of [1, 2]) {
    it(`code rule, ${workers} replica(s): samples 3 → 0 and 8 → 6 from the relabel epoch (2) on, counted per epoch`, async () => {
      const out = tempDir(`relabel-all-${workers}`);
      const r = await train(goldenOptions(out, workers, 'all'));
      assert.deepEqual(Array.from(r.labels), want([[3, 0], [8, 6]]));
      // Epoch 1 is before relabelEpoch; in epoch 3 the new labels are the argmax, so nothing changes.
      assert.deepEqual(relabeledPerEpoch(out), [0, 2, 0]);
      assert.deepEqual(r.history.map((h) => h.relabeled), [0, 2, 0]);
    });
  }

  it("paper rule (low-group): only sample 8; the high-importance sample 3 keeps its label", async () => {
    const r = await train(goldenOptions(tempDir('relabel-low'), 1, 'low-group'));
    assert.deepEqual(Array.from(r.labels), want([[8, 6]]));
  });

  it('methods that never relabel log no relabel count', async () => {
    const out = tempDir('relabel-ce');
    const r = await train(await options(out, { epochs: 1, maxStepsPerEpoch: 1, val: undefined }));
    assert.equal(r.history[0].relabeled, undefined);
    assert.equal(relabeledPerEpoch(out)[0], undefined);
  });

  it('a real SCN run stopped after relabels and resumed ends with the same label table, losses and weights', async () => {
    const full = tempDir('relabel-full');
    const cut = tempDir('relabel-cut');
    // δ2 0.05 on an untrained 2-class model: a share of every batch is relabeled from epoch 1.
    const scn = {
      config: config('scn', { dropout: 0.1, relabelEpoch: 1, margin2: 0.05 }),
      epochs: 2,
      maxStepsPerEpoch: 3,
      val: undefined,
    };
    const a = await train(await options(full, scn));
    const original = (await options(full, scn)).train.labels;
    const b1 = await train(await options(cut, { ...scn, timeBudgetSec: 0 }));
    assert.equal(b1.finished, false);
    const before = b1.labels.filter((y, i) => y !== original[i]).length;
    assert.ok(before > 0, 'no sample was relabeled before the cut: the resume would not test the label table');
    const ckpt = await loadSafetensors(join(cut, 'checkpoint.safetensors'));
    const progress = JSON.parse(ckpt.metadata.progress) as { relabeled: Array<[number, number]> };
    assert.deepEqual(progress.relabeled, Array.from(b1.labels).flatMap((y, i) => (y !== original[i] ? [[i, y]] : [])));
    const b2 = await train(await options(cut, { ...scn, resume: true }));
    assert.equal(b2.finished, true);
    assert.deepEqual(Array.from(b2.labels), Array.from(a.labels));
    assert.ok(a.labels.some((y, i) => y !== original[i]));
    assert.deepEqual(b2.history.map((h) => [h.loss, h.relabeled]), a.history.map((h) => [h.loss, h.relabeled]));
    const wa = await loadSafetensors(join(full, 'checkpoint.safetensors'));
    const wb = await loadSafetensors(join(cut, 'checkpoint.safetensors'));
    for (const [k, t] of Object.entries(wa.tensors)) {
      assert.deepEqual(Array.from(wb.tensors[k].dataSync()), Array.from(t.dataSync()), `${k} differs after resume`);
    }
    assert.deepEqual(JSON.parse(wb.metadata.progress).relabeled, JSON.parse(wa.metadata.progress).relabeled);
  });
});
