// An ensemble: several trained image classifiers behind one FerModel, whose logits are the
// weighted mean of the members' logits, each optionally also run on the mirrored face (flip
// test-time augmentation inside the model, so every engine and every caller gets it). The
// members keep their own configs and weights (`members.<i>.` in model.safetensors), so the folder
// is as small as the members; `ferkit ensemble --fold` instead merges fer-cnn members into one
// plain fer-cnn (src/models/ce/fold-ensemble.ts). A member may know more classes than the
// ensemble (an 8-class FER+ model beside 7-class ones): its logits of the ensemble's classes are
// picked by name, i.e. its prediction given that the face shows one of them.
import { tf } from '../../engine/backend.js';
import { Module, ModuleList } from '../../nn/module.js';
import type { Rng } from '../../util/rng.js';
import { defaultRandom } from '../../nn/random.js';
import type { FerModel, ModelConfig, ModelOutput } from '../model.js';
import { methods } from '../methods.js';
import { adaptInput, adaptPlan, adaptProblem } from './adapt.js';
import { sameJson } from '../../util/same-json.js';

export interface EnsembleOptions {
  /** The members' configs (their `info` lives in the ensemble's info.ensemble). */
  members: ModelConfig[];
  /** Weight of each member, summing to 1. */
  weights: number[];
  /** Also run every member on the horizontally mirrored input and average the two views. */
  mirror: boolean;
}

/** Where each of the ensemble's classes is among a member's (undefined: the same classes in the
 *  same order, nothing to pick). */
function classPicks(ensembleClasses: readonly string[], memberClasses: readonly string[]): number[] | undefined {
  if (sameJson(ensembleClasses, memberClasses)) return undefined;
  return ensembleClasses.map((c) => memberClasses.indexOf(c));
}

/** Reads and checks methodOptions of an ensemble config; `source` names the file in errors. */
export function ensembleOptions(config: ModelConfig, source = 'ensemble config'): EnsembleOptions {
  const o = (config.methodOptions ?? {}) as Partial<EnsembleOptions>;
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what} (ensembles are built by \`ferkit ensemble\`, not trained)`);
  };
  if (!Array.isArray(o.members) || o.members.length === 0) fail('methodOptions.members must list the member models');
  const members = o.members!;
  const weights = o.weights ?? members.map(() => 1 / members.length);
  if (!Array.isArray(weights) || weights.length !== members.length || !weights.every((w) => Number.isFinite(w) && w > 0)) {
    fail(`methodOptions.weights must be ${members.length} positive numbers`);
  }
  members.forEach((m, i) => {
    if (m.method === 'ensemble') fail(`member ${i + 1} is itself an ensemble; list its members instead`);
    if (m.input?.kind !== 'image') fail(`member ${i + 1} is not an image model`);
    const problem = m.input && adaptProblem(config.input, m.input);
    if (problem) fail(`member ${i + 1}'s input ${JSON.stringify(m.input)} cannot be made from the ensemble's ${JSON.stringify(config.input)}: ${problem}`);
    const missing = config.classes.filter((c) => !m.classes?.includes(c));
    if (missing.length) fail(`member ${i + 1}'s classes ${m.classes?.join(',')} lack the ensemble's ${missing.join(',')}`);
  });
  return { members, weights, mirror: Boolean(o.mirror) };
}

export class EnsembleModel extends Module implements FerModel {
  readonly members: ModuleList<FerModel>;
  readonly weights: number[];
  readonly mirror: boolean;
  /** Per member: how the ensemble's input becomes the member's (undefined: it is the same). */
  readonly adapters: ReturnType<typeof adaptPlan>[];
  /** Per member: its logits of the ensemble's classes (undefined: all of them, in order). */
  readonly picks: (number[] | undefined)[];

  constructor(
    readonly config: ModelConfig,
    rng: Rng = defaultRandom(),
  ) {
    super();
    const o = ensembleOptions(config);
    this.weights = o.weights;
    this.mirror = o.mirror;
    this.members = this.registerModule('members', new ModuleList(o.members.map((m) => methods.get(m.method).create.createModel(m, rng))));
    this.adapters = o.members.map((m) => adaptPlan(config.input, m.input));
    this.picks = o.members.map((m) => classPicks(config.classes, m.classes));
  }

  /** Logits = Σ wᵢ·mean over views(logitsᵢ); embedding = the members' view-averaged embeddings
   *  side by side (when every member has one). Members scored by their own probabilities (ARBEx)
   *  would not average as logits and are refused. */
  forward(x: tf.Tensor, training?: boolean): ModelOutput {
    if (training) throw new Error('an ensemble is not trained as a whole: train its members, then run `ferkit ensemble`');
    if (training !== undefined) this.train(false);
    const views = this.mirror ? 2 : 1;
    const kept = tf.tidy((): tf.TensorContainer => {
      // Both views in one batch ([x; flip(x)]): one pass per member.
      const input = this.mirror ? tf.concat([x, tf.reverse(x, x.rank - 2)], 0) : x;
      const viewMean = (t: tf.Tensor2D) => (views === 1 ? t : (tf.mean(tf.reshape(t, [views, -1, t.shape[1]]), 0) as tf.Tensor2D));
      const logits: tf.Tensor2D[] = [];
      const embeddings: tf.Tensor2D[] = [];
      [...this.members].forEach((m, i) => {
        const adapter = this.adapters[i];
        const out = m.forward(adapter ? adaptInput(input, adapter) : input, false);
        if (out.probs) throw new Error(`ensemble member ${i + 1} (${m.config.method}) scores by its own probabilities, not softmax(logits); it cannot be averaged as logits`);
        const pick = this.picks[i];
        const own = viewMean(out.logits);
        logits.push(tf.mul(pick ? tf.gather(own, pick, 1) : own, this.weights[i]) as tf.Tensor2D);
        if (out.embedding) embeddings.push(viewMean(out.embedding));
      });
      const result: { logits: tf.Tensor2D; embedding?: tf.Tensor2D } = { logits: tf.addN(logits) as tf.Tensor2D };
      if (embeddings.length === logits.length) result.embedding = tf.concat(embeddings, 1) as tf.Tensor2D;
      return result;
    });
    return kept as unknown as ModelOutput;
  }
}
