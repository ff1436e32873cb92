// FerModel → ONNX. The graph takes what the runner contract takes: `input`, normalised NHWC
// images [N, H, W, C] or clips [N, T, H, W, C] (N dynamic), transposes once to NCHW (ONNX's
// convolution layout, which onnxruntime's kernels are built for; a clip's frames become a batch
// of N·T frames, clip-major) and returns `logits` and `probs` ([N, classes]), plus
// `embedding` and `confidence` when the model has them. Always the eval-mode forward (running
// BatchNorm statistics, no dropout), whatever mode the model is in.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ONNX_FILE } from '../../models/files.js';
import type { FerModel, InputKind, InputSpec } from '../../models/model.js';
import { fingerprintTensors } from '../../nn/checkpoint.js';
import { ONNX_WEIGHTS_KEY } from '../../infer/onnx-runner.js';
import { modelEmitterFor } from '../../models/methods.js';
import { encodeModel, ExportContext, foldBatchNorms, GraphBuilder, type Value } from '../../onnx/index.js';
import { quantizeWeights, type QuantizeMode } from './quantize.js';
import { splitBlockDiagonalConvs } from './split-blocks.js';

export interface OnnxExportOptions {
  /** Fold BatchNorm into the preceding conv (default true). */
  foldBatchNorm?: boolean;
  /** Split block-diagonal convs (folded ensembles) into one conv per block (default true). */
  splitBlocks?: boolean;
  /** 'int8': int8 weights with per-channel scales, float activations (quantize.ts). Default: none. */
  quantize?: QuantizeMode;
}

/** Per input kind: the graph's `input` (the runners' layout) and the NCHW value model emitters get. */
const inputEmitters: Record<InputKind, (g: GraphBuilder, input: InputSpec) => Value> = {
  image: (g, { size: [h, w], channels }) => {
    const x = g.input('input', [-1, h, w, channels]);
    return g.node('Transpose', [x.name], [-1, channels, h, w], { perm: [0, 3, 1, 2] }, 'input/to_nchw');
  },
  clip: (g, { size: [h, w], channels, frames }) => {
    const x = g.input('input', [-1, frames!, h, w, channels]);
    const flat = g.node('Reshape', [x.name, g.int64s('input/frames_shape', [-1, h, w, channels])], [-1, h, w, channels], {}, 'input/frames');
    return g.node('Transpose', [flat.name], [-1, channels, h, w], { perm: [0, 3, 1, 2] }, 'input/to_nchw');
  },
};

/** The model's graph before encoding (tests and passes inspect it). */
export function buildOnnxGraph(model: FerModel, options: OnnxExportOptions = {}): GraphBuilder {
  const { input } = model.config;
  const emit = modelEmitterFor(model);
  const g = new GraphBuilder();
  const ctx = new ExportContext(g, model);
  const out = emit(ctx, model, inputEmitters[input.kind](g, input));
  const classes = model.config.classes.length;
  if (out.logits.shape.length !== 2 || out.logits.shape[1] !== classes) {
    throw new Error(`ONNX export: ${model.constructor.name} emitted logits of shape [${out.logits.shape}], expected [N, ${classes}]`);
  }
  const probs = out.probs ?? g.node('Softmax', [out.logits.name], out.logits.shape, { axis: -1 }, 'softmax');
  g.output(out.logits, 'logits');
  g.output(probs, 'probs');
  if (out.embedding) g.output(out.embedding, 'embedding');
  if (out.confidence) g.output(out.confidence, 'confidence');
  if (options.foldBatchNorm ?? true) foldBatchNorms(g);
  if (options.splitBlocks ?? true) splitBlockDiagonalConvs(g);
  if (options.quantize === 'int8') quantizeWeights(g);
  return g;
}

/** ONNX model bytes; the model's config travels in metadata_props["ferkit.config"], the
 *  fingerprint of its weights in metadata_props["ferkit.weights"]. */
export function exportOnnx(model: FerModel, options: OnnxExportOptions = {}): Uint8Array {
  const g = buildOnnxGraph(model, options);
  const { fingerprint: _saved, ...config } = model.config;
  return encodeModel(g, {
    graphName: `ferkit-${model.config.method}-${model.config.backbone}`,
    docString: `ferkit FER model: input = normalised NHWC ${model.config.input.kind === 'clip' ? 'clips [N, T, H, W, C]' : 'images [N, H, W, C]'} (see ferkit.config input), outputs logits and probs`,
    metadata: { 'ferkit.config': JSON.stringify(config), [ONNX_WEIGHTS_KEY]: fingerprintTensors(model.stateDict()), ...(options.quantize ? { 'ferkit.quantize': options.quantize } : {}) },
  });
}

/** Writes `model.onnx` into a model folder (or to `path` when it ends in .onnx); returns the file. */
export async function writeOnnx(model: FerModel, dirOrFile: string, options: OnnxExportOptions = {}): Promise<string> {
  const file = dirOrFile.endsWith('.onnx') ? dirOrFile : join(dirOrFile, ONNX_FILE);
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, exportOnnx(model, options));
  await rename(tmp, file);
  return file;
}
