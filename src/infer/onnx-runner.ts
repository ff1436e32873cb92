// ModelRunner on onnxruntime-node: runs a model folder's model.onnx (written by `ferkit export
// --format onnx`) with every graph optimisation on and one intra-op thread per core. Same input
// as every runner: normalised NHWC images [N, H, W, C] (clip models: clips [N, T, H, W, C]) as a
// flat Float32Array.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import type { ModelConfig } from '../models/model.js';
import { sampleShape, type ModelRunner, type RunnerOutput } from './runner.js';

export const ONNX_MODEL_FILE = 'model.onnx';

export interface OnnxRunnerOptions {
  /** Intra-op threads (default: the machine's cores). */
  threads?: number;
  /** Also return the embedding output when the graph has one. */
  embedding?: boolean;
}

/** onnxruntime-node, an optional dependency: npm leaves it out where its install script cannot
 *  fetch its extra files (from nuget.org, beyond the npm registry). */
async function importOrt(): Promise<typeof Ort> {
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
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
    };
    const label = typeof model === 'string' ? model : '<ONNX bytes>';
    let session: Ort.InferenceSession;
    try {
      // (two calls: the overloads take a path or bytes, not their union)
      session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
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
  return OnnxRunner.create(file, config, options);
}
