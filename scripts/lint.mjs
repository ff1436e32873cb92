#!/usr/bin/env node
// `npm run lint`: Biome (defects), dependency-cruiser (layers, cycles), knip (unused files, exports,
// dependencies). Runs all three even when one fails, so one run lists every finding; exits 1 if any did.
import { spawnSync } from 'node:child_process';

const tools = [
  ['lint:code', 'Biome: likely defects (biome.jsonc)'],
  ['lint:deps', 'dependency-cruiser: layers and import cycles (.dependency-cruiser.cjs)'],
  ['lint:unused', 'knip: unused files, exports, dependencies (knip.json)'],
];
const failed = [];
for (const [script, what] of tools) {
  const t0 = Date.now();
  console.log(`\n== ${what}`);
  const r = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit' });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`== ${script}: ${r.status === 0 ? 'ok' : 'FAILED'} (${s} s)`);
  if (r.status !== 0) failed.push(script);
}
if (failed.length) {
  console.error(`\nlint failed: ${failed.join(', ')}`);
  process.exit(1);
}
