// Synthetic label noise for robustness experiments (SCN/ARBEx's noisy-label tables): a fixed,
// seeded fraction of samples gets a different class, uniformly among the others.
import { Rng } from '../util/rng.js';
import { permutation } from './samplers.js';

/** Returns new labels with round(rate·n) of them flipped, and the flipped indices. */
export function flipLabels(labels: ArrayLike<number>, classes: readonly number[], rate: number, seed: number): { labels: Int32Array; flipped: number[] } {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`label noise rate must be in [0, 1], got ${rate}`);
  if (classes.length < 2) throw new Error('label noise needs at least two classes');
  const out = Int32Array.from(labels);
  const rng = new Rng(seed);
  const flipped = permutation(out.length, rng).slice(0, Math.round(rate * out.length)).sort((a, b) => a - b);
  for (const i of flipped) {
    const others = classes.filter((c) => c !== out[i]);
    out[i] = others[rng.int(others.length)];
  }
  return { labels: out, flipped };
}
