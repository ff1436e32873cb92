// `ferkit demo`: the bundled model on the sample photos that ship inside @vladmandic/face-api
// (demo/sample*.jpg): annotated pictures in ./ferkit-demo/ and the results on stdout.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { globalOptions, startEngine } from '../global-options.js';

interface DemoFlags {
  out: string;
  model?: string;
  engine: string;
  json?: boolean;
}

/** face-api's sample photos, from the installed package. */
function demoPhotos(): string[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  const files = readdirSync(dir).filter((f) => /^sample\d+\.jpg$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${dir}: no sample*.jpg photos (is @vladmandic/face-api installed completely?)`);
  return files.map((f) => join(dir, f));
}

async function run(flags: DemoFlags, cmd: Command): Promise<void> {
  const { quiet } = globalOptions(cmd);
  const say = (s: string) => {
    if (!quiet) process.stderr.write(s + '\n');
  };
  if (!['auto', 'tfjs', 'onnx'].includes(flags.engine)) throw new Error(`--engine must be auto, tfjs or onnx, got "${flags.engine}"`);
  // TF.js starts when the model or the detector runs on it, or now on an explicit --backend.
  if (globalOptions(cmd).backend) await startEngine(cmd);
  const { loadRecognizer } = await import('../../api/recognizer.js');
  const { recognizeImages } = await import('../predict-run.js');
  const fmt = await import('../results-format.js');
  const photos = demoPhotos();
  const rec = await loadRecognizer({ model: flags.model, engine: flags.engine as 'auto' | 'tfjs' | 'onnx', onNote: say });
  say(`ferkit demo: ${flags.model ?? 'bundled model fer2013-cnn'} on ${rec.engine}, ${photos.length} sample photos from @vladmandic/face-api`);
  const out = resolve(flags.out);
  const t0 = performance.now();
  const { records, written } = await recognizeImages(rec, photos, { annotate: out, progress: !quiet && process.stderr.isTTY });
  const ms = (performance.now() - t0) / photos.length;
  const faces = records.reduce((a, r) => a + r.faces.length, 0);
  if (flags.json) process.stdout.write(JSON.stringify({ engine: rec.engine, classes: rec.classes, images: records, annotated: written }) + '\n');
  else {
    process.stdout.write(fmt.imageTable(records.map((r) => ({ ...r, file: r.file.replace(/.*\//, '') }))) + '\n');
    process.stdout.write(`${faces} faces in ${photos.length} photos, ${ms.toFixed(0)} ms per photo; annotated pictures in ${out}\n`);
  }
  await rec.dispose();
}

export function register(program: Command): void {
  program
    .command('demo')
    .description("run the bundled model on face-api's sample photos; write annotated pictures and print the results")
    .option('--out <dir>', 'folder for the annotated pictures', 'ferkit-demo')
    .option('--model <dir>', 'model folder (default: the bundled FER2013 model)')
    .option('--engine <name>', 'auto, tfjs or onnx', 'auto')
    .option('--json', 'print JSON')
    .action(run);
}
