// ferkit's one seeded RNG: mulberry32 plus a cached Box-Muller spare, for weight initialisation,
// dropout masks, shuffling, sampling and augmentation. Its whole state is two numbers, so a
// checkpoint (or a worker) given getState() draws exactly what the original stream would have.

export interface RngState {
  /** mulberry32 counter. */
  s: number;
  /** Second normal of the last Box-Muller pair, not yet handed out. */
  spare: number | null;
}

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [a, b], both ends included (Python's random.randint). */
  intIn(a: number, b: number): number {
    return a + this.int(b - a + 1);
  }

  /** Uniform in [a, b). */
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.next();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A 32-bit seed for a child generator (per-sample noise fields, worker streams). */
  seed32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** A seed for TF.js's own random ops (dropout masks), drawn from this stream. */
  tfSeed(): number {
    return this.int(2 ** 31 - 1);
  }

  /** Normal(mean, std) by Box-Muller; each pair of uniforms gives two normals. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mean + std * r * Math.cos(2 * Math.PI * u2);
  }

  fillUniform(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  fillNormal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  getState(): RngState {
    return { s: this.state, spare: this.spare };
  }

  setState(state: RngState): void {
    if (typeof state?.s !== 'number' || !(state.spare === null || typeof state.spare === 'number')) {
      throw new Error(`invalid random state ${JSON.stringify(state)}: expected {s: number, spare: number | null}`);
    }
    this.state = state.s >>> 0;
    this.spare = state.spare;
  }
}
