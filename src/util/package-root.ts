// The ferkit package's root folder (where package.json and models/ live), found from this file
// whether it runs from src/ (tsx) or dist/src/ (compiled), and its version.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ferkit') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the ferkit package root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** ferkit's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
