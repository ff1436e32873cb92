#!/usr/bin/env node
// Seeded random subset of a folder-per-class image set (<src>/<class>/*), written to <dst> as hard
// links (copies across file systems), for small-budget experiments on a few thousand images.
// Usage: node scripts/subset-folder.mjs <src> <dst> <n> [seed]
import { copyFileSync, linkSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [src, dst, nArg, seedArg = '0'] = process.argv.slice(2);
if (!src || !dst || !nArg) {
  console.error('usage: node scripts/subset-folder.mjs <src> <dst> <n> [seed]');
  process.exit(1);
}
// mulberry32: the same subset for the same seed on every machine.
let s = Number(seedArg) >>> 0;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const files = readdirSync(src, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .flatMap((c) => readdirSync(join(src, c)).sort().map((f) => [c, f]));
for (let i = files.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [files[i], files[j]] = [files[j], files[i]];
}
const picked = files.slice(0, Number(nArg));
const counts = {};
for (const [c, f] of picked) {
  mkdirSync(join(dst, c), { recursive: true });
  try {
    linkSync(join(src, c, f), join(dst, c, f));
  } catch (e) {
    if (e.code === 'EXDEV') copyFileSync(join(src, c, f), join(dst, c, f));
    else if (e.code !== 'EEXIST') throw e;
  }
  counts[c] = (counts[c] ?? 0) + 1;
}
console.log(JSON.stringify({ n: picked.length, counts }));
