// The contract every FER model meets, whatever the method: a Module with a JSON config that says
// how to feed it (input kind, size, channels, normalisation) and what its outputs mean (classes),
// and a forward pass that returns logits plus whatever the method adds (embedding, confidence).
// Training objectives live beside each method; inference, export and reports use only this.
import type { tf } from '../engine/backend.js';
import type { Module } from '../nn/module.js';
import type { InputSpec } from '../data/types.js';

// The input contract lives with the data that feeds it (data/ sits below models/).
export type { InputKind, InputSpec } from '../data/types.js';

export interface ModelConfig {
  format: 'ferkit-model';
  version: 1;
  /** Method name in the methods registry (`ce`, `scn`, `arbex`, `ial`, `patternmap`). */
  method: string;
  /** Backbone name in the backbones registry and its options (JSON-safe). */
  backbone: string;
  backboneOptions?: Record<string, unknown>;
  /** The method's own hyper-parameters that shape the network (heads, anchors ...). */
  methodOptions?: Record<string, unknown>;
  input: InputSpec;
  /** Output classes in logit order (canonical names: angry, disgust, ...). */
  classes: string[];
  /** Free-form provenance: dataset, epochs, validation scores at save time. */
  info?: Record<string, unknown>;
  /** Fingerprint of the weights saved beside this config (nn/checkpoint.ts fingerprintTensors);
   *  model.onnx records the one it was exported from. */
  fingerprint?: string;
}

export interface ModelOutput {
  /** [N, C] raw scores. */
  logits: tf.Tensor2D;
  /** [N, C] probabilities, when the method's prediction is not softmax(logits) (ARBEx). */
  probs?: tf.Tensor2D;
  /** [N] confidence in the prediction, for methods that estimate one (ARBEx). */
  confidence?: tf.Tensor1D;
  /** [N, D] the embedding the classifier sees (t-SNE, cluster scores). */
  embedding?: tf.Tensor2D;
  /** Method-specific extras (SCN importance weights, IAL aux logits, pattern-map masks ...). */
  extras?: Record<string, tf.Tensor>;
}

export interface FerModel extends Module {
  readonly config: ModelConfig;
  /** Images NHWC [N, H, W, C] (or clips [N, T, H, W, C]), already normalised per config.input. */
  forward(x: tf.Tensor, training?: boolean): ModelOutput;
  /** Starting weights from another kind of model (`--init` of an image model into a clip model's
   *  frame encoder): the source's tensors renamed to this model's keys (the parts it does not
   *  give start fresh) and a note saying what was taken; undefined when `source` is not such a
   *  model, so the caller goes on as for weights of this architecture. */
  adoptWeights?(tensors: Record<string, tf.Tensor>, source: { path: string; config?: ModelConfig }): { tensors: Record<string, tf.Tensor>; note: string } | undefined;
}

/** Disposes every tensor of an output. */
export function disposeOutput(out: ModelOutput): void {
  const ts: tf.Tensor[] = [out.logits];
  if (out.probs) ts.push(out.probs);
  if (out.confidence) ts.push(out.confidence);
  if (out.embedding) ts.push(out.embedding);
  for (const t of Object.values(out.extras ?? {})) ts.push(t);
  for (const t of ts) t.dispose();
}
