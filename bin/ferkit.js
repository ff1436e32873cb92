#!/usr/bin/env node
// The `ferkit` command. Runs the compiled CLI when `npm run build` has produced dist/, otherwise
// the TypeScript sources through tsx's loader (no build step needed after `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
