// `ferkit report --model M --data DIR --out report/`: an HTML page with pictures (confusion,
// recall, embeddings with cluster scores, calibration, and the method's own outputs).
import type { Command } from 'commander';
import type { ClipSample, ImageSample } from '../../data/types.js';
import { globalOptions, startEngine } from '../global-options.js';

interface ReportFlags {
  model?: string;
  data?: string;
  dataset?: string;
  root?: string;
  split?: string;
  out: string;
  limit?: string;
  folds?: string;
  fold?: string;
  foldSeed?: string;
  examples: string;
  maxPoints: string;
  seed: string;
}

/** The samples to report on: a dataset (split), or the test part of one fold of a cross-validation
 *  plan, so a fold's model is shown on the subjects it never saw (the plan as `ferkit cv` makes it). */
async function reportSamples(flags: ReportFlags, root: string): Promise<{ samples: readonly (ImageSample | ClipSample)[]; where: string }> {
  const dataset = flags.dataset ?? 'folder';
  if (flags.fold === undefined) {
    if (flags.folds !== undefined || flags.foldSeed !== undefined) throw new Error('--folds and --fold-seed need --fold <k> (the fold whose test part to report on)');
    const { readDataset } = await import('../../data/registry.js');
    const ds = await readDataset(dataset, root, { split: flags.split });
    return { samples: ds.items, where: flags.split ? ` (${flags.split})` : '' };
  }
  if (flags.split !== undefined) throw new Error('--fold reports on a fold\'s test part; it does not combine with --split');
  const { foldPlan } = await import('../../data/fold-plan.js');
  const int = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got "${v}"`);
    return n;
  };
  const plan = await foldPlan(dataset, root, { folds: int(flags.folds, 'folds'), seed: int(flags.foldSeed, 'fold-seed') });
  const { test } = await plan.load(int(flags.fold, 'fold')!);
  return { samples: test, where: ` (test part of fold ${flags.fold}: ${plan.how})` };
}

async function run(flags: ReportFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { loadModel, bundledModelDir } = await import('../../models/io.js');
  const { reportOnSamples } = await import('../../report/report.js');
  const root = flags.root ?? flags.data;
  if (!root) throw new Error('give --data <folder> (folder per class) or --dataset <name> --root <dir>');
  const modelDir = flags.model ?? bundledModelDir();
  const model = await loadModel(modelDir);
  const { samples, where } = await reportSamples(flags, root);
  const items = flags.limit ? samples.slice(0, Number(flags.limit)) : samples;
  if (items.length === 0) throw new Error(`report: no samples in ${root}${where}`);
  const summary = await reportOnSamples(model, items, {
    outDir: flags.out,
    title: `model ${modelDir} on ${root}${where}`,
    examplesPerClass: Number(flags.examples),
    maxPoints: Number(flags.maxPoints),
    seed: Number(flags.seed),
  });
  model.dispose();
  if (!quiet) process.stderr.write(`report: ${flags.out}/index.html (${summary.files.length} pictures)\n`);
  process.stdout.write(JSON.stringify({ ...summary, page: `${flags.out}/index.html` }) + '\n');
}

export function register(program: Command): void {
  program
    .command('report')
    .description('HTML report with pictures: confusion, recall, embeddings (UMAP, DB/CH), calibration, method outputs')
    .option('--model <dir>', 'model folder (default: the bundled FER2013 model)')
    .option('--data <dir>', 'folder-per-class images (shorthand for --dataset folder --root DIR)')
    .option('--dataset <name>', 'dataset reader name')
    .option('--root <dir>', 'dataset root')
    .option('--split <name>', 'split of the dataset')
    .option('--out <dir>', 'output folder', 'report')
    .option('--limit <n>', 'only the first n samples')
    .option('--fold <k>', 'report on the test part of fold k of a cross-validation plan (as `ferkit cv` makes it: a fold model on the subjects it never saw)')
    .option('--folds <n>', 'folds of that plan (datasets without their own; default 5)')
    .option('--fold-seed <n>', 'seed of that plan (the `--fold-seed`, else `--seed`, of the cv run; default 0)')
    .option('--examples <n>', 'faces per class in the mask/pattern-map pictures', '4')
    .option('--max-points <n>', 'points in the UMAP plot (seeded subsample)', '1500')
    .option('--seed <n>', 'seed of the UMAP layout and subsample', '0')
    .action((flags: ReportFlags, cmd: Command) => run(flags, cmd));
}
