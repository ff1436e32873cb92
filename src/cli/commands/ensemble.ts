// `ferkit ensemble --model A --model B [--weights 1,2] [--mirror] [--fold] --out DIR`: image
// classifiers behind one model folder whose logits are the weighted mean of theirs, with
// model.onnx beside it unless --no-onnx. By default the members are kept as they are
// (src/models/ensemble); --fold merges fer-cnn CE members into one plain fer-cnn
// (src/models/ce/fold-ensemble.ts); --average merges models of one architecture into one whose
// weights are the weighted mean of theirs (WiSE-FT with a run's pretrained start, a model soup
// otherwise). --mirror builds horizontal-flip test-time augmentation in.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface EnsembleFlags {
  model: string[];
  weights?: string;
  out: string;
  onnx: boolean;
  mirror?: boolean;
  fold?: boolean;
  average?: boolean;
}

async function run(flags: EnsembleFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  let weights: number[] | undefined;
  if (flags.weights !== undefined) {
    weights = flags.weights.split(',').map(Number);
    if (weights.length !== flags.model.length) throw new Error(`--weights gives ${weights.length} numbers for ${flags.model.length} models`);
  }
  await startEngine(cmd);
  const { loadModel, saveModel } = await import('../../models/io.js');
  const members = [];
  for (const dir of flags.model) members.push(await loadModel(dir));
  const options = { weights, names: flags.model, mirror: flags.mirror };
  if (flags.fold && flags.average) throw new Error('--fold and --average are two ways to merge: choose one');
  let folded;
  if (flags.average) {
    const { averageWeights } = await import('../../models/ensemble/average.js');
    const averaged = averageWeights(members, options);
    say(`averaged the weights of ${members.length} models (weights ${JSON.stringify((averaged.config.info!.averaged as { weight: number }[]).map((a) => Number(a.weight.toFixed(4))))})`);
    if (flags.mirror) {
      const { buildEnsemble } = await import('../../models/ensemble/build.js');
      folded = buildEnsemble([averaged], { names: ['the weight average'], mirror: true });
      averaged.dispose();
    } else folded = averaged;
  } else if (flags.fold) {
    const { foldEnsemble } = await import('../../models/ce/fold-ensemble.js');
    folded = foldEnsemble(members, options);
    const stages = (folded.config.backboneOptions as { stages: number[][] }).stages;
    say(`folded ${members.length} models into fer-cnn stages ${JSON.stringify(stages)} (${folded.numParameters()} parameters)`);
  } else {
    const { buildEnsemble } = await import('../../models/ensemble/build.js');
    folded = buildEnsemble(members, options);
    say(`ensemble of ${members.length} models${flags.mirror ? ', flip TTA built in' : ''} (${folded.numParameters()} parameters)`);
  }
  await saveModel(flags.out, folded);
  if (flags.onnx) {
    const { writeOnnx } = await import('../../export/onnx/index.js');
    const { verifyOnnx } = await import('../../export/onnx/verify.js');
    const file = await writeOnnx(folded, flags.out);
    say(`wrote ${file}; onnxruntime vs TF.js max abs diff ${(await verifyOnnx(folded, file)).toExponential(2)} (probs)`);
  }
  for (const m of [...members, folded]) m.dispose();
  process.stdout.write(`${flags.out}\n`);
}

export function register(program: Command): void {
  program
    .command('ensemble')
    .description('combine image classifiers into one model whose logits are the weighted mean of theirs')
    .requiredOption('--model <dir>', 'a member model folder (give two or more, or one with --mirror)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--weights <list>', 'comma-separated relative weight per member, scaled to sum to 1 (default: equal)')
    .option('--mirror', 'also run each member on the mirrored face (flip test-time augmentation built in; twice the compute)')
    .option('--fold', 'merge fer-cnn cross-entropy members into one plain fer-cnn (block-diagonal convs; its weights hold the zero blocks)')
    .option('--average', "merge models of one architecture into one whose weights are the weighted mean of theirs (with a run's <out>/pretrained start: WiSE-FT)")
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--no-onnx', 'do not write model.onnx beside the weights')
    .action((flags: EnsembleFlags, cmd: Command) => run(flags, cmd));
}
