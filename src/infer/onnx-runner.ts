// ModelRunner on onnxruntime-node: runs a model folder's model.onnx (written by `ferkit export
// --format onnx`) with every graph optimisation on and one intra-op thread per core (not spinning). Same input
// as every runner: normalised NHWC images [N, H, W, C] (clip models: clips [N, T, H, W, C]) as a
// flat Float32Array.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { ModelConfig } from '../models/model.js';
import { fingerprintFile } from '../nn/checkpoint.js';
import { sampleShape, type ModelRunner, type RunnerOutput } from './runner.js';

export const ONNX_MODEL_FILE = 'model.onnx';
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
  const weights = join(dir, 'model.safetensors');
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

/** Session options for ferkit's graphs: every optimisation, `threads` intra-op threads (default:
 *  FERKIT_ORT_THREADS, else the cores) that sleep between operators instead of spinning, since the
 *  machine is often shared (other processes, the recognizer's own decode and detector threads):
 *  spinning threads took CPU from them and made small graphs slower under load, not faster. */
export function sessionOptions(threads = defaultThreads()): Ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function defaultThreads(): number {
  const n = Number(process.env.FERKIT_ORT_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/** onnxruntime-node, an optional dependency: npm leaves it out where its install script cannot
 *  fetch its extra files (from nuget.org, beyond the npm registry). */
export async function importOrt(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new Error('onnxruntime-node is not installed (an optional dependency: npm drops it when its install script cannot download its CUDA files; `ONNXRUNTIME_NODE_INSTALL=skip npm install` keeps it, CPU only)');
  }
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

/** The ONNX runner of a model folder holding config.json and model.onnx. */
export async function loadOnnxRunner(dir: string, options: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  const file = join(dir, ONNX_MODEL_FILE);
  if (!existsSync(file)) throw new Error(`${file}: missing (export it with \`ferkit export --model ${dir} --format onnx\`)`);
  const configPath = join(dir, 'config.json');
  let config: ModelConfig;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8')) as ModelConfig;
  } catch (e) {
    throw new Error(`${configPath}: cannot read the model config (${(e as Error).message})`);
  }
  if (config?.format !== 'ferkit-model' || !['image', 'clip'].includes(config.input?.kind)) {
    throw new Error(`${configPath}: not a ferkit model config (format "ferkit-model", input kind image or clip)`);
  }
  const bytes = await readFile(file);
  await checkNotStale(dir, file, bytes);
  return OnnxRunner.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), config, { ...options, label: file });
}
