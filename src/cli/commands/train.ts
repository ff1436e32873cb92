// `ferkit train`: any registered method on any registered dataset. The method's defaults give the
// backbone, input size and augmentation; flags override them. Output: <out>/best (a model folder
// for predict/eval/export), <out>/checkpoint.safetensors (resume with --resume), <out>/log.jsonl.
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { globalOptions, startEngine } from '../global-options.js';

interface TrainFlags {
  method: string;
  dataset: string;
  root: string;
  split?: string;
  valSplit?: string;
  valRoot?: string;
  out: string;
  epochs: string;
  batchSize: string;
  optimizer: string;
  lr: string;
  momentum: string;
  nesterov?: boolean;
  weightDecay: string;
  schedule: string;
  warmup: string;
  stepSize?: string;
  gamma?: string;
  workers: string;
  seed: string;
  resume?: boolean;
  timeBudget?: string;
  maxSteps?: string;
  backbone?: string;
  width?: string;
  size?: string;
  channels?: string;
  frames?: string;
  augment?: string;
  tta?: boolean;
  selectBy: 'war' | 'uar';
  labelNoise?: string;
  limit?: string;
  methodOptions?: string;
  objective?: string;
  skipBad?: boolean;
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
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`--${name}: "${v}" is not a number`);
    return x;
  };
  const json = (v: string | undefined, name: string): Record<string, unknown> => {
    if (!v) return {};
    try {
      return JSON.parse(v) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`--${name}: invalid JSON (${(e as Error).message})`);
    }
  };
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };

  const trainSet = await readDataset(flags.dataset, flags.root, { split: flags.split, skipBad: flags.skipBad });
  const valSet = flags.valSplit || flags.valRoot ? await readDataset(flags.dataset, flags.valRoot ?? flags.root, { split: flags.valSplit, skipBad: flags.skipBad }) : undefined;
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
  const noise = num(flags.labelNoise, 'label-noise') ?? 0;
  if (noise > 0) {
    trainLabels = flipLabels(trainLabels, present.map((_, i) => i), noise, Number(flags.seed) + 101).labels;
    say(`label noise: ${(noise * 100).toFixed(0)}% of training labels flipped`);
  }
  const valItems = valSet?.items.filter((s) => toModel.has(s.label));
  if (valSet && valItems && valItems.length < valSet.items.length) say(`validation: ${valSet.items.length - valItems.length} samples of classes the training set lacks are left out`);

  const size = num(flags.size, 'size');
  const channels = num(flags.channels, 'channels');
  const input = {
    ...d.input,
    ...(size ? { size: [size, size] as [number, number] } : {}),
    ...(channels ? { channels: channels as 1 | 3, mean: new Array(channels).fill(d.input.mean[0]), std: new Array(channels).fill(d.input.std[0]) } : {}),
    ...(flags.frames ? { frames: Number(flags.frames) } : {}),
  };
  const config = {
    format: 'ferkit-model' as const,
    version: 1 as const,
    method: method.name,
    backbone: flags.backbone ?? d.backbone,
    backboneOptions: { ...(d.backboneOptions ?? {}), ...(flags.width ? { widthMultiplier: Number(flags.width) } : {}) },
    methodOptions: { ...(d.methodOptions ?? {}), ...json(flags.methodOptions, 'method-options') },
    input,
    classes,
    info: { dataset: flags.dataset, trainSamples: trainItems.length, labelNoise: noise },
  };

  const bar = (label: string) => (quiet || !process.stderr.isTTY ? undefined : new SingleBar({ format: `${label} {bar} {value}/{total} {extra}`, hideCursor: true }, Presets.shades_classic));
  const loadStore = async (items: typeof trainItems, what: string) => {
    const b = bar(`decoding ${what}`);
    b?.start(items.length, 0, { extra: '' });
    const store = await loadSampleStore(items, input, { onProgress: (done) => b?.update(done) });
    b?.stop();
    return store;
  };
  const trainStore = await loadStore(trainItems, 'train');
  const valStore = valItems ? await loadStore(valItems, 'val') : undefined;
  // One replica per core: the wasm kernels are single-threaded, and the native kernels' BLAS
  // threads are split between replicas. Measured here (2 cores): the 48x48 fer-cnn trains at 118
  // img/s with 2 replicas vs 50 with 1; only large models (ResNet-18@112: 22 vs 19 img/s) prefer
  // --workers 1 with all-core BLAS.
  const workers = num(flags.workers, 'workers') ?? Math.max(1, availableParallelism());
  say(`training ${method.name} (${config.backbone}) on ${trainItems.length} ${kind}s, ${classes.length} classes, ${workers} worker(s)`);

  let epochBar: SingleBar | undefined;
  const result = await (method.create.train ?? train)({
    config,
    objective: json(flags.objective, 'objective'),
    train: { store: trainStore, labels: trainLabels },
    val: valStore && valItems ? { store: valStore, labels: Int32Array.from(valItems, (s) => toModel.get(s.label)!) } : undefined,
    outDir: flags.out,
    epochs: Number(flags.epochs),
    batchSize: Number(flags.batchSize),
    optimizer: { name: flags.optimizer, lr: Number(flags.lr), momentum: Number(flags.momentum), nesterov: Boolean(flags.nesterov), weightDecay: Number(flags.weightDecay) },
    schedule: { name: flags.schedule, warmupEpochs: Number(flags.warmup), stepSize: num(flags.stepSize, 'step-size'), gamma: num(flags.gamma, 'gamma') },
    workers,
    seed: Number(flags.seed),
    resume: flags.resume,
    trainAugment: flags.augment ?? d.trainAugment,
    tta: flags.tta,
    selectBy: flags.selectBy,
    timeBudgetSec: num(flags.timeBudget, 'time-budget'),
    maxStepsPerEpoch: num(flags.maxSteps, 'max-steps'),
    log: (line) => {
      epochBar?.stop();
      epochBar = undefined;
      say(line);
    },
    onProgress: (p) => {
      if (quiet || !process.stderr.isTTY) return;
      if (!epochBar) {
        epochBar = bar(`epoch ${p.epoch + 1}`);
        epochBar?.start(p.steps, 0, { extra: '' });
      }
      epochBar?.update(p.step, { extra: `loss ${p.loss.toFixed(4)} ${p.imgPerSec.toFixed(1)} img/s` });
    },
  });
  epochBar?.stop();
  const summary = { finished: result.finished, epochs: result.epochsDone, best: result.best, model: result.bestDir };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a FER model (any registered --method on any registered --dataset); resumable')
    .requiredOption('--method <name>', 'method: ce, scn, arbex, ial, patternmap (ferkit info lists them)')
    .requiredOption('--dataset <name>', 'dataset reader name (folder, fer2013, rafdb, dfew, ...)')
    .requiredOption('--root <dir>', 'dataset root folder')
    .option('--split <name>', 'training split of the dataset (e.g. train)')
    .option('--val-split <name>', 'validation split, evaluated after every epoch (e.g. val)')
    .option('--val-root <dir>', 'validation dataset root, when it is a separate folder')
    .option('--out <dir>', 'output folder', 'runs/train')
    .option('--epochs <n>', 'epochs', '30')
    .option('--batch-size <n>', 'global batch size (split across workers)', '64')
    .option('--optimizer <name>', 'sgd, adam, adamw', 'sgd')
    .option('--lr <x>', 'base learning rate', '0.05')
    .option('--momentum <x>', 'SGD momentum', '0.9')
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <x>', 'weight decay (coupled, as PyTorch SGD/Adam)', '5e-4')
    .option('--schedule <name>', 'lr schedule: cosine, step, exponential, constant', 'cosine')
    .option('--warmup <epochs>', 'linear warm-up epochs', '0')
    .option('--step-size <epochs>', 'StepLR step size')
    .option('--gamma <x>', 'StepLR/ExponentialLR factor')
    .option('--workers <n>', 'data-parallel worker threads (default: one per core)')
    .option('--seed <n>', 'seed for weights, order and augmentation', '0')
    .option('--resume', 'continue from <out>/checkpoint.safetensors')
    .option('--time-budget <s>', 'stop with a checkpoint after this many seconds')
    .option('--max-steps <n>', 'at most this many steps per epoch')
    .option('--backbone <name>', "backbone (default: the method's)")
    .option('--width <x>', 'backbone width multiplier')
    .option('--size <px>', 'input side in pixels')
    .option('--channels <n>', '1 (grey) or 3 (RGB)')
    .option('--frames <n>', 'frames per clip (clip methods)')
    .option('--augment <preset>', "training augmentation preset (default: the method's; none to disable)")
    .option('--tta', 'evaluate with horizontal-flip test-time augmentation')
    .option('--select-by <metric>', 'keep the epoch with the best val war or uar', 'war')
    .option('--label-noise <rate>', 'flip this fraction of training labels (noisy-label experiments)')
    .option('--limit <n>', 'use only the first n training samples')
    .option('--method-options <json>', 'method options that shape the model (JSON)')
    .option('--objective <json>', 'objective options (JSON), e.g. {"labelSmoothing":0.1}')
    .option('--skip-bad', 'skip unreadable samples (and report them) instead of stopping')
    .action((flags: TrainFlags, cmd: Command) => run(flags, cmd));
}
