// What fine-tuning a pretrained trunk needs beyond plain training: the trunk's pretrained weights,
// frozen parts (`--freeze stem,stage1`: no gradient, BatchNorm statistics kept), BatchNorm running
// statistics frozen or not (`--bn frozen|train`), and a lower learning rate for the trunk than for
// the head (two parameter groups). Applied the same way in every data-parallel replica.
import { tf as tfns, type tf } from '../engine/backend.js';
import type { Module } from '../nn/module.js';
import { BatchNorm } from '../nn/norm.js';
import { Linear } from '../nn/linear.js';
import { headColumnsByName, type Backbone, type PretrainedHead } from '../models/backbones/backbone.js';
import type { GroupSpec } from './optim.js';

export interface FineTuneOptions {
  /** Load the backbone's pretrained weights first. */
  pretrained?: boolean;
  /** Backbone parts to freeze, by the names its `parts()` gives. */
  freeze?: string[];
  /** 'frozen': the backbone's BatchNorms normalise with their running statistics and do not
   *  update them; 'train' (default): batch statistics, as usual. */
  bn?: 'train' | 'frozen';
  /** The backbone's lr is the base lr times this (default 1: one group). */
  backboneLrScale?: number;
}

const isBackbone = (m: Module): m is Backbone & Module => 'featureDim' in m && typeof (m as unknown as Partial<Backbone>).features === 'function';

/** The model's backbones: modules that are backbones and do not sit inside another one. */
export function backbonesOf(model: Module): { path: string; backbone: Backbone }[] {
  const out: { path: string; backbone: Backbone }[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!isBackbone(m) || m === model || out.some((o) => path.startsWith(o.path + '.'))) continue;
    out.push({ path, backbone: m });
  }
  return out;
}

const batchNorms = (m: Module): BatchNorm[] => m.namedModules().flatMap(([, x]) => (x instanceof BatchNorm ? [x] : []));

/** Applies the options to a fresh model; returns the parameter groups its optimizer should take
 *  (one group unless the backbone's lr is scaled), with each group's lr scale, and notes on what
 *  --pretrained loaded beyond the trunk (a pretrained classifier) for the log. */
export function applyFineTune(model: Module, o: FineTuneOptions, source = 'the model'): { groups: (GroupSpec & { lrScale: number })[]; notes: string[] } {
  const found = backbonesOf(model);
  const notes: string[] = [];
  const needsBackbone = o.pretrained || (o.freeze?.length ?? 0) > 0 || o.bn === 'frozen' || (o.backboneLrScale ?? 1) !== 1;
  if (needsBackbone && found.length === 0) throw new Error(`${source} has no backbone to pretrain, freeze or scale`);
  for (const { backbone } of found) {
    if (o.pretrained) {
      if (!backbone.loadPretrained) throw new Error(`backbone ${backbone.constructor.name} has no pretrained weights (--pretrained); face-resnet and face-expression have`);
      backbone.loadPretrained();
      const head = backbone.pretrainedHead?.();
      if (head) notes.push(loadPretrainedHead(model, backbone, head));
    }
    if (o.bn === 'frozen') for (const bn of batchNorms(backbone)) bn.frozenStats = true;
    if (o.freeze?.length) {
      const parts = new Map(backbone.parts?.() ?? []);
      for (const name of o.freeze) {
        const mods = parts.get(name);
        if (!mods) throw new Error(`--freeze ${name}: backbone ${backbone.constructor.name} has no part "${name}"; it has ${[...parts.keys()].join(', ') || 'none'}`);
        for (const m of mods) {
          m.requiresGrad(false);
          for (const bn of batchNorms(m)) bn.frozenStats = true;
        }
      }
    }
  }
  const trainable = model.trainableParameters();
  const scale = o.backboneLrScale ?? 1;
  if (!(scale >= 0)) throw new Error(`--backbone-lr-scale must be ≥ 0, got ${scale}`);
  if (scale === 1) return { groups: [{ params: trainable, lrScale: 1 }], notes };
  const inBackbone = new Set<tf.Variable>(found.flatMap(({ backbone }) => (backbone as unknown as Module).trainableParameters()));
  return {
    groups: [
      { params: trainable.filter((v) => !inBackbone.has(v)), lrScale: 1 },
      { params: trainable.filter((v) => inBackbone.has(v)), lrScale: scale },
    ],
    notes,
  };
}

