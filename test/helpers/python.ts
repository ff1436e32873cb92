// Finds a Python interpreter that can import torch (Debian's python3-torch), for the PyTorch
// baselines of benchmarks and golden-value checks. PyTorch is a baseline, never a dependency.
import { spawnSync } from 'node:child_process';

let cached: string | null | undefined;

/** `FERKIT_PYTHON`, then Debian's /usr/bin/python3, then `python3` on PATH; null if none has torch. */
export function findTorchPython(): string | null {
  if (cached !== undefined) return cached;
  const candidates = [process.env.FERKIT_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => Boolean(p));
  cached = null;
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) {
      cached = py;
      break;
    }
  }
  return cached;
}
