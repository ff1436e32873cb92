// Model folder names and references, without the model code: light enough for commands that only
// look at a model's files (fingerprints, classes) and must not load TF.js.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { tf } from '../engine/backend.js';
import { packageRoot } from '../util/package-root.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
/** The model's ONNX graph (`ferkit export --format onnx`), run by ONNX Runtime. */
export const ONNX_FILE = 'model.onnx';
/** The model ferkit uses when none is given (rebuilt from FER2013 by `scripts/train-bundled.sh`). */
const BUNDLED_MODEL = 'fer2013-cnn';

/** Folder of a model that ships with ferkit (`models/<name>`). */
export function bundledModelDir(name = BUNDLED_MODEL): string {
  return join(packageRoot(), 'models', name);
}

/** A model reference: a folder, or `DIR#N` for member N (from 1) of the ensemble saved in DIR,
 *  as a model of its own (to fine-tune, evaluate or export one member). */
export function parseModelRef(ref: string): { dir: string; member?: number } {
  const m = /^(.+)#(\d+)$/.exec(ref);
  return m && !existsSync(ref) ? { dir: m[1], member: Number(m[2]) } : { dir: ref };
}

/** Member `member`'s weights out of an ensemble's, named as in the member's own model. */
export function memberTensors(tensors: Record<string, tf.Tensor>, member: number, source: string): Record<string, tf.Tensor> {
  const prefix = `members.${member - 1}.`;
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  if (Object.keys(out).length === 0) throw new Error(`${source}: no weights of ensemble member ${member}`);
  return out;
}
