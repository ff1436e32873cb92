// Seeded randomness for weight initialisation, dropout masks and shuffling: a mulberry32 stream
// plus a cached Box-Muller spare. Its whole state is two numbers, so checkpoints can save it and a
// resumed run draws exactly what an uninterrupted one would have.
import { Rng } from '../util/rng.js';

export interface RandomState {
  /** mulberry32 counter. */
  s: number;
  /** Second normal of the last Box-Muller pair, not yet handed out. */
  spare: number | null;
}

export class Random {
  private readonly core: Rng;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.core = new Rng(seed);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.core.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return this.core.int(n);
  }

  /** Normal(mean, std) by Box-Muller; each pair of uniforms gives two normals. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.core.next(); // (0, 1]: log stays finite
    const u2 = this.core.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  fillUniform(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.core.next();
    return out;
  }

  fillNormal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A seed for TF.js's own random ops (dropout masks), drawn from this stream. */
  tfSeed(): number {
    return this.core.int(2 ** 31 - 1);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.core.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  getState(): RandomState {
    return { s: this.core.getState(), spare: this.spare };
  }

  setState(state: RandomState): void {
    if (typeof state?.s !== 'number' || !(state.spare === null || typeof state.spare === 'number')) {
      throw new Error(`invalid random state ${JSON.stringify(state)}: expected {s: number, spare: number | null}`);
    }
    this.core.setState(state.s);
    this.spare = state.spare;
  }
}

let global = new Random(0);

/** The process-wide stream that layers use when not given one (like torch.manual_seed). */
export function defaultRandom(): Random {
  return global;
}

export function manualSeed(seed: number): Random {
  global = new Random(seed);
  return global;
}
