#!/usr/bin/env node
// Builds ferkit's optional native kernels (native/conv.cc → native/build/ferkit_native.node) with
// the system C++ compiler against Node's headers and OpenBLAS (Debian: libopenblas-dev). Nothing is
// downloaded. When anything is missing it says what and exits 0: ferkit then runs its wasm kernels.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'native', 'build', 'ferkit_native.node');
const strict = process.argv.includes('--strict');

function skip(why) {
  console.error(`ferkit: native kernels not built (${why}); the wasm kernels will be used`);
  process.exit(strict ? 1 : 0);
}

if (process.env.FERKIT_NATIVE === '0') skip('FERKIT_NATIVE=0');
if (process.platform !== 'linux') skip(`platform ${process.platform} (the build script knows Linux)`);
const nodeInclude = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
if (!nodeInclude) skip("Node's headers (node_api.h) not found");
const blasInclude = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/aarch64-linux-gnu/openblas-pthread', '/usr/include/openblas', '/usr/include'].find((d) => existsSync(join(d, 'cblas.h')));
if (!blasInclude) skip('OpenBLAS headers (cblas.h) not found: apt-get install libopenblas-dev');
mkdirSync(dirname(out), { recursive: true });
try {
  execFileSync(
    process.env.CXX ?? 'g++',
    ['-O3', '-std=c++17', '-shared', '-fPIC', `-I${nodeInclude}`, `-I${blasInclude}`, join(root, 'native', 'conv.cc'), '-o', out, '-lopenblas'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
} catch (e) {
  skip(`compiler failed: ${e.message.split('\n')[0]}`);
}
console.error(`ferkit: native kernels built: ${out}`);
