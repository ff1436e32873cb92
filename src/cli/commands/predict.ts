// `ferkit predict <image|folder|video>`: expressions of every face, as a table, JSON or CSV, and
// optionally annotated copies (boxes, labels, probability bars) of the pictures or the video.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface PredictFlags {
  model?: string;
  engine: string;
  detector: string;
  json?: boolean;
  csv?: boolean;
  annotate?: string;
  fps?: string;
  tau?: string;
  minScore?: string;
  faces: string;
  maxFaces: string;
  recursive?: boolean;
}

const positive = (name: string, v: string | undefined, allowZero = false): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || (!allowZero && x === 0)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${v}"`);
  return x;
};

async function run(input: string, flags: PredictFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  if (flags.json && flags.csv) throw new Error('give --json or --csv, not both');
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  const { resolveInput } = await import('../predict-inputs.js');
  const target = resolveInput(input, { recursive: flags.recursive });
  const engine = flags.engine as 'auto' | 'tfjs' | 'onnx';
  if (!['auto', 'tfjs', 'onnx'].includes(engine)) throw new Error(`--engine must be auto, tfjs or onnx, got "${flags.engine}"`);
  if (!['ssd', 'tiny'].includes(flags.detector)) throw new Error(`--detector must be ssd or tiny, got "${flags.detector}"`);
  const fps = positive('fps', flags.fps);
  const tau = positive('tau', flags.tau, true);
  const minScore = positive('min-score', flags.minScore);
  const { faces, maxFaces } = faceFlags(flags);
  // TF.js starts when the model or the detector runs on it, or now on an explicit --backend.
  if (globalOptions(cmd).backend) await startEngine(cmd);
  const { loadRecognizer } = await import('../../api/recognizer.js');
  // A video's frames are classified on a thread of their own while the next frames' faces are found.
  const modelThread = target.kind !== 'images' && availableParallelism() > 1;
  const rec = await loadRecognizer({ model: flags.model, engine, detector: flags.detector as 'ssd' | 'tiny', minDetectionScore: minScore, faces, maxFaces, modelThread, onNote: say });
  const fmt = await import('../results-format.js');
  const { recognizeImages, recognizeVideoFile } = await import('../predict-run.js');
  const progress = !quiet && process.stderr.isTTY;
  const t0 = performance.now();
  let written: string[];
  if (target.kind === 'images') {
    const r = await recognizeImages(rec, target.files, { annotate: flags.annotate, progress, stopOnError: !target.folder });
    written = r.written;
    // Each unreadable file is reported once: in the table or the JSON ("error"), or, as CSV
    // has no place for it, on stderr.
    if (flags.csv) for (const bad of r.records.filter((x) => x.error)) say(`skipped ${bad.file}: ${bad.error}`);
    if (flags.json) process.stdout.write(JSON.stringify({ engine: rec.engine, classes: rec.classes, images: r.records }) + '\n');
    else if (flags.csv) process.stdout.write(fmt.imageCsv(r.records, rec.classes) + '\n');
    else process.stdout.write(fmt.imageTable(r.records) + '\n');
  } else {
    const file = target.files[0];
    const r = await recognizeVideoFile(rec, file, { annotate: flags.annotate, progress, fps, tau });
    written = r.written;
    if (flags.json) process.stdout.write(JSON.stringify({ engine: rec.engine, classes: rec.classes, ...fmt.videoJson(file, r.result) }) + '\n');
    else if (flags.csv) process.stdout.write(fmt.videoCsv(file, r.result, rec.classes) + '\n');
    else process.stdout.write(fmt.videoTable(file, r.result) + '\n');
  }
  say(`${rec.engine}: ${((performance.now() - t0) / 1000).toFixed(1)} s${written.length ? `; wrote ${written.length === 1 ? written[0] : `${written.length} files to ${flags.annotate}`}` : ''}`);
  await rec.dispose();
}

/** --faces and --max-faces, checked (predict and serve share them). */
export function faceFlags(flags: { faces: string; maxFaces: string }): { faces: 'auto' | 'detect' | 'whole'; maxFaces: number } {
  if (!['auto', 'detect', 'whole'].includes(flags.faces)) throw new Error(`--faces must be auto, detect or whole, got "${flags.faces}"`);
  const maxFaces = Number(flags.maxFaces);
  if (!(Number.isInteger(maxFaces) && maxFaces >= 1)) throw new Error(`--max-faces must be a positive integer, got "${flags.maxFaces}"`);
  return { faces: flags.faces as 'auto' | 'detect' | 'whole', maxFaces };
}

const FACES_HELP = 'how faces are found: auto (detect; a face crop the detector misses is retried on a padded copy, then read whole), detect (the detector only) or whole (each picture is one face crop)';

export function register(program: Command): void {
  program
    .command('predict')
    .description('expressions of every face in an image, a folder of images or a video')
    .argument('<input>', 'image file, folder of images, or video file')
    .option('--model <dir>', 'model folder (default: the bundled FER2013 model)')
    .option('--engine <name>', 'auto (ONNX when the model folder has model.onnx), tfjs or onnx', 'auto')
    .option('--detector <name>', 'face detector: ssd (accurate) or tiny (fast)', 'ssd')
    .option('--min-score <x>', 'minimum face detection score (default 0.5)')
    .option('--faces <mode>', FACES_HELP, 'auto')
    .option('--max-faces <n>', 'at most this many faces per picture or frame, best first (the output counts those left out)', '100')
    .option('--recursive', 'a folder: read the pictures in its subfolders too')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (one row per face, per frame for videos)')
    .option('--annotate <dir>', 'write annotated copies (PNG per image, .annotated.mp4 per video) to this folder')
    .option('--fps <n>', 'video: frames per second to analyse (default: the video rate, at most 15)')
    .option('--tau <seconds>', 'video with an image model: EMA smoothing time constant (default 0.5, 0 = off)')
    .action(run);
}
