// Shared fixtures of the trainer tests: a happy-vs-surprise subset of real FER2013 faces and the
// options of a short fer-cnn run on it.
import { readImages } from '../../src/data/registry.js';
import type { ImageSample } from '../../src/data/types.js';
import { BASIC7 } from '../../src/data/types.js';
import type { ModelConfig } from '../../src/models/model.js';
import { loadSampleStore } from '../../src/data/sample-store.js';
import type { TrainerOptions } from '../../src/train/trainer.js';
import { sharedData } from '../data/data-fixtures.js';

export const CLASSES = ['happy', 'surprise'];

export async function subset(split: 'train' | 'val', perClass: number): Promise<ImageSample[]> {
  const ds = await readImages('folder', sharedData('fer2013'), { split });
  const out: ImageSample[] = [];
  for (const c of CLASSES) out.push(...ds.items.filter((s) => BASIC7[s.label] === c).slice(0, perClass));
  return out;
}

export function config(method = 'ce', methodOptions: Record<string, unknown> = { dropout: 0.1 }): ModelConfig {
  return {
    format: 'ferkit-model',
    version: 1,
    method,
    backbone: 'fer-cnn',
    backboneOptions: { widthMultiplier: 0.25 },
    methodOptions,
    input: { kind: 'image', size: [48, 48], channels: 1, mean: [0.5], std: [0.25] },
    classes: CLASSES,
  };
}

export async function options(outDir: string, over: Partial<TrainerOptions> = {}): Promise<TrainerOptions> {
  const cfg = over.config ?? config();
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
