// Decoded training data held in memory at the model's input size: every image (or every frame of
// every clip) is decoded once, in parallel, and cached on disk keyed by the files' identity, so a
// resumed or repeated run starts in seconds. FER-scale sets fit easily (FER2013: 28.7k × 2.3 KB).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DecodePool } from './decode-pool.js';
import { DataError } from './errors.js';
import { decodeImage, type Raster } from './image.js';
import { decodeVideo } from './video.js';
import { Rng } from '../util/rng.js';
import type { ClipSample, ImageSample, ImageSource } from './types.js';
import type { InputSpec } from './types.js';
import { fitRaster, pixelChannels } from './raster.js';

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
  /** Leave out samples that fail to decode (listed in `skipped`) instead of stopping. */
  skipBad?: boolean;
}

/** A sample left out because it failed to decode: its index among the items given. */
export interface SkippedSample {
  index: number;
  file: string;
  problem: string;
}

/** The decoded samples; with skipBad, without those in `skipped` (the others keep their order). */
export interface LoadedStore extends SampleStore {
  readonly skipped: readonly SkippedSample[];
}

function sampleName(s: ImageSample | ClipSample): string {
  const f = framesOfSample(s);
  if (!Array.isArray(f)) return f.path;
  const first = f[0];
  return first.kind === 'pixels' ? first.origin : first.path;
}

/** A decode failure as a skipped sample (DataErrors name their file). */
function skippedOf(index: number, item: ImageSample | ClipSample, e: unknown): SkippedSample {
  if (e instanceof DataError) return { index, file: e.file, problem: e.problem };
  return { index, file: sampleName(item), problem: (e as Error).message };
}

/** Decodes every sample's frames at the input's size and channel count (cached on disk, with the
 *  list of samples skipped). */
export async function loadSampleStore(items: readonly (ImageSample | ClipSample)[], input: InputSpec, opts: LoadStoreOptions = {}): Promise<LoadedStore> {
  const [h, w] = input.size;
  const c = pixelChannels(input);
  const hash = createHash('sha256').update(`v1|${w}x${h}x${c}|${opts.skipBad ? 'skip-bad|' : ''}`);
  for (const s of items) {
    const f = framesOfSample(s);
    hash.update(Array.isArray(f) ? f.map(sourceKey).join('|') : `video:${sourceKey({ kind: 'file', path: f.path })}`).update('\n');
  }
  const key = hash.digest('hex').slice(0, 24);
  const path = join(cacheDir(), 'samples', `${key}.bin`);
  const skippedPath = `${path}.skipped.json`;
  if (opts.cache !== false && existsSync(path)) {
    const buf = await readFile(path);
    const n = buf.readInt32LE(0);
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = buf.readInt32LE(4 + 4 * i);
    const start = 4 + 4 * (n + 1);
    const skipped: SkippedSample[] = existsSync(skippedPath) ? JSON.parse(await readFile(skippedPath, 'utf8')) : [];
    if (n + skipped.length === items.length) return Object.assign(new PackedStore(w, h, c, offsets, new Uint8Array(buf.buffer, buf.byteOffset + start, buf.length - start)), { skipped });
  }
  const frames: (Raster[] | undefined)[] = new Array(items.length);
  const skipped: SkippedSample[] = [];
  const decodeOne = async (i: number): Promise<Raster[]> => {
    const g = framesOfSample(items[i]);
    return Array.isArray(g) ? Promise.all(g.map((s) => decodeImage(s, { channels: c }))) : (await decodeVideo(g.path, { channels: c })).frames;
  };
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
          let decoded: (Raster[] | undefined)[];
          try {
            if (pool && allFiles) {
              decoded = await pool.run({ groups: fileGroups.map((g) => (g as ImageSource[]).map((s) => (s as { path: string }).path)), channels: c }, new Rng(0));
            } else {
              decoded = [];
              for (const i of idx) decoded.push(await decodeOne(i));
            }
          } catch (e) {
            if (!opts.skipBad) throw e;
            // One bad file fails its whole chunk: decode the chunk's samples one by one to find it.
            decoded = [];
            for (const i of idx) {
              try {
                decoded.push(await decodeOne(i));
              } catch (err) {
                skipped.push(skippedOf(i, items[i], err));
                decoded.push(undefined);
              }
            }
          }
          idx.forEach((i, k) => (frames[i] = decoded[k]?.map((r) => fitRaster(r, input))));
          done += idx.length;
          opts.onProgress?.(done, items.length);
        })(),
      );
    }
    await Promise.all(jobs);
  } finally {
    await pool?.close();
  }
  skipped.sort((a, b) => a.index - b.index);
  const kept = frames.filter((f): f is Raster[] => f !== undefined);
  const offsets = new Int32Array(kept.length + 1);
  kept.forEach((f, i) => (offsets[i + 1] = offsets[i] + f.length));
  const per = w * h * c;
  const pixels = new Uint8Array(offsets[kept.length] * per);
  kept.forEach((f, i) => f.forEach((r, k) => pixels.set(r.data, (offsets[i] + k) * per)));
  if (opts.cache !== false) {
    await mkdir(join(cacheDir(), 'samples'), { recursive: true });
    const header = Buffer.alloc(4 + 4 * offsets.length);
    header.writeInt32LE(kept.length, 0);
    offsets.forEach((o, i) => header.writeInt32LE(o, 4 + 4 * i));
    if (skipped.length) await writeFile(skippedPath, JSON.stringify(skipped));
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, Buffer.concat([header, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)]));
    await rename(tmp, path);
  }
  return Object.assign(new PackedStore(w, h, c, offsets, pixels), { skipped });
}

/** Items and labels without the samples a store skipped. */
export function withoutSkipped<T>(values: readonly T[], skipped: readonly SkippedSample[]): T[] {
  if (skipped.length === 0) return [...values];
  const out = new Set(skipped.map((s) => s.index));
  return values.filter((_, i) => !out.has(i));
}
