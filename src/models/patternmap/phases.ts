// The pattern-map method's three-phase epoch, run by the trainer (train/trainer.ts): 1. EFE alone
// over the training set in shuffled batches (L_EFE); 2. EFE + EMR on P×K triplet batches with the
// trunk's first convs frozen (L_EMR); 3. EPMG on triplet batches with the EFE frozen (L_EPMG).
// Each phase has its own optimizer and lr (seed: 1e-3, 1e-4, 1e-3) and clips each module's
// gradient norm separately, as the seed's code does.
import { join } from 'node:path';
import { tf } from '../../engine/backend.js';
import { loadSafetensors } from '../../nn/checkpoint.js';
import { WEIGHTS_FILE, memberTensors, parseModelRef } from '../files.js';
import { mergedOptions, numberOption } from '../method-options.js';
import type { ClipGroup, PhasedMethod } from '../methods.js';
import type { FerModel } from '../model.js';
import { efeLoss, emrLoss, epmgLoss, greyTarget, lossWeights, type PatternMapLossWeights } from './losses.js';
import type { PatternMapModel } from './model.js';
import { leadingConvParams } from './trunk.js';

export interface PatternMapSchedule {
  lrEfe: number;
  lrEmr: number;
  lrEpmg: number;
  /** Max gradient norms (the seed's EFE_GT, EMR_GT, EPMG_GT). */
  clipEfe: number;
  clipEmr: number;
  clipEpmg: number;
  /** Images per class in a triplet batch (t). */
  tripletPerClass: number;
  /** Triplet-batch iterations of step 2 (and of step 3 unless epmgIterations is set) per epoch. */
  tripletIterations: number;
  epmgIterations: number;
  /** Trunk conv layers frozen in step 2. */
  freezeConvs: number;
  weights: PatternMapLossWeights;
}

export function patternMapSchedule(o: Record<string, unknown>): PatternMapSchedule {
  const pos = (v: number) => v > 0;
  const int = (v: number) => Number.isInteger(v) && v >= 0;
  return {
    lrEfe: numberOption(o, 'lrEfe', 1e-3, pos, 'a positive number'),
    lrEmr: numberOption(o, 'lrEmr', 1e-4, pos, 'a positive number'),
    lrEpmg: numberOption(o, 'lrEpmg', 1e-3, pos, 'a positive number'),
    clipEfe: numberOption(o, 'clipEfe', 10, pos, 'a positive number'),
    clipEmr: numberOption(o, 'clipEmr', 10, pos, 'a positive number'),
    clipEpmg: numberOption(o, 'clipEpmg', 10, pos, 'a positive number'),
    tripletPerClass: numberOption(o, 'tripletPerClass', 8, (v) => int(v) && v > 0, 'a positive integer'),
    tripletIterations: numberOption(o, 'tripletIterations', 100, int, 'a non-negative integer'),
    epmgIterations: numberOption(o, 'epmgIterations', numberOption(o, 'tripletIterations', 100, int, 'a non-negative integer'), int, 'a non-negative integer'),
    freezeConvs: numberOption(o, 'freezeConvs', 5, int, 'a non-negative integer'),
    weights: lossWeights(o),
  };
}

/** The three steps' trainable groups: step 2 leaves out the trunk's first `freezeConvs` convs. */
export function stepGroups(model: PatternMapModel, s: PatternMapSchedule): Record<'efe' | 'emr' | 'epmg', ClipGroup[]> {
  const frozen = leadingConvParams(model.backbone, s.freezeConvs);
  return {
    efe: [{ vars: model.groupParams('efe'), maxNorm: s.clipEfe }],
    emr: [
      { vars: model.groupParams('efe').filter((v) => !frozen.has(v)), maxNorm: s.clipEfe },
      { vars: model.groupParams('emr'), maxNorm: s.clipEmr },
    ],
    epmg: [{ vars: model.groupParams('epmg'), maxNorm: s.clipEpmg }],
  };
}

/** Copies a trained model folder's trunk (`backbone.*`) and, when the class count matches, its
 *  linear head (`fc.*` → the EFE classifier) into the model: the spec's pretrained trunk. */
export async function initFromModel(model: PatternMapModel, ref: string): Promise<string[]> {
  const { dir, member } = parseModelRef(ref);
  const file = join(dir, WEIGHTS_FILE);
  const { tensors } = await loadSafetensors(file);
  const dict: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(member === undefined ? tensors : memberTensors(tensors, member, file))) {
    if (k.startsWith('backbone.')) dict[k] = v;
    else if (k === 'fc.weight' || k === 'fc.bias') {
      const mine = model.efeHead[k === 'fc.weight' ? 'weight' : 'bias'];
      if (mine && v.shape.join() === mine.shape.join()) dict[`efeHead.${k.slice(3)}`] = v;
    }
  }
  if (!Object.keys(dict).some((k) => k.startsWith('backbone.'))) {
    tf.dispose(Object.values(tensors));
    const hint = Object.keys(tensors).some((k) => k.startsWith('members.')) ? `: it is an ensemble, give ${ref}#N for its member N` : '';
    throw new Error(`${ref}: no trunk weights (backbone.*) in ${file}${hint}`);
  }
  const r = model.loadStateDict(dict, { strict: false, source: ref });
  tf.dispose(Object.values(tensors));
  if (r.unexpected.length) throw new Error(`${ref}: weights do not fit the pattern-map trunk: ${r.unexpected.slice(0, 3).join(', ')}`);
  return Object.keys(dict);
}

const scheduleOf = (model: FerModel, options: Record<string, unknown>) => patternMapSchedule(mergedOptions(model.config.methodOptions, options));

export const patternMapPhases: PhasedMethod = {
  instead: { init: '--objective \'{"init":"DIR"}\'', iterations: '--epochs with --max-steps and tripletIterations', clipGradNorm: 'the clipEfe/clipEmr/clipEpmg objective options' },
  async init(model, options) {
    const ref = mergedOptions(model.config.methodOptions, options).init;
    if (typeof ref !== 'string') return undefined;
    const n = await initFromModel(model as PatternMapModel, ref);
    return `initialised ${n.length} trunk/head tensors from ${ref}`;
  },
  phases(model, options) {
    const m = model as PatternMapModel;
    const s = scheduleOf(model, options);
    const groups = stepGroups(m, s);
    const triplets = (count: number) => ({ perClass: s.tripletPerClass, count });
    return [
      // EFE alone, every parameter trainable, shuffled batches.
      { name: 'EFE', batches: 'shuffled', groups: groups.efe, lr: s.lrEfe, loss: (x, y) => tf.tidy(() => efeLoss(m, x, tf.tensor1d(y, 'int32'))) },
      // EFE + EMR on triplet batches, leading trunk convs frozen.
      { name: 'EMR', batches: triplets(s.tripletIterations), groups: groups.emr, lr: s.lrEmr, loss: (x, y, parts) => emrLoss(m, x, y, s.weights, parts) },
      {
        // EPMG on the EFE's masked features, with the trunk in eval mode (frozen entirely, running
        // statistics included); the EFE is in no group, so no gradient reaches it.
        name: 'EPMG',
        batches: triplets(s.epmgIterations),
        groups: groups.epmg,
        lr: s.lrEpmg,
        loss: (x, y, parts) =>
          tf.tidy(() => {
            const { gms } = m.efe(x, false);
            return epmgLoss(m, gms, greyTarget(x as tf.Tensor4D, m.config.input), y, s.weights, parts);
          }),
      },
    ];
  },
};
