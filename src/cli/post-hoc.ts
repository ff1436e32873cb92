// What the post-hoc model commands share (`ferkit balance`, `ferkit calibrate`): each writes the
// changed model to a new folder, and each chooses its setting on labelled validation faces.
import type { FerModel } from '../models/model.js';

/** Refuses an --out that is the model's own folder or already exists: the model is kept as trained. */
export async function checkNewOut(out: string, model: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  if (resolve(out) === resolve(model)) throw new Error('--out must be a new folder: the model is kept as trained');
  if (existsSync(out)) throw new Error(`${out}: already exists; give a new --out folder`);
}

/** The model scored on one labelled image dataset (its probabilities and labels), and how to name
 *  that set; `what` names the change in the refusal of a clip dataset. */
export async function scoreOnSet(model: FerModel, set: { dataset: string; root: string; split?: string }, tta: boolean | undefined, what: string) {
  const { datasets } = await import('../data/registry.js');
  const { evaluate } = await import('../eval/evaluate.js');
  const entry = datasets.get(set.dataset);
  if (entry.create.kind !== 'image') throw new Error(`dataset "${entry.name}" gives clips; ${what} is for image models`);
  const ds = await entry.create.read(set.root, { split: set.split });
  const e = await evaluate(model, ds.items, { tta });
  return { e, name: `${entry.name} ${set.root}${set.split ? ` (${set.split})` : ''}` };
}
