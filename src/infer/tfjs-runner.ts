// ModelRunner on TF.js: the model's own forward pass in eval mode on the running backend (wasm by
// default). Every call is tidy, so a long-running server does not leak tensors.
import { initEngine, tf } from '../engine/backend.js';
import { outputProbs } from '../models/methods.js';
import type { FerModel, ModelConfig } from '../models/model.js';
import { loadModelWeights, type ModelFolder } from '../models/io.js';
import type { ModelRunner, RunnerOutput } from './runner.js';

export class TfjsRunner implements ModelRunner {
  readonly engine: string;

  constructor(readonly model: FerModel) {
    model.eval();
    this.engine = `tfjs-${tf.getBackend()}`;
  }

  get config(): ModelConfig {
    return this.model.config;
  }

  async run(x: Float32Array, shape: number[]): Promise<RunnerOutput> {
    const size = shape.reduce((a, b) => a * b, 1);
    if (x.length !== size) throw new Error(`runner input holds ${x.length} values; shape [${shape}] needs ${size}`);
    const { probs, confidence, embedding } = tf.tidy(() => {
      const out = this.model.forward(tf.tensor(x, shape), false);
      return { probs: outputProbs(out, tf), confidence: out.confidence, embedding: out.embedding };
    });
    try {
      const result: RunnerOutput = { probs: (await probs.data()) as Float32Array };
      if (confidence) result.confidence = (await confidence.data()) as Float32Array;
      if (embedding) {
        result.embedding = (await embedding.data()) as Float32Array;
        result.embeddingDim = embedding.shape[1];
      }
      return result;
    } finally {
      probs.dispose();
      confidence?.dispose();
      embedding?.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A TF.js runner for a checked model folder (readModelFolder); TF.js starts here, when first needed. */
export async function openTfjsRunner(folder: ModelFolder): Promise<TfjsRunner> {
  await initEngine();
  return new TfjsRunner(await loadModelWeights(folder));
}
