// Reads weights saved in TF.js's layers/graph-model format (a weights manifest JSON and its .bin
// shards), as npm packages such as @vladmandic/face-api ship them: float32 tensors and uint8/uint16
// tensors quantised with an affine (scale, min) map. No network: the files are read from disk.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TfjsWeight {
  shape: number[];
  data: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** Every tensor of a weights manifest, by name, dequantised to float32. */
function readTfjsWeights(manifestPath: string): Map<string, TfjsWeight> {
  let groups: { paths: string[]; weights: ManifestEntry[] }[];
  try {
    groups = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof groups;
  } catch (e) {
    throw new Error(`${manifestPath}: cannot read the weights manifest (${(e as Error).message})`);
  }
  const out = new Map<string, TfjsWeight>();
  for (const g of groups) {
    const parts = g.paths.map((p) => readFileSync(join(dirname(manifestPath), p)));
    const buf = Buffer.concat(parts);
    let at = 0;
    for (const w of g.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const data = new Float32Array(n);
      if (w.dtype !== 'float32') throw new Error(`${manifestPath}: ${w.name} has dtype ${w.dtype}; only float32 weights are read`);
      if (!q) {
        for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(at + 4 * i);
        at += 4 * n;
      } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const bytes = q.dtype === 'uint8' ? 1 : 2;
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        for (let i = 0; i < n; i++) data[i] = (bytes === 1 ? buf[at + i]! : buf.readUInt16LE(at + 2 * i)) * scale + min;
        at += bytes * n;
      } else {
        throw new Error(`${manifestPath}: ${w.name} uses ${q.dtype} quantisation, which is not supported`);
      }
      if (at > buf.length) throw new Error(`${manifestPath}: the .bin files end inside ${w.name}`);
      out.set(w.name, { shape: w.shape, data });
    }
  }
  return out;
}

/** A manifest's tensors with a checked look-up: `take(name, shape)` throws, naming the manifest,
 *  when the tensor is missing or has another shape. */
export function tfjsWeightTaker(manifestPath: string): (name: string, shape: number[]) => TfjsWeight {
  const w = readTfjsWeights(manifestPath);
  return (name, shape) => {
    const t = w.get(name);
    if (!t) throw new Error(`${manifestPath}: no tensor ${name}`);
    if (t.shape.join() !== shape.join()) throw new Error(`${manifestPath}: ${name} has shape [${t.shape}], expected [${shape}]`);
    return t;
  };
}
