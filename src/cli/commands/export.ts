// `ferkit export --model DIR --format onnx|tfjs [--out PATH]`: a model folder in another format.
// onnx: model.onnx beside the weights (or at --out: a .onnx file, or a folder that becomes a whole
// model folder, config.json + weights + model.onnx, so every loader and engine reads it), checked
// against TF.js on a batch unless --no-verify. tfjs: ferkit's TF.js format itself (config.json + model.safetensors, loadable with
// loadModel), written to --out; a copy that is re-saved from the loaded model, so it is validated.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface ExportFlags {
  model?: string;
  format: string;
  out?: string;
  verify: boolean;
}

const FORMATS = ['onnx', 'tfjs'];

async function run(flags: ExportFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  if (!FORMATS.includes(flags.format)) throw new Error(`unknown --format "${flags.format}"; use ${FORMATS.join(' or ')}`);
  await startEngine(cmd);
  const { loadModel, saveModel, bundledModelDir, parseModelRef } = await import('../../models/io.js');
  const dir = flags.model ?? bundledModelDir();
  if (parseModelRef(dir).member !== undefined && !flags.out) throw new Error(`${dir} is one member of an ensemble: give --out for its own model folder or .onnx file`);
  const model = await loadModel(dir);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  if (flags.format === 'tfjs') {
    if (!flags.out) throw new Error('--format tfjs needs --out <folder> (a model folder is already in the TF.js format)');
    await saveModel(flags.out, model);
    process.stdout.write(`${flags.out}\n`);
    return;
  }
  const { writeOnnx } = await import('../../export/onnx/index.js');
  const { statSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  if (flags.out && !flags.out.endsWith('.onnx') && resolve(flags.out) !== resolve(dir)) await saveModel(flags.out, model);
  const file = await writeOnnx(model, flags.out ?? dir);
  say(`wrote ${file} (${(statSync(file).size / 2 ** 20).toFixed(2)} MiB)`);
  if (flags.verify) {
    const { verifyOnnx } = await import('../../export/onnx/verify.js');
    const diff = await verifyOnnx(model, file);
    say(`verified: onnxruntime vs TF.js on a batch of 4, max abs diff ${diff.toExponential(2)} (probs)`);
  }
  model.dispose();
  process.stdout.write(`${file}\n`);
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model in another format: onnx (model.onnx, runs on onnxruntime-node) or tfjs (config.json + model.safetensors)')
    .option('--model <dir>', 'model folder, or DIR#N for member N of an ensemble (default: the bundled model)')
    .requiredOption('--format <format>', 'onnx or tfjs')
    .option('--out <path>', 'onnx: a .onnx file, or a folder to write as a model folder with model.onnx (default: the model folder); tfjs: the folder to write')
    .option('--no-verify', 'onnx: skip checking onnxruntime against TF.js on a batch')
    .action((flags: ExportFlags, cmd: Command) => run(flags, cmd));
}
