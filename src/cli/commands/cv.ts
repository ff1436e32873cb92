// `ferkit cv`: k-fold cross-validation of any method on any dataset with folds: the dataset's own
// (DFEW set_1..set_5) or computed ones (subject-independent for CK+). Each fold trains with the same
// flags as `ferkit train` and is scored on its test part; <out>/fold-<k>/result.json per fold,
// <out>/summary.json (mean ± sd of WAR, UAR and per-class accuracy) and <out>/summary.md (the IAL
// paper's Table-4 layout). A separate command rather than `train --folds`: its data comes from the
// folds (no --split/--val-split), its output is per fold plus a summary, and re-running it resumes.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';
import { addTrainingOptions, modelConfigFrom, numberFlag, trainerReporting, trainerSettingsFrom, type TrainingFlags } from '../train-setup.js';

interface CvFlags extends TrainingFlags {
  dataset: string;
  root: string;
  folds?: string;
  foldSeed?: string;
  onlyFolds?: string;
  pick: 'last' | 'best';
  label?: string;
  minFrames?: string;
}

/** `1,3,5` or `2-4` → fold numbers. */
function parseFoldList(spec: string): number[] {
  const out = spec.split(',').flatMap((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`--only-folds: "${part}" is not a fold number or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    return Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);
  });
  return [...new Set(out)].sort((x, y) => x - y);
}

/** The fold plan of a cv run: computed folds are drawn from --fold-seed (default --seed, so earlier
 *  runs keep their folds); several --seed values on one --fold-seed train on the same folds. */
export async function cvFoldPlan(flags: Pick<CvFlags, 'dataset' | 'root' | 'folds' | 'seed' | 'foldSeed' | 'skipBad' | 'minFrames'>, warn?: (s: string) => void) {
  const { foldPlan } = await import('../../data/fold-plan.js');
  const seed = numberFlag(flags.foldSeed, 'fold-seed') ?? Number(flags.seed);
  if (!Number.isInteger(seed)) throw new Error(`--fold-seed must be an integer, got ${flags.foldSeed}`);
  return foldPlan(flags.dataset, flags.root, { folds: numberFlag(flags.folds, 'folds'), seed, skipBad: flags.skipBad, minFrames: numberFlag(flags.minFrames, 'min-frames'), warn });
}

async function run(flags: CvFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { methods } = await import('../../models/all-methods.js');
  const { crossValidate } = await import('../../train/cross-validate.js');
  const { availableParallelism } = await import('node:os');
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  if (flags.pick !== 'last' && flags.pick !== 'best') throw new Error(`--pick must be last or best, got "${flags.pick}"`);
  const method = methods.get(flags.method);
  const d = method.create.defaults;
  const plan = await cvFoldPlan(flags, say);
  if ((plan.kind === 'clip') !== (method.create.kind === 'clip')) {
    throw new Error(`method ${method.name} trains on ${method.create.kind}s, but dataset "${plan.dataset}" gives ${plan.kind}s`);
  }
  const folds = flags.onlyFolds ? parseFoldList(flags.onlyFolds) : undefined;
  for (const k of folds ?? []) if (k < 1 || k > plan.count) throw new Error(`--only-folds: fold ${k} is not 1..${plan.count}`);
  const settings = trainerSettingsFrom(flags, d, Math.max(1, availableParallelism()));
  // Fold 1's training samples tell whether the faces are grey (see --greyscale).
  const firstTrain = (await plan.load(folds?.[0] ?? 1)).train;
  const config = (classes: string[]) => modelConfigFrom(flags, method.name, d, classes, { dataset: plan.dataset }, firstTrain);
  // What shapes the model, pinned in cv.json (classes come from each fold).
  const { classes: _c, info: _i, ...shape } = await config([]);
  const label = flags.label ?? `${method.name}${shape.input.kind === 'clip' ? ` (U${shape.input.frames! / (shape.input.framesPerSegment ?? 1)}×V${shape.input.framesPerSegment ?? 1})` : ''}`;
  say(`cross-validating ${method.name} on ${plan.dataset}: ${plan.how}, running ${folds ? folds.join(', ') : 'all'}; output ${flags.out}`);
  const reporting = trainerReporting(quiet, say);
  const r = await crossValidate({
    plan,
    folds,
    outDir: flags.out,
    config,
    settings: { ...settings, onProgress: reporting.onProgress },
    pick: flags.pick,
    label,
    pinned: { method: method.name, dataset: plan.dataset, folds: plan.how, model: shape },
    log: reporting.log,
  });
  reporting.stop();
  const s = r.summary;
  if (s) {
    const { table4Markdown } = await import('../../eval/cv-summary.js');
    say(`\n${table4Markdown(s, label)}`);
  }
  process.stdout.write(
    JSON.stringify({ finished: r.finished, ran: r.ran, skipped: r.skipped, folds: s?.folds ?? [], war: s?.war.mean, warSd: s?.war.sd, uar: s?.uar.mean, uarSd: s?.uar.sd, out: flags.out }) + '\n',
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('cv')
    .description('k-fold cross-validation: train and score every fold, mean ± sd of WAR/UAR/per-class (Table-4 layout); re-run to resume')
    .requiredOption('--method <name>', 'method: ce, scn, arbex, ial, patternmap (ferkit info lists them)')
    .requiredOption('--dataset <name>', 'dataset reader: one with its own folds (dfew) or any other (computed folds)')
    .requiredOption('--root <dir>', 'dataset root folder')
    .option('--folds <k>', 'folds to compute for datasets without their own (default 5; subject-independent when samples have subjects)')
    .option('--fold-seed <n>', 'seed of the computed fold plan (default: --seed); keep it fixed to compare training seeds on the same folds')
    .option('--only-folds <list>', 'run only these folds, e.g. 1,2 or 1-3 (the summary covers every finished fold in --out)')
    .option('--pick <model>', 'score each fold with the last epoch (honest) or the best epoch on the test fold (the reference, optimistic)', 'last')
    .option('--label <text>', 'row label of the Table-4 Markdown (default: method and sampling)')
    .option('--min-frames <n>', 'drop clips with fewer frames (DFEW default 16)')
    .option('--out <dir>', 'output folder (fold-<k>/, summary.json, summary.md)', 'runs/cv');
  addTrainingOptions(cmd).action((flags: CvFlags, cmd: Command) => run(flags, cmd));
}
