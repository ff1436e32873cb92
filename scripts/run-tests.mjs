#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner through tsx (Node 20's --test takes no
// globs). Arguments narrow the set: `npm test -- engine data/readers` runs files whose path
// contains one of them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test')
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
// --test-force-exit: a test file that leaves a handle open (a worker, a socket) must fail or finish,
// never hold CI until its time limit; --test-timeout bounds any single test at 15 minutes.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=900000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
