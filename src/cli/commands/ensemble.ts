// `ferkit ensemble --model A --model B [--weights 1,2] --out DIR`: several fer-cnn classifiers
// folded into one model folder whose logits are the weighted mean of theirs (see
// src/models/ce/fold-ensemble.ts), with model.onnx beside it unless --no-onnx. --mirror folds
// horizontal-flip test-time augmentation into the same network.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface EnsembleFlags {
  model: string[];
  weights?: string;
  out: string;
  onnx: boolean;
  mirror?: boolean;
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
  const { foldEnsemble } = await import('../../models/ce/fold-ensemble.js');
  const members = [];
  for (const dir of flags.model) members.push(await loadModel(dir));
  const folded = foldEnsemble(members, { weights, names: flags.model, mirror: flags.mirror });
  const stages = (folded.config.backboneOptions as { stages: number[][] }).stages;
  say(`folded ${members.length} models into fer-cnn stages ${JSON.stringify(stages)} (${folded.numParameters()} parameters)`);
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
    .description('fold several fer-cnn cross-entropy models into one model whose logits are the weighted mean of theirs')
    .requiredOption('--model <dir>', 'a member model folder (give two or more, or one with --mirror)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--weights <list>', 'comma-separated relative weight per member, scaled to sum to 1 (default: equal)')
    .option('--mirror', 'also fold in each member on the mirrored face (flip test-time augmentation built in; doubles the width)')
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--no-onnx', 'do not write model.onnx beside the weights')
    .action((flags: EnsembleFlags, cmd: Command) => run(flags, cmd));
}
