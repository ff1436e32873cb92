// What SCN's relabeling did in a noisy-label run (scripts/noisy-labels.sh): the run's checkpoint
// holds every training label that differs from the (noisy) training labels; against the clean
// folder labels this counts relabels that restored a flipped label, broke a clean one, or moved a
// flipped label to another wrong class.
//   node --import tsx scripts/relabel-audit.ts <train root> <run>/checkpoint.safetensors <noise> [seed]
// <noise> and [seed] (default 0) must be the run's --label-noise and --seed (the flips are redrawn).
import { initEngine } from '../src/engine/backend.js';
import { readDataset } from '../src/data/registry.js';
import { flipLabels } from '../src/data/label-noise.js';
import { loadSafetensors } from '../src/nn/checkpoint.js';

const [root, ckpt, noise, seed = '0'] = process.argv.slice(2);
if (!root || !ckpt || !noise) {
  console.error('usage: node --import tsx scripts/relabel-audit.ts <train root> <checkpoint> <noise> [seed]');
  process.exit(1);
}
await initEngine('wasm');
const ds = await readDataset('folder', root, {});
// The same class order and flips as `ferkit train --label-noise <noise> --seed <seed>`.
const present = [...new Set(ds.items.map((s) => s.label))].sort((a, b) => a - b);
const toModel = new Map(present.map((c, i) => [c, i]));
const clean = Int32Array.from(ds.items, (s) => toModel.get(s.label)!);
const noisy = noise === '0' ? clean : flipLabels(clean, present.map((_, i) => i), Number(noise), Number(seed) + 101).labels;
const { metadata } = await loadSafetensors(ckpt);
const progress = JSON.parse(metadata.progress ?? '{}') as { relabeled?: Array<[number, number]>; labelCount?: number };
if (!progress.relabeled) throw new Error(`${ckpt}: holds no relabeled labels (not a trainer checkpoint of this version)`);
if (progress.labelCount !== clean.length) throw new Error(`${ckpt}: written for ${progress.labelCount} samples, ${root} has ${clean.length}`);
const current = Int32Array.from(noisy);
for (const [i, y] of progress.relabeled) current[i] = y;
const count = (f: (i: number) => boolean) => progress.relabeled!.filter(([i]) => f(i)).length;
const wrong = (labels: Int32Array) => labels.reduce((a, y, i) => a + (y !== clean[i] ? 1 : 0), 0);
console.log(
  JSON.stringify({
    samples: clean.length,
    changed: progress.relabeled.length,
    restoredFlipped: count((i) => noisy[i] !== clean[i] && current[i] === clean[i]),
    brokeClean: count((i) => noisy[i] === clean[i]),
    flippedToOtherWrong: count((i) => noisy[i] !== clean[i] && current[i] !== clean[i]),
    wrongBefore: wrong(noisy),
    wrongAfter: wrong(current),
  }),
);
