// Runs test/fixtures/torch_reference.py on tensors we export (PyTorch layout) and reads back its
// outputs; null when no Python with torch is installed (the caller skips with the reason).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/engine/backend.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/checkpoint.js';
import { findTorchPython } from './python.js';

export const TORCH_MISSING = 'python3 with torch is not importable (apt-get install python3-torch)';

export function torchAvailable(): boolean {
  return findTorchPython() !== null;
}

export interface TorchCase {
  name: string;
  op: string;
  args?: Record<string, unknown>;
}

export function runTorchReference(inputs: Record<string, tf.Tensor>, cases: TorchCase[]): Record<string, tf.Tensor> {
  const python = findTorchPython();
  if (!python) throw new Error(TORCH_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'ferkit-torch-'));
  try {
    const inPath = join(dir, 'in.safetensors');
    const outPath = join(dir, 'out.safetensors');
    writeFileSync(inPath, encodeSafetensors(inputs, { cases: JSON.stringify(cases) }));
    const script = fileURLToPath(new URL('../fixtures/torch_reference.py', import.meta.url));
    const r = spawnSync(python, [script, inPath, outPath], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`torch_reference.py failed: ${r.stderr || r.error?.message}`);
    return decodeSafetensors(new Uint8Array(readFileSync(outPath)), outPath).tensors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a − b| / max(1, max |b|). */
export function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shape [${a.shape}] vs [${b.shape}]`);
  const x = a.dataSync();
  const y = b.dataSync();
  let d = 0;
  let m = 1;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    m = Math.max(m, Math.abs(y[i]));
  }
  return d / m;
}
