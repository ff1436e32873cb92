// `ferkit report --model M --data DIR --out report/`: an HTML page with pictures (confusion,
// recall, embeddings with cluster scores, calibration, and the method's own outputs).
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface ReportFlags {
  model?: string;
  data?: string;
  dataset?: string;
  root?: string;
  split?: string;
  out: string;
  limit?: string;
  examples: string;
  maxPoints: string;
  seed: string;
}

async function run(flags: ReportFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { readDataset } = await import('../../data/registry.js');
  const { loadModel, bundledModelDir } = await import('../../models/io.js');
  const { reportOnSamples } = await import('../../report/report.js');
  const root = flags.root ?? flags.data;
  if (!root) throw new Error('give --data <folder> (folder per class) or --dataset <name> --root <dir>');
  const modelDir = flags.model ?? bundledModelDir();
  const model = await loadModel(modelDir);
  const ds = await readDataset(flags.dataset ?? 'folder', root, { split: flags.split });
  const items = flags.limit ? ds.items.slice(0, Number(flags.limit)) : ds.items;
  const summary = await reportOnSamples(model, items, {
    outDir: flags.out,
    title: `model ${modelDir} on ${root}${flags.split ? ` (${flags.split})` : ''}`,
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
    .option('--examples <n>', 'faces per class in the mask/pattern-map pictures', '4')
    .option('--max-points <n>', 'points in the UMAP plot (seeded subsample)', '1500')
    .option('--seed <n>', 'seed of the UMAP layout and subsample', '0')
    .action((flags: ReportFlags, cmd: Command) => run(flags, cmd));
}
