// `ferkit train`: any registered method on any registered dataset. The method's defaults give the
// backbone, input size and augmentation; flags override them. Output: <out>/best (a model folder
// for predict/eval/export), <out>/checkpoint.safetensors (resume with --resume), <out>/log.jsonl.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';
import { addTrainingOptions, modelConfigFrom, numberFlag, progressBar, trainerReporting, trainerSettingsFrom, type TrainingFlags } from '../train-setup.js';

interface TrainFlags extends TrainingFlags {
  dataset: string;
  root: string;
  split?: string;
  valSplit?: string;
  valRoot?: string;
  resume?: boolean;
  labelNoise?: string;
  limit?: string;
  labelMode?: string;
}

async function run(flags: TrainFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { readDataset } = await import('../../data/registry.js');
  const { methods } = await import('../../models/all-methods.js');
  const { CANONICAL_CLASSES } = await import('../../data/types.js');
  const { flipLabels } = await import('../../data/label-noise.js');
  const { loadSampleStore } = await import('../../train/sample-store.js');
  const { train } = await import('../../train/trainer.js');
  const { availableParallelism } = await import('node:os');

  const method = methods.get(flags.method);
  const d = method.create.defaults;
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };

  const read = { skipBad: flags.skipBad, labelMode: flags.labelMode };
  const trainSet = await readDataset(flags.dataset, flags.root, { ...read, split: flags.split });
  const valSet = flags.valSplit || flags.valRoot ? await readDataset(flags.dataset, flags.valRoot ?? flags.root, { ...read, split: flags.valSplit }) : undefined;
  const kind = method.create.kind;
  for (const s of [trainSet, valSet]) {
    if (s && s.items.length && ('frames' in s.items[0]) !== (kind === 'clip')) {
      throw new Error(`method ${method.name} trains on ${kind === 'clip' ? 'clips' : 'images'}, but dataset "${flags.dataset}" gives ${kind === 'clip' ? 'images' : 'clips'}`);
    }
  }
  // The model's classes: the training set's canonical classes, in canonical order.
  const present = [...new Set(trainSet.items.map((s) => s.label))].sort((a, b) => a - b);
  const classes = present.map((c) => CANONICAL_CLASSES[c]);
  const toModel = new Map(present.map((c, i) => [c, i]));
  let trainItems = trainSet.items;
  if (flags.limit) trainItems = trainItems.slice(0, Number(flags.limit));
  let trainLabels: Int32Array = Int32Array.from(trainItems, (s) => toModel.get(s.label)!);
  const noise = numberFlag(flags.labelNoise, 'label-noise') ?? 0;
  if (noise > 0) {
    trainLabels = flipLabels(trainLabels, present.map((_, i) => i), noise, Number(flags.seed) + 101).labels;
    say(`label noise: ${(noise * 100).toFixed(0)}% of training labels flipped`);
  }
  const valItems = valSet?.items.filter((s) => toModel.has(s.label));
  if (valSet && valItems && valItems.length < valSet.items.length) say(`validation: ${valSet.items.length - valItems.length} samples of classes the training set lacks are left out`);

  const config = await modelConfigFrom(flags, method.name, d, classes, { dataset: flags.dataset, trainSamples: trainItems.length, labelNoise: noise }, trainItems);
  if (config.input.greyscale) say('the training faces are grey: the model sees grey faces (colour inputs are turned grey; --no-greyscale to keep colour)');
  const input = config.input;
  const loadStore = async (items: typeof trainItems, what: string) => {
    const b = progressBar(quiet, `decoding ${what}`);
    b?.start(items.length, 0, { extra: '' });
    const store = await loadSampleStore(items, input, { onProgress: (done) => b?.update(done) });
    b?.stop();
    return store;
  };
  // --label-mode probability: train on the vote distributions (soft targets) where the method can.
  let targets: Float32Array | undefined;
  if (flags.labelMode === 'probability') {
    if (!method.create.softTargets) throw new Error(`--label-mode probability trains on vote distributions, which method ${method.name} does not take; use --method ce`);
    targets = new Float32Array(trainItems.length * present.length);
    const k = present.length;
    trainItems.forEach((s, i) => {
      const dist = 'labelDist' in s ? s.labelDist : undefined;
      if (!dist) throw new Error(`--label-mode probability: dataset ${flags.dataset} gives no vote distribution for ${s.id}`);
      // Over the model's classes, renormalised (votes for a class the training set lacks drop out).
      const row = present.map((c) => dist[c] ?? 0);
      const sum = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((p, j) => (targets![i * k + j] = p / sum));
    });
  }
  const trainStore = await loadStore(trainItems, 'train');
  const valStore = valItems ? await loadStore(valItems, 'val') : undefined;
  // One replica per core: the wasm kernels are single-threaded, and the native kernels' BLAS
  // threads are split between replicas. Measured here (2 cores): the 48x48 fer-cnn trains at 118
  // img/s with 2 replicas vs 50 with 1; only large models (ResNet-18@112: 22 vs 19 img/s) prefer
  // --workers 1 with all-core BLAS.
  const settings = trainerSettingsFrom(flags, d, Math.max(1, availableParallelism()));
  say(`training ${method.name} (${config.backbone}) on ${trainItems.length} ${kind}s, ${classes.length} classes, ${settings.workers} worker(s)`);

  const reporting = trainerReporting(quiet, say);
  const result = await (method.create.train ?? train)({
    ...settings,
    config,
    train: { store: trainStore, labels: trainLabels, ...(targets ? { targets } : {}) },
    val: valStore && valItems ? { store: valStore, labels: Int32Array.from(valItems, (s) => toModel.get(s.label)!) } : undefined,
    outDir: flags.out,
    resume: flags.resume,
    log: reporting.log,
    onProgress: reporting.onProgress,
  });
  reporting.stop();
  const summary = { finished: result.finished, epochs: result.epochsDone, best: result.best, model: result.bestDir };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a FER model (any registered --method on any registered --dataset); resumable')
    .requiredOption('--method <name>', 'method: ce, scn, arbex, ial, patternmap (ferkit info lists them)')
    .requiredOption('--dataset <name>', 'dataset reader name (folder, fer2013, rafdb, dfew, ...)')
    .requiredOption('--root <dir>', 'dataset root folder')
    .option('--split <name>', 'training split of the dataset (e.g. train)')
    .option('--val-split <name>', 'validation split, evaluated after every epoch (e.g. val)')
    .option('--val-root <dir>', 'validation dataset root, when it is a separate folder')
    .option('--out <dir>', 'output folder', 'runs/train')
    .option('--resume', 'continue from <out>/checkpoint.safetensors')
    .option('--label-noise <rate>', 'flip this fraction of training labels (noisy-label experiments)')
    .option('--limit <n>', 'use only the first n training samples')
    .option('--label-mode <mode>', 'how labels are derived where the dataset has several rules (ferplus: majority, probability, plurality)');
  addTrainingOptions(cmd).action((flags: TrainFlags, cmd: Command) => run(flags, cmd));
}
