// `ferkit eval`: score a model (the bundled one by default) on a labelled dataset: WAR, UAR,
// per-class recall/precision/F1, macro-F1 and ECE, as a table or JSON. --engine onnx (or auto)
// scores the folder's model.onnx on onnxruntime-node instead of the TF.js model.
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface EvalFlags {
  model?: string;
  data?: string;
  dataset?: string;
  root?: string;
  split?: string;
  align?: boolean;
  faces?: string;
  tta?: boolean;
  json?: boolean;
  skipBad?: boolean;
  limit?: string;
  engine: string;
}

const ENGINES = ['tfjs', 'onnx', 'auto'];

async function run(flags: EvalFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  await startEngine(cmd);
  const { datasets } = await import('../../data/registry.js');
  const { loadModel, bundledModelDir } = await import('../../models/io.js');
  if (!ENGINES.includes(flags.engine)) throw new Error(`--engine must be ${ENGINES.join(', ')}, got "${flags.engine}"`);
  const { evaluate, evaluationJson } = await import('../../eval/evaluate.js');
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const root = flags.root ?? flags.data;
  if (!root) throw new Error('give --data <folder> (folder per class) or --dataset <name> --root <dir>');
  const modelDir = flags.model ?? bundledModelDir();
  let model: import('../../eval/predict.js').Scorable;
  if (flags.engine === 'tfjs') model = await loadModel(modelDir);
  else {
    const { loadModelFolder } = await import('../../infer/load.js');
    model = await loadModelFolder(modelDir, { runtime: flags.engine as 'onnx' | 'auto', onNote: say });
  }
  const engine = 'engine' in model ? model.engine : 'tfjs';
  const clipModel = model.config.input.kind === 'clip';
  // Clip models read a dataset's clip variant (ckplus → ckplus-clips) when it has one.
  let entry = datasets.get(flags.dataset ?? 'folder');
  if (clipModel && entry.create.kind === 'image' && datasets.has(`${entry.name}-clips`)) entry = datasets.get(`${entry.name}-clips`);
  if ((entry.create.kind === 'clip') !== clipModel) {
    throw new Error(`${modelDir} is a${clipModel ? ' clip' : 'n image'} model, but dataset "${entry.name}" gives ${entry.create.kind}s`);
  }
  const ds = await entry.create.read(root, { split: flags.split, skipBad: flags.skipBad });
  let items = ds.items;
  if (flags.limit) items = items.slice(0, Number(flags.limit));
  // --align is --faces auto; without either, the images are the faces (datasets of crops).
  if (flags.align && flags.faces && flags.faces !== 'auto') throw new Error(`--align means --faces auto; it contradicts --faces ${flags.faces}`);
  const faces = flags.faces ?? (flags.align ? 'auto' : 'whole');
  if (!['auto', 'detect', 'whole'].includes(faces)) throw new Error(`--faces must be auto, detect or whole, got "${faces}"`);
  if (faces !== 'whole') {
    if (clipModel) throw new Error(`--faces ${faces} works on image datasets; clip datasets are aligned frame by frame by recognizeVideo`);
    const { buildAlignedCache } = await import('../../data/aligned-cache.js');
    const { faceCropper } = await import('../../detect/crop.js');
    const { detectFaces } = await import('../../detect/face-api.js');
    const { findFaces } = await import('../../detect/find-faces.js');
    // auto: the recognizer's face finding (padded retries, then the whole picture for a face
    // crop); the main face of a picture is its largest.
    const find = async (img: import('../../data/image.js').Raster) => {
      const found = (await findFaces(img, detectFaces, { mode: 'auto' })).faces;
      if (found.length === 0) return undefined;
      const main = found.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
      return main.detected ? main : ('whole' as const);
    };
    const imgs = items as import('../../data/types.js').ImageSample[];
    const entries = await buildAlignedCache(imgs, {
      size: model.config.input.size[0],
      channels: model.config.input.channels,
      faces: faces === 'auto' ? faceCropper({ find, key: 'auto-v1' }) : faceCropper(),
      noFace: 'skip',
      skipBad: flags.skipBad,
      progress: !quiet && process.stderr.isTTY,
    });
    for (const [i, x] of entries.entries()) {
      if (!x.problem) continue;
      ds.skipped.push({ file: imgs[i].id, problem: x.problem });
      say(`skipped ${imgs[i].id}: ${x.problem}`);
    }
    const unreadable = entries.filter((x) => x.problem).length;
    const aligned = imgs.flatMap((s, i) => (entries[i].path ? [{ ...s, image: { kind: 'file' as const, path: entries[i].path! } }] : []));
    const detected = entries.filter((x) => x.found).length;
    const whole = aligned.length - detected;
    say(`faces (${faces}): ${detected} of ${imgs.length} images aligned on a detected face${whole ? `, ${whole} read whole (face crops where no face was detected)` : ''}${imgs.length - aligned.length - unreadable ? `, ${imgs.length - aligned.length - unreadable} left out (no face found${faces === 'detect' ? '; --faces auto reads face crops whole' : ''})` : ''}`);
    items = aligned;
  }
  const e = await evaluate(model, items, { tta: flags.tta, skipBad: flags.skipBad });
  for (const x of e.skipped) say(`skipped ${x.file}: ${x.problem}`);
  if (e.skipped.length || ds.skipped.length) say(`--skip-bad: ${ds.skipped.length + e.skipped.length} unreadable samples skipped (${ds.skipped.length} when reading, ${e.skipped.length} when decoding)`);
  for (const [c, n] of Object.entries(e.unknown)) say(`left out: ${n} samples of class "${c}", which the model does not know`);
  const json = evaluationJson(e);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ...json, engine }) + '\n');
    return;
  }
  const pct = (x: number | null) => (x === null ? '   -  ' : `${(x * 100).toFixed(2).padStart(6)}`);
  const lines = [`${modelDir} on ${entry.name} ${root}${flags.split ? ` (${flags.split})` : ''}: ${e.n} samples (${engine})`];
  lines.push(`WAR ${pct(e.war)}%  UAR ${pct(e.uar)}%  macro-F1 ${pct(e.macroF1)}%  ECE ${e.ece.toFixed(4)}`);
  lines.push(`${'class'.padEnd(10)} recall  precision  F1      support`);
  e.classes.forEach((c, i) => {
    const support = e.report.confusion[i].reduce((a, b) => a + b, 0);
    lines.push(`${c.padEnd(10)} ${pct(e.report.recall[i])}  ${pct(e.report.precision[i])}    ${pct(e.report.f1[i])}  ${String(support).padStart(6)}`);
  });
  process.stdout.write(lines.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('score a model (default: the bundled one) on a labelled dataset: WAR, UAR, per-class, macro-F1, ECE')
    .option('--model <dir>', 'model folder, or DIR#N for member N of an ensemble (default: the bundled FER2013 model)')
    .option('--data <dir>', 'folder-per-class images (shorthand for --dataset folder --root DIR)')
    .option('--dataset <name>', 'dataset reader name (folder, fer2013, rafdb, ckplus, dfew, ...)')
    .option('--root <dir>', 'dataset root')
    .option('--split <name>', 'split of the dataset (e.g. val)')
    .option('--align', 'detect and align the face in each image first (raw photos rather than face crops); the same as --faces auto')
    .option('--faces <mode>', 'whole (default: each image is a face crop), detect (align the detected face; images without one are left out) or auto (detect; crops the detector misses are retried padded, then read whole)')
    .option('--tta', 'average with horizontally flipped inputs')
    .option('--limit <n>', 'only the first n samples')
    .option('--skip-bad', 'skip unreadable samples instead of stopping')
    .option('--engine <name>', 'tfjs (the model\'s own forward), onnx (model.onnx on onnxruntime-node) or auto (onnx when the folder has model.onnx)', 'tfjs')
    .option('--json', 'print {"n","war","uar","per_class","macro_f1","ece",...} as JSON')
    .action((flags: EvalFlags, cmd: Command) => run(flags, cmd));
}
