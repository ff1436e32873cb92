// An on-disk cache of aligned face crops, so a dataset's pictures are detected and aligned once.
// The data layer holds no detector: the caller hands in a FaceCropper (detect/crop.ts makes them).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { DataError } from './errors.js';
import { decodeImage, resizeBilinear, withChannels, writeImage, type Raster } from './image.js';
import type { ImageSample, ImageSource } from './types.js';

/** Finds and aligns the face of a picture. */
export interface FaceCropper {
  /** The aligned size×size crop of the picture's face, 'whole' (the picture is a face crop: resized
   *  whole, as noFace 'resize' does), or undefined (no face: noFace decides). */
  crop(img: Raster, size: number, channels: 1 | 3): Promise<Raster | 'whole' | undefined>;
  /** The finder and its settings, in the cache key: crops made another way are cached apart. */
  key: string;
}

export interface AlignedCacheOptions {
  size: number;
  /** 1 = grey, 3 = RGB (default 3). */
  channels?: 1 | 3;
  faces: FaceCropper;
  /** The cache lives in `<root>/.cache/ferkit/aligned/` (default root: FERKIT_CACHE_DIR or cwd). */
  root?: string;
  /** When no face is found: 'resize' the whole image (pre-cropped datasets such as CK+48) or 'skip'. */
  noFace?: 'resize' | 'skip';
  /** Draw a cli-progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
  /** A picture that cannot be decoded gets an entry with its problem instead of stopping. */
  skipBad?: boolean;
}

export interface AlignedEntry {
  id: string;
  /** The aligned crop (PNG), or undefined when skipped. */
  path?: string;
  /** False when no face was found (the crop, if any, is the resized image). */
  found: boolean;
  /** True when it was already in the cache. */
  cached: boolean;
  /** Why the picture could not be read (skipBad). */
  problem?: string;
}

function alignedCacheDir(root?: string): string {
  return resolve(root ?? process.env.FERKIT_CACHE_DIR ?? process.cwd(), '.cache', 'ferkit', 'aligned');
}

async function sourceBytes(src: ImageSource): Promise<Buffer> {
  try {
    if (src.kind === 'file') return await readFile(src.path);
    if (src.kind === 'pixels') return Buffer.concat([Buffer.from(`${src.width}x${src.height}x${src.channels}:`), Buffer.from(src.data)]);
    return Buffer.concat([await readFile(src.path), Buffer.from(`#frame${src.index}`)]);
  } catch (e) {
    const path = src.kind === 'pixels' ? src.origin : src.path;
    throw new DataError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`);
  }
}

/** Cache key: content hash of the source bytes and every setting that changes the crop. */
function alignedKey(bytes: Buffer, o: AlignedCacheOptions): string {
  const settings = JSON.stringify({ v: 2, size: o.size, channels: o.channels ?? 3, noFace: o.noFace ?? 'resize', faces: o.faces.key });
  return createHash('sha256').update(bytes).update(settings).digest('hex').slice(0, 40);
}

/**
 * Detects and aligns every sample once and stores the crops as PNG under the cache directory;
 * samples already there are not detected again. Returns one entry per sample, in order.
 */
export async function buildAlignedCache(samples: readonly ImageSample[], opts: AlignedCacheOptions): Promise<AlignedEntry[]> {
  const dir = alignedCacheDir(opts.root);
  await mkdir(dir, { recursive: true });
  const channels = opts.channels ?? 3;
  const noFace = opts.noFace ?? 'resize';
  const bar = (opts.progress ?? process.stderr.isTTY) ? new SingleBar({ format: 'aligning faces {bar} {value}/{total} {eta_formatted}', stream: process.stderr }, Presets.shades_classic) : undefined;
  bar?.start(samples.length, 0);
  const out: AlignedEntry[] = [];
  try {
    for (const s of samples) {
      const key = alignedKey(await sourceBytes(s.image), opts);
      const facePath = join(dir, `${key}.png`);
      const nofacePath = join(dir, `${key}.noface.png`);
      const skipMark = join(dir, `${key}.noface`);
      if (existsSync(facePath)) out.push({ id: s.id, path: facePath, found: true, cached: true });
      else if (existsSync(nofacePath)) out.push({ id: s.id, path: nofacePath, found: false, cached: true });
      else if (existsSync(skipMark)) out.push({ id: s.id, found: false, cached: true });
      else {
        let img: Raster;
        try {
          img = await decodeImage(s.image, { channels: 3 });
        } catch (e) {
          if (!(opts.skipBad && e instanceof DataError)) throw e;
          out.push({ id: s.id, found: false, cached: false, problem: e.problem });
          bar?.increment();
          continue;
        }
        const face = await opts.faces.crop(img, opts.size, channels);
        const found = face !== undefined && face !== 'whole';
        let crop: Raster | undefined;
        let path: string | undefined;
        if (found) {
          crop = face;
          path = facePath;
        } else if (face === 'whole' || noFace === 'resize') {
          crop = withChannels(resizeBilinear(img, opts.size, opts.size), channels);
          path = nofacePath;
        }
        if (crop && path) {
          // Write then rename, so an interrupted run never leaves a half-written crop behind.
          const tmp = `${path}.${process.pid}.tmp.png`;
          await writeImage(crop, tmp);
          await rename(tmp, path);
        } else await writeFile(skipMark, '');
        out.push({ id: s.id, path, found, cached: false });
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  return out;
}
