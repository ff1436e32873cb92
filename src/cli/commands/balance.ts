// `ferkit balance`: logit adjustment of a trained CE model (eval/logit-adjust.ts). The classifier
// bias is shifted by −τ·log(training class priors), so that rare classes (disgust, contempt, fear)
// are not out-voted by the frequent ones; τ is given, or chosen on a labelled validation set by the
// mean of WAR and UAR. The result is a new model folder (export it again for ONNX).
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';
import { checkNewOut, scoreOnSet } from '../post-hoc.js';

interface BalanceFlags {
  model: string;
  out: string;
  tau: string;
  priors?: string;
  data?: string;
  dataset?: string;
  root?: string;
  split?: string;
  tta?: boolean;
  json?: boolean;
}

/** τ from 0 (the model as trained) to 1.5 in steps of 0.1. */
const TAUS = Array.from({ length: 16 }, (_, i) => i / 10);

async function run(flags: BalanceFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const auto = flags.tau === 'auto';
  const fixed = Number(flags.tau);
  if (!auto && !(Number.isFinite(fixed) && fixed >= 0)) throw new Error(`--tau must be a number ≥ 0 or auto, got "${flags.tau}"`);
  const root = flags.root ?? flags.data;
  if (auto && !root) throw new Error('--tau auto chooses τ on labelled validation faces: give --data <folder> or --dataset <name> --root <dir> [--split val]');
  await checkNewOut(flags.out, flags.model);
  await startEngine(cmd);
  const { loadModel, saveModel } = await import('../../models/io.js');
  const { adjustLogits, chooseTau, normalisePriors, scoreTaus } = await import('../../eval/logit-adjust.js');
  const model = await loadModel(flags.model);
  const c = model.config.classes.length;
  const given = flags.priors?.split(',').map(Number) ?? (model.config.info?.classPriors as number[] | undefined);
  if (!given) throw new Error(`${flags.model}: its config.json records no training class priors (info.classPriors); give --priors p1,p2,... in the order ${model.config.classes.join(', ')}`);
  const priors = normalisePriors(given, c, flags.priors ? '--priors' : `${flags.model} info.classPriors`);

  let tau = fixed;
  let chosenOn: string | undefined;
  let table: ReturnType<typeof scoreTaus> = [];
  if (auto) {
    const { e, name } = await scoreOnSet(model, { dataset: flags.dataset ?? 'folder', root: root!, split: flags.split }, flags.tta, 'logit adjustment');
    table = scoreTaus(e.probs, e.labels, priors, TAUS);
    const best = chooseTau(table);
    tau = best.tau;
    chosenOn = `${name}, ${e.n} faces, mean of WAR and UAR${flags.tta ? ', flip TTA' : ''}`;
    if (!flags.json) {
      say(`τ on ${chosenOn}:`);
      for (const r of table) say(`  τ ${r.tau.toFixed(1)}  WAR ${(r.war * 100).toFixed(2)}%  UAR ${(r.uar * 100).toFixed(2)}%${r === best ? '  ← chosen' : ''}`);
    }
  }
  adjustLogits(model, priors, tau, chosenOn);
  await saveModel(flags.out, model);
  model.dispose();
  if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, tau, priors, chosenOn: chosenOn ?? null, table }) + '\n');
  else say(`${flags.out}: ${flags.model} with logits shifted by −${tau}·log(priors); for ONNX: ferkit export --model ${flags.out} --format onnx --out ${flags.out}`);
}

export function register(program: Command): void {
  program
    .command('balance')
    .description("logit adjustment: shift a CE model's classifier bias by −τ·log(training class priors) so rare classes are not out-voted; τ given or chosen on validation faces")
    .requiredOption('--model <dir>', 'the trained model folder')
    .requiredOption('--out <dir>', 'new model folder for the adjusted model')
    .option('--tau <x>', 'τ ≥ 0 (1: the balanced decision), or auto: the τ in 0, 0.1, ..., 1.5 with the best mean of WAR and UAR on --data/--dataset', 'auto')
    .option('--priors <list>', "training class priors in the model's class order (default: the model's info.classPriors, recorded by ferkit train)")
    .option('--data <dir>', 'folder-per-class validation images (shorthand for --dataset folder --root DIR)')
    .option('--dataset <name>', 'dataset reader name (folder, fer2013, ferplus, ...)')
    .option('--root <dir>', 'dataset root')
    .option('--split <name>', 'split of the dataset (e.g. val)')
    .option('--tta', 'score with horizontally flipped inputs averaged in')
    .option('--json', 'print {"out","tau","priors","chosenOn","table"} as JSON')
    .action((flags: BalanceFlags, cmd: Command) => run(flags, cmd));
}
