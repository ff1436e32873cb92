// An ensemble of fer-cnn classifiers folded into one fer-cnn classifier. Every layer of fer-cnn
// acts on each channel separately except the convs and the linear head, so putting the members'
// channels side by side (the shared input conv concatenated, every later conv block-diagonal, BN
// statistics concatenated, the heads stacked and scaled by the members' weights) gives a single
// network whose logits are exactly the weighted mean of the members' logits. The result is an
// ordinary model folder: predict, eval, ONNX export and fine-tuning need nothing new.
//
// Mirroring folds horizontal-flip test-time augmentation in the same way: fer-cnn is equivariant
// to a horizontal flip when every conv filter is flipped too (symmetric padding, stride 1; 2x2
// pools on even widths; global average pooling), so f(flip(x)) is f with flipped filters, one
// more member. Every engine then gets the TTA accuracy without running the model twice.
import { tf } from '../../engine/backend.js';
import type { FerModel, ModelConfig } from '../model.js';
import { createModel } from '../io.js';
import { poolsBeforeStage } from '../backbones/fer-cnn.js';
import { checkSameInputAndClasses, relativeWeights } from '../ensemble/build.js';
import { sameJson } from '../../util/same-json.js';

export interface FoldOptions {
  /** Relative weight of each member's logits, scaled to sum to 1 (default: equal). */
  weights?: number[];
  /** Where each member came from, for the folded model's provenance (default: "member i"). */
  names?: string[];
  /** Add each member's mirror image (flip TTA folded in), sharing the member's weight. */
  mirror?: boolean;
}

function checkMembers(models: readonly FerModel[], names: string[], mirror: boolean): void {
  if (models.length < (mirror ? 1 : 2)) throw new Error(`an ensemble needs at least two models (or one with mirror), got ${models.length}`);
  models.forEach(({ config: c }, i) => {
    if (c.method !== 'ce' || c.backbone !== 'fer-cnn') {
      throw new Error(`${names[i]}: only cross-entropy models on the fer-cnn backbone fold into one network (this is ${c.method} on ${c.backbone})`);
    }
  });
  checkSameInputAndClasses(models, names);
}

/** The conv widths of a fer-cnn model, stage by stage, read from its weights. */
function stageWidths(model: FerModel): number[][] {
  const widths: number[][] = [];
  for (const [name, v] of model.namedParameters()) {
    const m = /^backbone\.stage(\d+)\.(\d+)\.conv\.weight$/.exec(name);
    if (!m) continue;
    const s = Number(m[1]) - 1;
    (widths[s] ??= [])[Number(m[2])] = v.shape[3]!;
  }
  return widths;
}

/** Refuses inputs whose width some 2x2 pool would halve with a remainder: there a flip shifts the
 *  pooling windows and the mirror image is no longer the flipped network. */
function checkMirrorable(model: FerModel, stageCount: number): void {
  let [h, w] = model.config.input.size;
  for (let s = 1; s < stageCount; s++) {
    if (!poolsBeforeStage(s, h, w)) break;
    if (w % 2) throw new Error(`mirroring needs even widths at every pooling; input ${model.config.input.size.join('x')} is ${w} wide before stage ${s + 1}`);
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
}

/** Folds fer-cnn classifiers into one whose logits are Σ wᵢ·logitsᵢ / Σ wᵢ. Members are not changed. */
export function foldEnsemble(models: readonly FerModel[], options: FoldOptions = {}): FerModel {
  const names = options.names ?? models.map((_, i) => `member ${i + 1}`);
  checkMembers(models, names, Boolean(options.mirror));
  const weights = relativeWeights(options.weights, models.length);
  const widths = models.map(stageWidths);
  widths.forEach((w, i) => {
    if (!sameJson(w.map((s) => s.length), widths[0].map((s) => s.length))) {
      throw new Error(`${names[i]}: stage layout ${JSON.stringify(w)} does not match ${names[0]}'s ${JSON.stringify(widths[0])} (members need the same number of convs per stage)`);
    }
  });
  if (options.mirror) checkMirrorable(models[0], widths[0].length);
  const copies = options.mirror ? 2 : 1;
  // The folded network's members: each model, then (mirror) its flipped copy.
  const sources = models.flatMap((_, i) => Array.from({ length: copies }, (_, c) => ({ i, flip: c === 1, weight: weights[i] / copies })));
  const stages = widths[0].map((s, si) => s.map((_, k) => copies * widths.reduce((n, w) => n + w[si][k], 0)));
  const base = models[0].config;
  const config: ModelConfig = {
    ...base,
    backboneOptions: { stages, widthMultiplier: 1 },
    info: {
      description: `ensemble of ${models.length} fer-cnn classifiers folded into one network (logits = weighted mean of the members' logits${options.mirror ? ', each also on the mirrored face: flip TTA built in' : ''})`,
      ensemble: models.map((m, i) => ({ source: names[i], weight: weights[i], stages: widths[i], info: m.config.info ?? {} })),
      mirrored: Boolean(options.mirror),
    },
  };
  const folded = createModel(config);
  const params = models.map((m) => new Map([...m.namedParameters(), ...m.namedBuffers()]));
  const get = ({ i, flip }: (typeof sources)[number], name: string): tf.Tensor => {
    const v = params[i].get(name);
    if (!v) throw new Error(`${names[i]}: no weight "${name}"`);
    return flip && v.rank === 4 ? tf.reverse(v, 1) : v; // filters [kh, kw, cin, cout]: flip kw
  };
  const firstConv = 'backbone.stage1.0.conv.weight';
  tf.tidy(() => {
    for (const [name, v] of [...folded.namedParameters(), ...folded.namedBuffers()]) {
      const parts = sources.map((src) => get(src, name));
      let value: tf.Tensor;
      if (name === firstConv) value = tf.concat(parts, 3); // every member reads the same input
      else if (v.rank === 4) {
        // Block-diagonal: member i's filters see only member i's input channels.
        const cin = parts.reduce((n, p) => n + p.shape[2]!, 0);
        let offset = 0;
        value = tf.concat(
          parts.map((p) => {
            const padded = tf.pad(p, [[0, 0], [0, 0], [offset, cin - offset - p.shape[2]!], [0, 0]]);
            offset += p.shape[2]!;
            return padded;
          }),
          3,
        );
      } else if (name === 'fc.weight') value = tf.concat(parts.map((p, k) => tf.mul(p, sources[k].weight)), 0);
      else if (name === 'fc.bias') value = tf.addN(parts.map((p, k) => tf.mul(p, sources[k].weight)));
      else if (v.rank === 1) value = tf.concat(parts, 0); // BN affine and running statistics
      else if (v.rank === 0) value = parts[0]; // num_batches_tracked: bookkeeping only
      else throw new Error(`foldEnsemble: do not know how to fold "${name}" (shape ${v.shape})`);
      if (!sameJson(value.shape, v.shape)) throw new Error(`foldEnsemble: "${name}" folds to shape ${value.shape}, the network has ${v.shape}`);
      v.assign(value.dtype === v.dtype ? value : tf.cast(value, v.dtype));
    }
  });
  folded.eval();
  return folded;
}
