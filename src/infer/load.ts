// loadRunner: a model folder (default: the bundled model) → the fastest runner that works here.
// Engines are a registry; 'auto' tries ONNX Runtime when the folder holds a model.onnx, and falls
// back to TF.js with a note saying why (no model.onnx, onnxruntime-node missing, load failure).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../registry.js';
import { bundledModelDir } from '../models/io.js';
import type { ModelRunner } from './runner.js';

export type EngineChoice = 'auto' | 'tfjs' | 'onnx';
export const ONNX_FILE = 'model.onnx';

export interface LoadRunnerOptions {
  engine?: EngineChoice;
  /** Called with a sentence when 'auto' falls back from ONNX to TF.js. */
  onNote?: (note: string) => void;
}

export type RunnerLoader = (dir: string) => Promise<ModelRunner>;

// The ONNX runner module lands separately; imported by a computed name so this file builds (and
// 'tfjs' works) without it. It exports loadOnnxRunner(dir) (or createOnnxRunner / OnnxRunner.load).
const ONNX_RUNNER_MODULE = './onnx-runner.js';

async function loadOnnx(dir: string): Promise<ModelRunner> {
  if (!existsSync(join(dir, ONNX_FILE))) throw new Error(`${dir}: no ${ONNX_FILE} (make one with \`ferkit export --format onnx\`)`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(ONNX_RUNNER_MODULE)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`the ONNX runner is not available (${(e as Error).message.split('\n')[0]})`);
  }
  const cls = mod.OnnxRunner as { load?: RunnerLoader } | undefined;
  const load = (mod.loadOnnxRunner ?? mod.createOnnxRunner ?? cls?.load?.bind(cls)) as RunnerLoader | undefined;
  if (typeof load !== 'function') throw new Error(`${ONNX_RUNNER_MODULE} exports no loadOnnxRunner(dir)`);
  return load(dir);
}

async function loadTfjs(dir: string): Promise<ModelRunner> {
  const { loadTfjsRunner } = await import('./tfjs-runner.js');
  return loadTfjsRunner(dir);
}

export const engines = new Registry<RunnerLoader>('inference engine')
  .register({ name: 'tfjs', description: 'TF.js on the running backend (wasm by default)', create: loadTfjs })
  .register({ name: 'onnx', description: 'onnxruntime-node on model.onnx', create: loadOnnx });

/** Loads a runner for a model folder; `auto` prefers ONNX when the folder has a model.onnx. */
export async function loadRunner(dir: string = bundledModelDir(), opts: LoadRunnerOptions = {}): Promise<ModelRunner> {
  const choice = opts.engine ?? 'auto';
  if (choice !== 'auto') return engines.get(choice).create(dir);
  if (!existsSync(join(dir, ONNX_FILE))) return loadTfjs(dir);
  try {
    return await loadOnnx(dir);
  } catch (e) {
    opts.onNote?.(`ONNX Runtime not used, running on TF.js: ${(e as Error).message}`);
    return loadTfjs(dir);
  }
}
