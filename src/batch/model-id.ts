// Which model a batch runs: its folder name and a fingerprint of the files that decide its outputs
// (config.json, the weights *.safetensors, the ONNX graph *.onnx). Results in one database, and
// jobs taken by queue workers, must come from one fingerprint: two folders with the same name but
// other weights do not mix. Reads files only (no TF.js), so submitting to a queue stays light.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CONFIG_FILE, bundledModelDir, parseModelRef } from '../models/files.js';

export interface ModelIdentity {
  /** The model folder's name (`name#N` for an ensemble member). */
  name: string;
  /** sha256 (hex) of the files that decide the outputs. */
  fingerprint: string;
  /** Its expressions, in output order. */
  classes: string[];
}

/** Short form for messages. */
export const describeModel = (m: Pick<ModelIdentity, 'name' | 'fingerprint'>): string => `${m.name} (weights ${m.fingerprint.slice(0, 12)})`;

const decidesOutputs = (file: string) => file === CONFIG_FILE || file.endsWith('.safetensors') || file.endsWith('.onnx');

export async function modelIdentity(ref: string = bundledModelDir()): Promise<ModelIdentity> {
  const { dir, member } = parseModelRef(ref);
  const config = join(dir, CONFIG_FILE);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such model folder`);
  if (!existsSync(config)) throw new Error(`${config}: missing (not a ferkit model folder)`);
  let classes: unknown;
  try {
    classes = (JSON.parse(readFileSync(config, 'utf8')) as { classes?: unknown }).classes;
  } catch (e) {
    throw new Error(`${config}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) throw new Error(`${config}: classes must list at least two names`);
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter(decidesOutputs).sort()) {
    hash.update(`${file}\0`);
    for await (const chunk of createReadStream(join(dir, file))) hash.update(chunk as Buffer);
  }
  if (member !== undefined) hash.update(`member\0${member}`);
  const name = basename(resolve(dir)) + (member !== undefined ? `#${member}` : '');
  return { name, fingerprint: hash.digest('hex'), classes: classes as string[] };
}
