// `ferkit export --model DIR --format onnx|tfjs [--out PATH]`: a model folder in another format.
// onnx: model.onnx beside the weights (or at --out: a .onnx file, or a folder that becomes a whole
// model folder, config.json + weights + model.onnx, so every loader and engine reads it), checked
// against TF.js on a batch unless --no-verify. tfjs: ferkit's TF.js format itself (config.json + model.safetensors, loadable with
// loadModel), written to --out; a copy that is re-saved from the loaded model, so it is validated.
// onnx --quantize int8: int8 weights (a quarter of the size, for the browser) into an ONNX-only
// model folder (config.json + model.onnx: the float weights would not describe it).
// Several --model (with --weights) export their ensemble, made on the fly as `ferkit ensemble`
// makes it, so a web model can be a few members of the bundled one without a float copy on disk.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface ExportFlags {
  model: string[];
  weights?: string;
  format: string;
  out?: string;
  verify: boolean;
  quantize?: string;
  mirror?: boolean;
}

const FORMATS = ['onnx', 'tfjs'];
/** Largest probability change int8 weights may cause on the check batch. */
const QUANTIZED_TOLERANCE = 0.05;

/** config.json of an ONNX-only folder: the model's config, saying where it came from and how
 *  (source: one model or the ensemble's members, their weights, mirror, quantize: what
 *  test/export/quantize.test.ts rebuilds it from). */
async function writeQuantizedConfig(out: string, config: import('../../models/model.js').ModelConfig, sources: readonly string[], weights: readonly number[] | undefined, quantize: string, mirror: boolean): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const quote = (ref: string) => (/^[\w./-]+$/.test(ref) ? ref : `'${ref}'`);
  const command = `ferkit export ${sources.map((s) => `--model ${quote(s)}`).join(' ')}${weights ? ` --weights ${weights.join(',')}` : ''}${mirror ? ' --mirror' : ''} --format onnx --quantize ${quantize} --out ${out}`;
  const info = {
    ...config.info,
    onnxOnly: `model.onnx with ${quantize} weights (per output channel; float activations): runs on onnxruntime (engine onnx) and in the browser, not on TF.js`,
    command,
    source: sources.length === 1 ? sources[0] : [...sources],
    ...(weights ? { weights: [...weights] } : {}),
    mirror,
    quantize,
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), JSON.stringify({ ...config, info }, null, 2) + '\n');
}

async function run(flags: ExportFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  if (!FORMATS.includes(flags.format)) throw new Error(`unknown --format "${flags.format}"; use ${FORMATS.join(' or ')}`);
  const { QUANTIZE_MODES } = await import('../../export/onnx/quantize.js');
  const quantize = flags.quantize as import('../../export/onnx/quantize.js').QuantizeMode | undefined;
  if (quantize !== undefined && !QUANTIZE_MODES.includes(quantize)) throw new Error(`unknown --quantize "${flags.quantize}"; use ${QUANTIZE_MODES.join(' or ')}`);
  if (quantize !== undefined && flags.format !== 'onnx') throw new Error('--quantize is for --format onnx');
  const several = flags.model.length > 1;
  if ((quantize !== undefined || flags.mirror || several) && !flags.out) throw new Error(`${quantize !== undefined ? '--quantize' : flags.mirror ? '--mirror' : 'several --model'} needs --out <folder or .onnx file> (the model folder itself stays as it is)`);
  let weights: number[] | undefined;
  if (flags.weights !== undefined) {
    weights = flags.weights.split(',').map(Number);
    if (!several) throw new Error('--weights weighs the members of an ensemble: give two --model or more');
    if (weights.length !== flags.model.length || weights.some((w) => !(w >= 0))) throw new Error(`--weights needs ${flags.model.length} numbers ≥ 0 (one per --model), got "${flags.weights}"`);
  }
  await startEngine(cmd);
  const { loadModel, saveModel, bundledModelDir, parseModelRef } = await import('../../models/io.js');
  const refs = flags.model.length ? flags.model : [bundledModelDir()];
  const dir = refs[0];
  if (parseModelRef(dir).member !== undefined && !flags.out) throw new Error(`${dir} is one member of an ensemble: give --out for its own model folder or .onnx file`);
  let model = await loadModel(dir);
  if (flags.mirror || several) {
    // The models as one ensemble (as `ferkit ensemble` builds it); with --mirror, flip TTA built in
    // (twice the compute).
    const { buildEnsemble } = await import('../../models/ensemble/build.js');
    const members = [model];
    for (const ref of refs.slice(1)) members.push(await loadModel(ref));
    model = buildEnsemble(members, { mirror: flags.mirror, weights, names: refs });
    for (const m of members) m.dispose();
  }
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
  if (quantize !== undefined) {
    if (resolve(flags.out!) === resolve(parseModelRef(dir).dir)) throw new Error('--quantize needs an --out apart from the model folder (its float model.onnx stays)');
    if (!flags.out!.endsWith('.onnx')) await writeQuantizedConfig(flags.out!, model.config, refs, weights, quantize, Boolean(flags.mirror));
  } else if (flags.out && !flags.out.endsWith('.onnx') && resolve(flags.out) !== resolve(dir)) await saveModel(flags.out, model);
  const file = await writeOnnx(model, flags.out ?? dir, { quantize });
  say(`wrote ${file} (${(statSync(file).size / 2 ** 20).toFixed(2)} MiB${quantize ? `, ${quantize} weights` : ''})`);
  if (flags.verify) {
    const { verifyOnnx } = await import('../../export/onnx/verify.js');
    // Quantized weights move the probabilities by rounding noise, not by an emitter's mistake.
    const diff = await verifyOnnx(model, file, quantize ? QUANTIZED_TOLERANCE : undefined);
    say(`verified: onnxruntime vs TF.js on a batch of 4, max abs diff ${diff.toExponential(2)} (probs)`);
  }
  model.dispose();
  process.stdout.write(`${file}\n`);
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model in another format: onnx (model.onnx, runs on onnxruntime-node) or tfjs (config.json + model.safetensors)')
    .option('--model <dir>', 'model folder, or DIR#N for member N of an ensemble (default: the bundled model); several: their ensemble', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--weights <list>', 'with several --model: comma-separated relative weight per member, scaled to sum to 1 (default: equal)')
    .requiredOption('--format <format>', 'onnx or tfjs')
    .option('--out <path>', 'onnx: a .onnx file, or a folder to write as a model folder with model.onnx (default: the model folder); tfjs: the folder to write')
    .option('--quantize <mode>', 'onnx: int8 weights (per output channel; about 4x smaller) into an ONNX-only folder or .onnx file at --out')
    .option('--mirror', 'build flip test-time augmentation in (the model runs on the face and its mirror image; needs --out)')
    .option('--no-verify', 'onnx: skip checking onnxruntime against TF.js on a batch')
    .action((flags: ExportFlags, cmd: Command) => run(flags, cmd));
}
