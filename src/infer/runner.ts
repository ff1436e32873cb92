// What runs a model's forward pass for inference, whatever engine is behind it (TF.js here, ONNX
// Runtime in onnx-runner.ts). Inputs are already preprocessed (preprocess.ts): the runner only
// maps a float batch to per-class probabilities.
import type { InputSpec, ModelConfig } from '../models/model.js';

export interface RunnerOutput {
  /** [N × C] row-major probabilities over config.classes. */
  probs: Float32Array;
  /** [N] the method's confidence (ARBEx), when it has one. */
  confidence?: Float32Array;
  /** [N × D] embeddings, when asked for and available. */
  embedding?: Float32Array;
  embeddingDim?: number;
}

export interface ModelRunner {
  readonly config: ModelConfig;
  /** 'tfjs-wasm', 'tfjs-node', 'onnxruntime' ... */
  readonly engine: string;
  /** x: normalised NHWC images [N, H, W, C] (clips [N, T, H, W, C]) as a flat array. */
  run(x: Float32Array, shape: number[]): Promise<RunnerOutput>;
  dispose(): Promise<void> | void;
}

/** One sample's shape as runners take it: [H, W, C] for an image, [T, H, W, C] for a clip. */
export function sampleShape(input: InputSpec): number[] {
  const image = [input.size[0], input.size[1], input.channels];
  return input.kind === 'clip' ? [input.frames ?? 0, ...image] : image;
}
