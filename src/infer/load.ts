// loadModelFolder: a model folder (default: the bundled model) → a runner on the fastest runtime
// that works here. config.json is read and checked once (readModelFolder) and handed to whichever
// runner opens the folder. Runtimes are a registry; 'auto' tries ONNX Runtime when the folder holds
// a model.onnx, and falls back to TF.js with a note saying why (onnxruntime-node missing, a stale
// or unloadable model.onnx).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../registry.js';
import { bundledModelDir, ONNX_FILE } from '../models/files.js';
import { readModelFolder, type ModelFolder } from '../models/io.js';
import { openOnnxRunner, type OnnxRunnerOptions } from './onnx-runner.js';
import type { ModelRunner } from './runner.js';
import { openTfjsRunner } from './tfjs-runner.js';

export type RuntimeChoice = 'auto' | 'tfjs' | 'onnx';

export interface LoadModelFolderOptions extends Omit<OnnxRunnerOptions, 'label'> {
  runtime?: RuntimeChoice;
  /** Called with a sentence when 'auto' falls back from ONNX to TF.js. */
  onNote?: (note: string) => void;
}

type RunnerOpener = (folder: ModelFolder, opts: LoadModelFolderOptions) => Promise<ModelRunner>;

export const runtimes = new Registry<RunnerOpener>('inference runtime')
  .register({ name: 'tfjs', description: 'TF.js on the running backend (wasm by default)', create: (f) => openTfjsRunner(f) })
  .register({ name: 'onnx', description: 'onnxruntime-node on model.onnx', create: (f, o) => openOnnxRunner(f, o) });

/** A runner for a model folder (or DIR#N ensemble member); `auto` prefers ONNX when the folder has a model.onnx. */
export async function loadModelFolder(ref: string = bundledModelDir(), opts: LoadModelFolderOptions = {}): Promise<ModelRunner> {
  const folder = await readModelFolder(ref);
  const choice = opts.runtime ?? 'auto';
  if (choice !== 'auto') return runtimes.get(choice).create(folder, opts);
  if (folder.member !== undefined || !existsSync(join(folder.dir, ONNX_FILE))) return openTfjsRunner(folder);
  try {
    return await openOnnxRunner(folder, opts);
  } catch (e) {
    opts.onNote?.(`ONNX Runtime not used, running on TF.js: ${(e as Error).message}`);
    return openTfjsRunner(folder);
  }
}
