// The process-wide stream that layers draw from when not given one (like torch.manual_seed).
// The stream is the one RNG, src/util/rng.ts.
import { Rng } from '../util/rng.js';


let global = new Rng(0);

export function defaultRandom(): Rng {
  return global;
}

export function manualSeed(seed: number): Rng {
  global = new Rng(seed);
  return global;
}
