// `ferkit calibrate`: temperature scaling of a trained CE model or ensemble (eval/calibrate.ts):
// its logits divided by one T, fitted on labelled validation faces by negative log-likelihood (or
// given), so its confidences mean what they say. Predictions do not change. The result is a new
// model folder (export it again for ONNX).
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';
import { checkNewOut, scoreOnSet } from '../post-hoc.js';

interface CalibrateFlags {
  model: string;
  out: string;
  temperature: string;
  data: string[];
  dataset?: string;
  root?: string;
  split?: string;
  tta?: boolean;
  json?: boolean;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function run(flags: CalibrateFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const auto = flags.temperature === 'auto';
  const fixed = Number(flags.temperature);
  if (!auto && !(Number.isFinite(fixed) && fixed > 0)) throw new Error(`--temperature must be a number > 0 or auto, got "${flags.temperature}"`);
  if (flags.root && flags.data.length) throw new Error('give --data <folder> (one or more) or --dataset <name> --root <dir>, not both');
  const sets = flags.root ? [{ dataset: flags.dataset ?? 'folder', root: flags.root, split: flags.split }] : flags.data.map((root) => ({ dataset: 'folder', root, split: undefined }));
  if (auto && !sets.length) throw new Error('--temperature auto fits T on labelled validation faces: give --data <folder> or --dataset <name> --root <dir> [--split val]');
  await checkNewOut(flags.out, flags.model);
  await startEngine(cmd);
  const { loadModel, saveModel } = await import('../../models/io.js');
  const { chooseTemperature, scaleLogits, scoreTemperatures } = await import('../../eval/calibrate.js');
  const model = await loadModel(flags.model);
  let temperature = fixed;
  let chosenOn: string | undefined;
  let table: ReturnType<typeof scoreTemperatures> = [];
  const perSet: { set: string; table: ReturnType<typeof scoreTemperatures> }[] = [];
  if (auto) {
    // Several sets count alike (mean of their NLLs), however many faces each has: a model used
    // on faces of many kinds should not be calibrated for the largest set alone.
    for (const set of sets) {
      const { e, name } = await scoreOnSet(model, set, flags.tta, 'temperature scaling here');
      if (e.n === 0) throw new Error(`${set.root}: none of its faces has a class the model knows (${model.config.classes.join(', ')})`);
      perSet.push({ set: `${name}, ${e.n} faces`, table: scoreTemperatures(e.probs, e.labels, model.config.classes.length) });
    }
    table = perSet[0]!.table.map((r, i) => ({ temperature: r.temperature, nll: mean(perSet.map((p) => p.table[i]!.nll)), ece: mean(perSet.map((p) => p.table[i]!.ece)) }));
    const best = chooseTemperature(table);
    temperature = best.temperature;
    chosenOn = `${perSet.map((p) => p.set).join('; ')}: lowest negative log-likelihood${perSet.length > 1 ? ' (mean over the sets)' : ''}${flags.tta ? ', flip TTA' : ''}`;
    if (!flags.json) {
      say(`T on ${chosenOn}${perSet.length > 1 ? ` (NLL and ECE: the sets' means; then each set's ECE)` : ''}:`);
      for (const [i, r] of table.entries()) say(`  T ${r.temperature.toFixed(2)}  NLL ${r.nll.toFixed(4)}  ECE ${r.ece.toFixed(4)}${perSet.length > 1 ? `  (${perSet.map((p) => p.table[i]!.ece.toFixed(4)).join(', ')})` : ''}${r === best ? '  ← chosen' : ''}`);
    }
  }
  scaleLogits(model, temperature, chosenOn);
  await saveModel(flags.out, model);
  model.dispose();
  if (flags.json) process.stdout.write(JSON.stringify({ out: flags.out, temperature, chosenOn: chosenOn ?? null, table, sets: perSet }) + '\n');
  else say(`${flags.out}: ${flags.model} with logits divided by T = ${temperature}; for ONNX: ferkit export --model ${flags.out} --format onnx --out ${flags.out}`);
}

export function register(program: Command): void {
  program
    .command('calibrate')
    .description('temperature scaling: divide a CE model\'s logits by one T fitted on validation faces (negative log-likelihood), so its confidences mean what they say; predictions do not change')
    .requiredOption('--model <dir>', 'the trained model folder (a ce model or an ensemble of them)')
    .requiredOption('--out <dir>', 'new model folder for the calibrated model')
    .option('--temperature <x>', 'T > 0, or auto: the T in 0.5 ... 3 with the lowest negative log-likelihood on --data/--dataset (several --data: the lowest mean over them)', 'auto')
    .option('--data <dir>', 'folder-per-class validation images (shorthand for --dataset folder --root DIR); repeat for several sets, each counting alike', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--dataset <name>', 'dataset reader name (folder, fer2013, ferplus, ...)')
    .option('--root <dir>', 'dataset root')
    .option('--split <name>', 'split of the dataset (e.g. val)')
    .option('--tta', 'score with horizontally flipped inputs averaged in')
    .option('--json', 'print {"out","temperature","chosenOn","table","sets"} as JSON (table: the sets\' mean NLL and ECE per T; sets: each set\'s own)')
    .action((flags: CalibrateFlags, cmd: Command) => run(flags, cmd));
}
