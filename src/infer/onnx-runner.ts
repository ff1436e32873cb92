// ModelRunner on onnxruntime-node: runs a model folder's model.onnx (written by `ferkit export
// --format onnx`) with every graph optimisation on and one intra-op thread per core (not spinning). Same input
// as every runner: normalised NHWC images [N, H, W, C] (clip models: clips [N, T, H, W, C]) as a
// flat Float32Array.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { ONNX_FILE, WEIGHTS_FILE } from '../models/files.js';
import type { ModelFolder } from '../models/io.js';
import type { ModelConfig } from '../models/model.js';
import { fingerprintFile } from '../nn/checkpoint.js';
import { importOrt, sessionOptions } from '../onnx/runtime.js';
import { sampleShape, type ModelRunner, type RunnerOutput } from './runner.js';

/** metadata_props key: the fingerprint of the weights a model.onnx was exported from. */
export const ONNX_WEIGHTS_KEY = 'ferkit.weights';

/** An ONNX model's metadata_props, read from the top level of the protobuf without decoding the
 *  graph (ModelProto field 14; other fields are skipped by their wire type). */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (p >= bytes.length) throw new Error('truncated ONNX protobuf');
      const b = bytes[p++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  const out: Record<string, string> = {};
  while (p < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      if (field === 14) {
        const e = onnxProto.onnx.StringStringEntryProto.decode(bytes.subarray(p, p + len));
        out[e.key] = e.value;
      }
      p += len;
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
  return out;
}

/** Refuses a model.onnx exported from other weights than the folder's model.safetensors (a
 *  retrained model whose ONNX copy was not exported again), naming the command that fixes it. */
async function checkNotStale(dir: string, file: string, bytes: Uint8Array): Promise<void> {
  const weights = join(dir, WEIGHTS_FILE);
  if (!existsSync(weights)) return;
  let stamped: string | undefined;
  try {
    stamped = onnxMetadata(bytes)[ONNX_WEIGHTS_KEY];
  } catch {
    stamped = undefined;
  }
  const actual = await fingerprintFile(weights);
  if (stamped === actual) return;
  const why = stamped === undefined ? 'it records no weights fingerprint (exported by an older ferkit), so it may not match them' : 'it was exported from other weights (the model was saved again since)';
  throw new Error(`${file} is stale: ${why}; export it again with \`ferkit export --model ${dir} --format onnx\``);
}

export interface OnnxRunnerOptions {
  /** Intra-op threads (default: the machine's cores). */
  threads?: number;
  /** Also return the embedding output when the graph has one. */
  embedding?: boolean;
  /** How errors name the model (default: its path, or <ONNX bytes>). */
  label?: string;
}

export class OnnxRunner implements ModelRunner {
  readonly engine = 'onnxruntime';
  private readonly fetches: string[];

  private constructor(
    readonly config: ModelConfig,
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    private readonly file: string,
    options: OnnxRunnerOptions,
  ) {
    if (!session.inputNames.includes('input')) throw new Error(`${file}: not a ferkit ONNX model (no "input" input; inputs: ${session.inputNames.join(', ')})`);
    if (!session.outputNames.includes('probs')) throw new Error(`${file}: not a ferkit ONNX model (no "probs" output; outputs: ${session.outputNames.join(', ')})`);
    this.fetches = ['probs'];
    if (session.outputNames.includes('confidence')) this.fetches.push('confidence');
    if (options.embedding && session.outputNames.includes('embedding')) this.fetches.push('embedding');
  }

  /** Opens an ONNX file (or bytes) for a model with the given config. */
  static async create(model: string | Uint8Array, config: ModelConfig, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
    const ort = await importOrt();
    const opts = sessionOptions(options.threads);
    const label = options.label ?? (typeof model === 'string' ? model : '<ONNX bytes>');
    let session: Ort.InferenceSession;
    try {
      // (two calls: the overloads take a path or bytes, not their union)
      session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
    } catch (e) {
      throw new Error(`${label}: onnxruntime cannot load it: ${(e as Error).message.split('\n')[0]}`);
    }
    return new OnnxRunner(config, ort, session, label, options);
  }

  async run(x: Float32Array, shape: number[]): Promise<RunnerOutput> {
    const want = sampleShape(this.config.input);
    if (shape.length !== want.length + 1 || shape.slice(1).some((d, i) => d !== want[i])) {
      const layout = this.config.input.kind === 'clip' ? 'clips of NHWC frames' : 'NHWC';
      throw new Error(`${this.file}: input shape [${shape}] does not match the model's [N, ${want.join(', ')}] (${layout})`);
    }
    if (x.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${this.file}: input has ${x.length} values for shape [${shape}]`);
    const input = new this.ort.Tensor('float32', x, shape);
    const out = await this.session.run({ input }, this.fetches);
    const data = (name: string) => out[name].data as Float32Array;
    const result: RunnerOutput = { probs: data('probs') };
    if (out.confidence) result.confidence = data('confidence');
    if (out.embedding) {
      result.embedding = data('embedding');
      result.embeddingDim = out.embedding.dims[1];
    }
    return result;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The ONNX runner of a checked model folder (config.json read by readModelFolder) holding model.onnx. */
export async function openOnnxRunner({ dir, member, config }: ModelFolder, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  if (member !== undefined) throw new Error(`${dir}#${member}: an ensemble member runs on TF.js (its folder's ${ONNX_FILE} is the whole ensemble)`);
  const file = join(dir, ONNX_FILE);
  if (!existsSync(file)) throw new Error(`${file}: missing (export it with \`ferkit export --model ${dir} --format onnx\`)`);
  const bytes = await readFile(file);
  await checkNotStale(dir, file, bytes);
  return OnnxRunner.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), config, { ...options, label: file });
}
