// Run the same computation on two TF.js backends from plain arrays, for parity tests.
import { initEngine, tf } from '../../src/engine/backend.js';
import { Rng } from '../../src/util/rng.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Deterministic pseudo-random normal data (no dependence on any backend's RNG). */
export function randn(shape: number[], seed: number): HostTensor {
  const rng = new Rng(seed || 1);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng.next(), 1e-12);
    data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  }
  return { shape, data };
}

/** Evaluate `f` on `backend` with fresh tensors made from `inputs`; returns host data. */
export async function runOn(
  backend: string,
  inputs: HostTensor[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<HostTensor> {
  await initEngine(backend);
  const xs = inputs.map((h) => tf.tensor(h.data, h.shape));
  const y = f(...xs);
  const data = (await y.data()) as Float32Array;
  const out = { shape: y.shape.slice(), data: Float32Array.from(data) };
  tf.dispose([...xs, y]);
  return out;
}

/** max |a-b| divided by max(1, max |b|): the parity measure of the engine tests. */
export function relMaxDiff(a: HostTensor, b: HostTensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape ${a.shape} vs ${b.shape}`);
  let diff = 0;
  let mag = 1;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    mag = Math.max(mag, Math.abs(b.data[i]));
  }
  return diff / mag;
}
