// U×V clip sampling (spec §1.2): a clip of n frames is cut into U segments; training takes V
// consecutive frames from a random start in each segment, testing from the segment's middle.
// IAL uses U16×V1, NR-DFERNet U8×V2; both give 16 frames.
import { Registry } from '../registry.js';
import type { Rng } from '../util/rng.js';

export interface ClipSampling {
  segments: number; // U
  framesPerSegment: number; // V
  /** Clips too short for the test grid (n ≤ U+V−1): the reference returns frame 0 sixteen times
   *  ('first-frame', faithful); 'spread' spreads the frames evenly instead. */
  shortClips: 'first-frame' | 'spread';
}

export const IAL_SAMPLING: ClipSampling = { segments: 16, framesPerSegment: 1, shortClips: 'first-frame' };
export const NR_DFERNET_SAMPLING: ClipSampling = { segments: 8, framesPerSegment: 2, shortClips: 'first-frame' };

/** The papers' samplings by name (`--sampling u16v1|u8v2`); `<U>x<V>` gives any other grid. */
const clipSamplings = new Registry<ClipSampling>('clip sampling')
  .register({ name: 'u16v1', description: 'IAL (DFEW): 16 segments x 1 frame', create: IAL_SAMPLING, aliases: ['ial', '16x1'] })
  .register({ name: 'u8v2', description: 'NR-DFERNet (and IAL on FERV39k): 8 segments x 2 consecutive frames', create: NR_DFERNET_SAMPLING, aliases: ['nr-dfernet', '8x2'] });

/** A sampling from a registry name or `<U>x<V>` (e.g. `2x2` for 4-frame clips). */
export function parseClipSampling(spec: string): ClipSampling {
  if (clipSamplings.has(spec)) return clipSamplings.get(spec).create;
  const m = /^(\d+)x(\d+)$/i.exec(spec.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new Error(`clip sampling "${spec}" is neither ${clipSamplings.names().join(', ')} nor <U>x<V> (segments x frames per segment, e.g. 8x2)`);
  }
  return { segments: Number(m[1]), framesPerSegment: Number(m[2]), shortClips: 'first-frame' };
}

/** V consecutive frames from each start; the last frame repeats at the end of the clip. */
function expand(starts: number[], n: number, v: number): number[] {
  return starts.flatMap((p) => Array.from({ length: v }, (_, i) => Math.min(p + i, n - 1)));
}

/** Training frame indices: start u·avg + randint(avg) per segment, avg = ⌊(n − V + 1)/U⌋. */
export function trainFrameIndices(n: number, s: ClipSampling, rng: Rng): number[] {
  const { segments: u, framesPerSegment: v } = s;
  if (n < 1) throw new Error('a clip needs at least one frame');
  const avg = Math.floor((n - v + 1) / u);
  let starts: number[];
  if (avg > 0) starts = Array.from({ length: u }, (_, k) => k * avg + rng.int(avg));
  else if (n > u) starts = Array.from({ length: u }, () => rng.int(n - v + 1)).sort((a, b) => a - b);
  else starts = new Array<number>(u).fill(0);
  return expand(starts, n, v);
}

/** Test frame indices: segment midpoints int(tick/2 + tick·u), tick = (n − V + 1)/U. */
export function testFrameIndices(n: number, s: ClipSampling): number[] {
  const { segments: u, framesPerSegment: v } = s;
  if (n < 1) throw new Error('a clip needs at least one frame');
  let starts: number[];
  if (n > u + v - 1) {
    const tick = (n - v + 1) / u;
    starts = Array.from({ length: u }, (_, k) => Math.trunc(tick / 2 + tick * k));
  } else if (s.shortClips === 'spread') {
    starts = Array.from({ length: u }, (_, k) => Math.min(n - 1, Math.floor((k * n) / u)));
  } else {
    starts = new Array<number>(u).fill(0);
  }
  return expand(starts, n, v);
}
