// Steadier comparisons on a shared machine: ferkit and its peer alternate in rounds within one run
// (ours, peer, ours, peer, ...), so load from other processes falls on both alike, and the figure
// row takes the median of the per-round ratios, so one noisy minute does not decide it.

export interface Rounds {
  ours: number[];
  peer: number[];
  /** Per round: how many times better ours is (higher is better for ferkit). */
  ratios: number[];
  median: { ours: number; peer: number; ratio: number };
}

export const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs `ours` then `peer`, `rounds` times. `better` says which way the measure goes: 'higher'
 * (throughput: ratio = ours / peer) or 'lower' (time: ratio = peer / ours).
 */
export async function alternate(rounds: number, better: 'higher' | 'lower', ours: () => Promise<number>, peer: () => Promise<number>, log: (s: string) => void, unit = ''): Promise<Rounds> {
  const r: Rounds = { ours: [], peer: [], ratios: [], median: { ours: NaN, peer: NaN, ratio: NaN } };
  for (let i = 0; i < rounds; i++) {
    const a = await ours();
    const b = await peer();
    r.ours.push(a);
    r.peer.push(b);
    r.ratios.push(better === 'higher' ? a / b : b / a);
    log(`round ${i + 1}/${rounds}: ferkit ${fmt(a)}${unit}, peer ${fmt(b)}${unit}, ratio ${r.ratios[i].toFixed(2)}`);
  }
  r.median = { ours: median(r.ours), peer: median(r.peer), ratio: median(r.ratios) };
  return r;
}

export const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
