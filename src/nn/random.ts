// The process-wide stream that layers draw from when not given one (like torch.manual_seed).
// `Random` is the one RNG, src/util/rng.ts, under the name models and train still import.
import { Rng } from '../util/rng.js';

export { Rng as Random };

let global = new Rng(0);

export function defaultRandom(): Rng {
  return global;
}

export function manualSeed(seed: number): Rng {
  global = new Rng(seed);
  return global;
}
