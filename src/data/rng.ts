// The data pipeline's seeded RNG: the shared mulberry32 `Rng` (src/util/rng.ts) plus the draws
// augmentation needs. State stays one 32-bit integer (normal() keeps no spare), so a worker can be
// handed `getState()` and reproduce the main thread's draws exactly.
import { Rng as BaseRng } from '../util/rng.js';

export class Rng extends BaseRng {
  /** Standard normal by Box–Muller; uses two uniforms and discards the second variate. */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) never happens
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Integer in [a, b], both ends included (Python's random.randint). */
  intIn(a: number, b: number): number {
    return a + this.int(b - a + 1);
  }

  /** A 32-bit seed for a child generator (per-sample noise fields, worker streams). */
  seed32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}
