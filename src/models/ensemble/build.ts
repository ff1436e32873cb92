// Builds an EnsembleModel from loaded member models: their configs go into the ensemble's config,
// their weights are copied in, and the weights given are scaled to sum to 1 (a mean, so the
// softmax is as sharp as the members', not sharper).
import type { FerModel, ModelConfig } from '../model.js';
import { EnsembleModel } from './model.js';
import { sharedInput } from './adapt.js';
import { sameJson } from '../../util/same-json.js';

export interface BuildEnsembleOptions {
  /** Relative weight of each member (default: equal). */
  weights?: number[];
  /** Where each member came from, for errors and provenance (default: "member i"). */
  names?: string[];
  /** Also run each member on the mirrored face (flip test-time augmentation built in). */
  mirror?: boolean;
}

/** Members' weights scaled to sum to 1 (default: equal): a mean, so the softmax is not sharpened. */
export function relativeWeights(given: number[] | undefined, n: number): number[] {
  const w = given ?? Array<number>(n).fill(1);
  if (w.length !== n || !w.every((x) => Number.isFinite(x) && x > 0)) throw new Error(`ensemble weights must be ${n} positive numbers, got ${JSON.stringify(w)}`);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Members must name the same classes (and read the same input unless `sameInput` is false);
 *  with `superset`, a member may know more classes than the first; the odd one is named. */
export function checkSameInputAndClasses(models: readonly FerModel[], names: string[], sameInput = true, superset = false): void {
  const first = models[0].config;
  models.forEach(({ config: c }, i) => {
    const missing = first.classes.filter((k) => !c.classes.includes(k));
    if (superset ? missing.length > 0 : !sameJson(c.classes, first.classes)) {
      throw new Error(`${names[i]}: classes ${c.classes.join(',')} ${superset ? `lack ${missing.join(',')}, which` : 'differ from'} ${names[0]}'s ${first.classes.join(',')}${superset ? ' has' : ''}`);
    }
    if (sameInput && !sameJson(c.input, first.input)) throw new Error(`${names[i]}: input ${JSON.stringify(c.input)} differs from ${names[0]}'s ${JSON.stringify(first.input)}`);
  });
}

export function buildEnsemble(models: readonly FerModel[], options: BuildEnsembleOptions = {}): EnsembleModel {
  const names = options.names ?? models.map((_, i) => `member ${i + 1}`);
  if (models.length < (options.mirror ? 1 : 2)) throw new Error(`an ensemble needs at least two models (or one with mirror), got ${models.length}`);
  const weights = relativeWeights(options.weights, models.length);
  const first = models[0].config;
  // Members of an ensemble are flattened: an ensemble of ensembles is one ensemble.
  const members: ModelConfig[] = models.map((m, i) => {
    const c = m.config;
    const who = names[i];
    if (c.method === 'ensemble') throw new Error(`${who}: is an ensemble already; give its members instead`);
    if (c.input.kind !== 'image') throw new Error(`${who}: only image models form an ensemble (this is a ${c.input.kind} model)`);
    const { info: _info, ...rest } = c;
    return rest;
  });
  // The first member's classes are the ensemble's; a member that knows more has those picked.
  checkSameInputAndClasses(models, names, false, true);
  // Members that read different inputs get one shared input, adapted to each inside the model.
  const input = sharedInput(models.map((m) => m.config.input)) ?? first.input;
  const mirror = Boolean(options.mirror);
  const config: ModelConfig = {
    format: 'ferkit-model',
    version: 1,
    method: 'ensemble',
    backbone: 'members',
    methodOptions: { members, weights, mirror },
    input,
    classes: first.classes,
    info: {
      description: `ensemble of ${models.length} model(s): logits = weighted mean of the members' logits${mirror ? ', each also on the mirrored face (flip TTA built in)' : ''}${input !== first.input ? `; the members read different inputs, made inside the model from ${input.size.join('x')} ${input.channels === 1 ? 'grey' : 'RGB'} pixels` : ''}`,
      ensemble: models.map((m, i) => ({ source: names[i], weight: weights[i], method: m.config.method, backbone: m.config.backbone, info: m.config.info ?? {} })),
    },
  };
  const ensemble = new EnsembleModel(config);
  [...ensemble.members].forEach((m, i) => m.loadStateDict(models[i].stateDict(), { source: names[i] }));
  return ensemble.eval();
}
