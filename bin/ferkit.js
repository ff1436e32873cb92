#!/usr/bin/env node
// The `ferkit` command. Runs the compiled CLI when `npm run build` has produced dist/ (an installed
// package has only that), otherwise the TypeScript sources through tsx's loader (no build step
// needed after `npm ci`). In a source checkout whose sources changed after the last build, the
// sources run too: a stale dist/ would silently run old code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const sources = fileURLToPath(new URL('../src', import.meta.url));

/** The latest modification time of the .ts files under dir (0 when there is no such folder). */
function newestSource(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return newest;
}

if (existsSync(compiled) && newestSource(sources) <= statSync(compiled).mtimeMs) {
  await import(pathToFileURL(compiled).href);
} else {
  if (existsSync(compiled)) process.stderr.write('ferkit: src/ changed after the last build (dist/ is stale; npm run build refreshes it): running the sources\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
