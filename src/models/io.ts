// A saved model is a folder: config.json (what the network is and how to feed it) and
// model.safetensors (its weights, PyTorch-style names). Loading rebuilds the network through the
// methods registry, so a new method's models load without changes here.
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintTensors, loadModule, loadSafetensors, nonFiniteTensors, saveModule } from '../nn/checkpoint.js';
import type { Rng } from '../util/rng.js';
import { defaultRandom } from '../nn/random.js';
import { methods } from './all-methods.js';
import { CONFIG_FILE, WEIGHTS_FILE, bundledModelDir, memberTensors, parseModelRef } from './files.js';
import type { FerModel, ModelConfig } from './model.js';
import { ensembleOptions } from './ensemble/model.js';

export { bundledModelDir, memberTensors, parseModelRef } from './files.js';

/** Checks a parsed config and says what is wrong with it, naming the file. */
export function checkConfig(raw: unknown, source: string): ModelConfig {
  const c = raw as Partial<ModelConfig>;
  const fail = (what: string): never => {
    throw new Error(`${source}: not a ferkit model config (${what})`);
  };
  if (!c || typeof c !== 'object') fail('not a JSON object');
  if (c.format !== 'ferkit-model') fail(`format is ${JSON.stringify(c.format)}, expected "ferkit-model"`);
  if (c.version !== 1) fail(`unsupported version ${JSON.stringify(c.version)}`);
  if (typeof c.method !== 'string') fail('no method');
  if (!methods.has(c.method!)) fail(`unknown method "${c.method}"; known: ${methods.names().join(', ')}`);
  if (typeof c.backbone !== 'string') fail('no backbone');
  if (!Array.isArray(c.classes) || c.classes.length < 2) fail('classes must list at least two names');
  const i = c.input;
  if (!i || (i.kind !== 'image' && i.kind !== 'clip')) fail('input.kind must be "image" or "clip"');
  if (!Array.isArray(i!.size) || i!.size.length !== 2 || !i!.size.every((s) => Number.isInteger(s) && s > 0)) fail('input.size must be [height, width]');
  if (i!.channels !== 1 && i!.channels !== 3) fail('input.channels must be 1 or 3');
  if (!Array.isArray(i!.mean) || i!.mean.length !== i!.channels || !Array.isArray(i!.std) || i!.std.length !== i!.channels) {
    fail('input.mean and input.std need one value per channel');
  }
  if (i!.kind === 'clip' && !(Number.isInteger(i!.frames) && i!.frames! > 0)) fail('clip models need input.frames');
  const v = i!.framesPerSegment;
  if (v !== undefined && !(Number.isInteger(v) && v > 0 && (i!.frames ?? 1) % v === 0)) fail(`input.framesPerSegment ${JSON.stringify(v)} must be a positive integer dividing input.frames (${i!.frames})`);
  return c as ModelConfig;
}

/** Builds a fresh (untrained) model for a config. */
export function createModel(config: ModelConfig, rng: Rng = defaultRandom()): FerModel {
  return methods.get(config.method).create.createModel(config, rng);
}

/** Writes a model folder; config.json records the weights' fingerprint. Refuses weights that
 *  hold NaN or Infinity (a diverged training): such a model only ever answers NaN. */
export async function saveModel(dir: string, model: FerModel): Promise<void> {
  const state = model.stateDict();
  const bad = nonFiniteTensors(state);
  if (bad.length) throw new Error(`${dir}: not saved: the weights hold NaN or Infinity (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? `, ${bad.length - 3} more` : ''})`);
  await mkdir(dir, { recursive: true });
  await saveModule(join(dir, WEIGHTS_FILE), model, { method: model.config.method });
  const tmp = join(dir, `${CONFIG_FILE}.tmp-${process.pid}`);
  await writeFile(tmp, JSON.stringify({ ...model.config, fingerprint: fingerprintTensors(state) }, null, 2) + '\n');
  await rename(tmp, join(dir, CONFIG_FILE));
}

/** A model folder (or `DIR#N` ensemble member) with its config.json read and checked: the one
 *  validation every loader (TF.js weights, ONNX Runtime) starts from. */
export interface ModelFolder {
  dir: string;
  member?: number;
  config: ModelConfig;
}

/** Reads and checks a model folder's config.json (the bundled model when `ref` is undefined). */
export async function readModelFolder(ref: string = bundledModelDir()): Promise<ModelFolder> {
  const { dir, member } = parseModelRef(ref);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such model folder`);
  const configPath = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new Error(`${configPath}: missing (a model folder holds ${CONFIG_FILE} and ${WEIGHTS_FILE})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${configPath}: invalid JSON (${(e as Error).message})`);
  }
  // The fingerprint describes the files, not the model: a model in memory may change after loading.
  const { fingerprint: _files, ...config } = checkConfig(raw, configPath);
  return { dir, member, config };
}

/** Builds a checked folder's model and loads its weights, in eval mode. */
export async function loadModelWeights({ dir, member, config }: ModelFolder): Promise<FerModel> {
  if (member !== undefined) return loadMember(config, join(dir, CONFIG_FILE), join(dir, WEIGHTS_FILE), member, `${dir}#${member}`);
  const model = createModel(config);
  await loadModule(join(dir, WEIGHTS_FILE), model, { strict: true });
  model.eval();
  return model;
}

/** Loads a model folder or `DIR#N` ensemble member (the bundled model when `ref` is undefined), in eval mode. */
export async function loadModel(ref: string = bundledModelDir()): Promise<FerModel> {
  return loadModelWeights(await readModelFolder(ref));
}

async function loadMember(config: ModelConfig, configPath: string, weightsPath: string, member: number, ref: string): Promise<FerModel> {
  if (config.method !== 'ensemble') throw new Error(`${ref}: ${configPath} is a ${config.method} model, not an ensemble (#N picks member N of an ensemble)`);
  const { members } = ensembleOptions(config, configPath);
  if (!(member >= 1 && member <= members.length)) throw new Error(`${ref}: the ensemble has members 1 to ${members.length}`);
  const provenance = (config.info?.ensemble as { info?: Record<string, unknown> }[] | undefined)?.[member - 1]?.info;
  const model = createModel({ ...members[member - 1], ...(provenance ? { info: provenance } : {}) });
  const { tensors } = await loadSafetensors(weightsPath);
  try {
    model.loadStateDict(memberTensors(tensors, member, weightsPath), { source: `${weightsPath} (member ${member})` });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  model.eval();
  return model;
}
