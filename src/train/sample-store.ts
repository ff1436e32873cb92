// Decoded training data held in memory at the model's input size: every image (or every frame of
// every clip) is decoded once, in parallel, and cached on disk keyed by the files' identity, so a
// resumed or repeated run starts in seconds. FER-scale sets fit easily (FER2013: 28.7k × 2.3 KB).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DecodePool } from '../data/decode-pool.js';
import { decodeImage, type Raster } from '../data/image.js';
import { decodeVideo } from '../data/video.js';
import { Rng } from '../data/rng.js';
import type { ClipSample, ImageSample, ImageSource } from '../data/types.js';
import type { InputSpec } from '../models/model.js';
import { fitRaster, pixelChannels } from '../models/preprocess.js';

export interface SampleStore {
  readonly size: number;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Frames per sample (1 for images). */
  framesOf(i: number): number;
  /** Frame f of sample i (a view, do not modify). */
  frame(i: number, f: number): Raster;
}

class PackedStore implements SampleStore {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly channels: 1 | 3,
    private readonly offsets: Int32Array, // frame offset of each sample, length size+1
    private readonly pixels: Uint8Array,
  ) {}
  get size(): number {
    return this.offsets.length - 1;
  }
  framesOf(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }
  frame(i: number, f: number): Raster {
    const per = this.width * this.height * this.channels;
    const k = this.offsets[i] + f;
    return { width: this.width, height: this.height, channels: this.channels, data: this.pixels.subarray(k * per, (k + 1) * per) };
  }
}

export function cacheDir(): string {
  return process.env.FERKIT_CACHE ?? join(homedir(), '.cache', 'ferkit');
}

function sourceKey(s: ImageSource): string {
  if (s.kind === 'file') {
    const st = statSync(s.path, { throwIfNoEntry: false });
    return `${s.path}:${st?.size ?? 0}:${st?.mtimeMs ?? 0}`;
  }
  if (s.kind === 'video-frame') return `${s.path}#${s.index}`;
  return `${s.origin}:${s.width}x${s.height}`;
}

function framesOfSample(s: ImageSample | ClipSample): ImageSource[] | { kind: 'video'; path: string } {
  return 'image' in s ? [s.image] : s.frames;
}

export interface LoadStoreOptions {
  /** Show progress (called with done, total). */
  onProgress?: (done: number, total: number) => void;
  workers?: number;
  cache?: boolean;
}

/** Decodes every sample's frames at the input's size and channel count (cached on disk). */
export async function loadSampleStore(items: readonly (ImageSample | ClipSample)[], input: InputSpec, opts: LoadStoreOptions = {}): Promise<SampleStore> {
  const [h, w] = input.size;
  const c = pixelChannels(input);
  const hash = createHash('sha256').update(`v1|${w}x${h}x${c}|`);
  for (const s of items) {
    const f = framesOfSample(s);
    hash.update(Array.isArray(f) ? f.map(sourceKey).join('|') : `video:${sourceKey({ kind: 'file', path: f.path })}`).update('\n');
  }
  const key = hash.digest('hex').slice(0, 24);
  const path = join(cacheDir(), 'samples', `${key}.bin`);
  if (opts.cache !== false && existsSync(path)) {
    const buf = await readFile(path);
    const n = buf.readInt32LE(0);
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = buf.readInt32LE(4 + 4 * i);
    const start = 4 + 4 * (n + 1);
    if (n === items.length) return new PackedStore(w, h, c, offsets, new Uint8Array(buf.buffer, buf.byteOffset + start, buf.length - start));
  }
  const frames: Raster[][] = new Array(items.length);
  const pool = items.length > 256 ? new DecodePool(opts.workers) : undefined;
  let done = 0;
  try {
    const chunk = 128;
    const jobs: Promise<void>[] = [];
    for (let a = 0; a < items.length; a += chunk) {
      const idx = Array.from({ length: Math.min(chunk, items.length - a) }, (_, k) => a + k);
      jobs.push(
        (async () => {
          const fileGroups = idx.map((i) => framesOfSample(items[i]));
          const allFiles = fileGroups.every((g) => Array.isArray(g) && g.every((s) => s.kind === 'file'));
          let decoded: Raster[][];
          if (pool && allFiles) {
            decoded = await pool.run({ groups: fileGroups.map((g) => (g as ImageSource[]).map((s) => (s as { path: string }).path)), channels: c }, new Rng(0));
          } else {
            decoded = [];
            for (const g of fileGroups) {
              if (Array.isArray(g)) decoded.push(await Promise.all(g.map((s) => decodeImage(s, { channels: c }))));
              else decoded.push((await decodeVideo(g.path, { channels: c })).frames);
            }
          }
          idx.forEach((i, k) => (frames[i] = decoded[k].map((r) => fitRaster(r, input))));
          done += idx.length;
          opts.onProgress?.(done, items.length);
        })(),
      );
    }
    await Promise.all(jobs);
  } finally {
    await pool?.close();
  }
  const offsets = new Int32Array(items.length + 1);
  frames.forEach((f, i) => (offsets[i + 1] = offsets[i] + f.length));
  const per = w * h * c;
  const pixels = new Uint8Array(offsets[items.length] * per);
  frames.forEach((f, i) => f.forEach((r, k) => pixels.set(r.data, (offsets[i] + k) * per)));
  if (opts.cache !== false) {
    await mkdir(join(cacheDir(), 'samples'), { recursive: true });
    const header = Buffer.alloc(4 + 4 * offsets.length);
    header.writeInt32LE(items.length, 0);
    offsets.forEach((o, i) => header.writeInt32LE(o, 4 + 4 * i));
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, Buffer.concat([header, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)]));
    await rename(tmp, path);
  }
  return new PackedStore(w, h, c, offsets, pixels);
}
