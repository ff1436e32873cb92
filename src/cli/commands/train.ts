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
  overwrite?: boolean;
  allowChanges?: boolean;
  labelNoise?: string;
  limit?: string;
  labelMode?: string;
}

/** What a run that trained leaves in --out; run.json records the flags it was started with. */
const RUN_FILES = ['log.jsonl', 'checkpoint.safetensors', 'best'];
const RUN_SETTINGS = 'run.json';
/** Flags that may differ when resuming: where and how long it runs, not what it computes. */
const FREE_ON_RESUME = new Set(['out', 'resume', 'overwrite', 'allowChanges', 'timeBudget', 'workers']);

/** The flags that define a run, for comparing a resumed run with the one it continues. */
function runSettings(flags: TrainFlags): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(flags)
      .filter(([k, v]) => !FREE_ON_RESUME.has(k) && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/**
 * --out holds one run: a new run refuses a folder another run left (--resume continues it,
 * --overwrite replaces it), and --resume refuses flags that differ from the run it continues
 * unless --allow-changes.
 */
async function prepareOut(flags: TrainFlags, say: (s: string) => void): Promise<() => Promise<void>> {
  const { existsSync, readFileSync } = await import('node:fs');
  const { rm, mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  if (flags.resume && flags.overwrite) throw new Error('give --resume or --overwrite, not both');
  const present = RUN_FILES.filter((f) => existsSync(join(flags.out, f)));
  const settingsPath = join(flags.out, RUN_SETTINGS);
  const now = runSettings(flags);
  if (present.length && !flags.resume) {
    if (!flags.overwrite) throw new Error(`${flags.out} already holds a training run (${present.join(', ')}): --resume continues it, --overwrite replaces it, or choose another --out`);
    for (const f of present) await rm(join(flags.out, f), { recursive: true, force: true });
    say(`--overwrite: removed the previous run's ${present.join(', ')} from ${flags.out}`);
  }
  if (flags.resume && existsSync(settingsPath)) {
    const before = JSON.parse(readFileSync(settingsPath, 'utf8')) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
    const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
    if (changed.length) {
      const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const list = changed.map((k) => `${flag(k)} ${JSON.stringify(before[k]) ?? '(not given)'} → ${JSON.stringify(now[k]) ?? '(not given)'}`).join(', ');
      if (!flags.allowChanges) throw new Error(`--resume: these settings differ from the run in ${flags.out}: ${list}; resume with the same ones, or add --allow-changes to continue with the new ones`);
      say(`--allow-changes: resuming with changed settings: ${list}`);
    }
  }
  // Recorded once the data has loaded, just before training starts.
  return async () => {
    await mkdir(flags.out, { recursive: true });
    await writeFile(settingsPath, JSON.stringify(now, null, 2) + '\n');
  };
}

async function run(flags: TrainFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { readDataset } = await import('../../data/registry.js');
  const { methods } = await import('../../models/all-methods.js');
  const { CANONICAL_CLASSES } = await import('../../data/types.js');
  const { flipLabels } = await import('../../data/label-noise.js');
  const { loadSampleStore, withoutSkipped } = await import('../../data/sample-store.js');
  const { train } = await import('../../train/trainer.js');
  const { availableParallelism } = await import('node:os');

  const method = methods.get(flags.method);
  const d = method.create.defaults;
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const recordSettings = await prepareOut(flags, say);

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
  // --skip-bad also skips samples whose header reads but whose pixels do not decode.
  const loadStore = async (items: typeof trainItems, what: string) => {
    const b = progressBar(quiet, `decoding ${what}`);
    b?.start(items.length, 0, { extra: '' });
    const store = await loadSampleStore(items, input, { onProgress: (done) => b?.update(done), skipBad: flags.skipBad });
    b?.stop();
    for (const x of store.skipped) say(`skipped ${x.file}: ${x.problem}`);
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
  if (trainStore.skipped.length) {
    const k = present.length;
    const rows = targets && withoutSkipped(Array.from({ length: trainItems.length }, (_, i) => targets!.subarray(i * k, (i + 1) * k)), trainStore.skipped);
    if (rows) targets = Float32Array.from(rows.flatMap((r) => Array.from(r)));
    trainItems = withoutSkipped(trainItems, trainStore.skipped);
    trainLabels = Int32Array.from(withoutSkipped([...trainLabels], trainStore.skipped));
  }
  // The training class priors (of the labels trained on), for logit adjustment (`ferkit balance`).
  const { classPriors } = await import('../../eval/logit-adjust.js');
  config.info = { ...config.info, classPriors: classPriors(classes.length, trainLabels, targets).map((p) => Number(p.toFixed(6))) };
  const valStore = valItems ? await loadStore(valItems, 'val') : undefined;
  const valKept = valItems && valStore ? withoutSkipped(valItems, valStore.skipped) : undefined;
  const skippedTotal = trainSet.skipped.length + (valSet?.skipped.length ?? 0) + trainStore.skipped.length + (valStore?.skipped.length ?? 0);
  if (flags.skipBad && skippedTotal) say(`--skip-bad: ${skippedTotal} unreadable samples skipped (${trainSet.skipped.length + (valSet?.skipped.length ?? 0)} when reading, ${trainStore.skipped.length + (valStore?.skipped.length ?? 0)} when decoding)`);
  // One replica per core: the wasm kernels are single-threaded, and the native kernels' BLAS
  // threads are split between replicas. Measured here (2 cores): the 48x48 fer-cnn trains at 118
  // img/s with 2 replicas vs 50 with 1; only large models (ResNet-18@112: 22 vs 19 img/s) prefer
  // --workers 1 with all-core BLAS.
  const settings = trainerSettingsFrom(flags, d, Math.max(1, availableParallelism()));
  say(`training ${method.name} (${config.backbone}) on ${trainItems.length} ${kind}s, ${classes.length} classes, ${settings.workers} worker(s)`);

  await recordSettings();
  const reporting = trainerReporting(quiet, say);
  const result = await train({
    ...settings,
    config,
    train: { store: trainStore, labels: trainLabels, ...(targets ? { targets } : {}) },
    val: valStore && valKept ? { store: valStore, labels: Int32Array.from(valKept, (s) => toModel.get(s.label)!) } : undefined,
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
    .option('--resume', 'continue the run in --out from its checkpoint.safetensors (with the same settings)')
    .option('--overwrite', 'replace the run already in --out')
    .option('--allow-changes', '--resume with settings that differ from the run being continued')
    .option('--label-noise <rate>', 'flip this fraction of training labels (noisy-label experiments)')
    .option('--limit <n>', 'use only the first n training samples')
    .option('--label-mode <mode>', 'how labels are derived where the dataset has several rules (ferplus: majority, probability, plurality)');
  addTrainingOptions(cmd).action((flags: TrainFlags, cmd: Command) => run(flags, cmd));
}