/** Starts the model's classifier (`fc` on the backbone's features) from the backbone's pretrained
 *  one, class by class by name; classes the pretrained head lacks (contempt) keep their init. */
function loadPretrainedHead(model: Module, backbone: Backbone, head: PretrainedHead): string {
  const fc = (model as unknown as { fc?: unknown }).fc;
  const classes = (model as unknown as { config?: { classes?: string[] } }).config?.classes;
  if (!(fc instanceof Linear) || !classes || fc.inFeatures !== backbone.featureDim || fc.outFeatures !== classes.length || !fc.bias) {
    return 'the pretrained classifier was not loaded: the model has no linear head on the backbone features';
  }
  if (classes.every((c) => !head.classes.includes(c))) return 'the pretrained classifier was not loaded: it shares no class with the model';
  const { weight, bias, fresh } = headColumnsByName(fc, classes, head);
  tfns.tidy(() => {
    fc.weight.assign(tfns.tensor(weight, fc.weight.shape));
    fc.bias!.assign(tfns.tensor(bias));
  });
  return `the classifier starts from the pretrained one${fresh.length ? ` (${fresh.join(', ')}: not in it, initialised as usual)` : ''}`;
}

/**
 * Re-expresses the backbone's BatchNorms around the statistics of `x` (images, or clips whose
 * frames the backbone encodes) without changing the eval-mode function: each gets running
 * mean/var = the batch moments of its input, with γ and β rescaled to compensate. A pretrained trunk whose BatchNorms were folded into affine layers
 * (dlib's) then trains with batch statistics from a sensible start: on a batch like `x`,
 * training mode computes what eval mode does.
 */
export function calibrateBatchNorms(backbone: Module, x: tf.Tensor): void {
  // Clips [N, T, H, W, C]: the backbone is their frame encoder and sees N·T frames.
  const images = x.rank === 5 ? tfns.reshape(x, [x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)]) : x;
  const bns = batchNorms(backbone);
  const seen = new Map<BatchNorm, { mean: tf.Tensor; variance: tf.Tensor }>();
  const originals = bns.map((bn) => bn.forward.bind(bn));
  bns.forEach((bn, i) => {
    bn.forward = (input: tf.Tensor) => {
      const axes = Array.from({ length: input.rank - 1 }, (_, k) => k);
      const { mean, variance } = tfns.moments(input, axes);
      seen.set(bn, { mean: tfns.keep(mean), variance: tfns.keep(variance) });
      return originals[i]!(input);
    };
  });
  const wasTraining = backbone.training;
  try {
    backbone.eval();
    tfns.tidy(() => {
      (backbone as unknown as Backbone).features(images);
    });
  } finally {
    bns.forEach((bn) => delete (bn as { forward?: unknown }).forward);
    backbone.train(wasTraining);
  }
  tfns.tidy(() => {
    for (const bn of bns) {
      const m = seen.get(bn);
      if (!m || !bn.weight || !bn.bias) continue;
      const oldStd = tfns.sqrt(tfns.add(bn.runningVar, bn.eps));
      const newStd = tfns.sqrt(tfns.add(m.variance, bn.eps));
      const scale = tfns.div(bn.weight, oldStd);
      bn.bias.assign(tfns.add(bn.bias, tfns.mul(scale, tfns.sub(m.mean, bn.runningMean))));
      bn.weight.assign(tfns.mul(scale, newStd));
      bn.runningMean.assign(m.mean);
      bn.runningVar.assign(m.variance);
    }
  });
  for (const m of seen.values()) tfns.dispose([m.mean, m.variance]);
  if (images !== x) images.dispose();
}
