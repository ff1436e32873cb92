// Face detection (SSD MobileNet v1 or TinyFaceDetector) and 68-point landmarks with
// @vladmandic/face-api, running on ferkit's own TF.js engine; eye-based alignment to a square crop
// (align.ts, re-exported here); and an on-disk cache of aligned crops so training epochs never detect twice.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { initEngine, tf } from '../engine/backend.js';
import { DataError } from './errors.js';
import { decodeImage, decodeImageFile, resizeBilinear, toRgb, withChannels, writeImage, type Raster } from './image.js';
import type { ImageSample, ImageSource } from './types.js';
import { alignFace, type AlignOptions, type Face } from './align.js';

export { alignFace, alignedCrop, alignmentFor, alignPrescale, eyeCentres, mapToAligned, warpAligned, warpPrescaled, type AlignOptions, type Alignment, type Face } from './align.js';

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');

const require = createRequire(import.meta.url);

export type DetectorName = 'ssd' | 'tiny';

export interface DetectOptions {
  detector?: DetectorName;
  /** Minimum detection score (default 0.5). */
  minConfidence?: number;
  maxResults?: number;
  /** TinyFaceDetector input side, a multiple of 32 (default 416). */
  inputSize?: number;
  /** Mid-grey border added on each side, as a fraction of the image side, before detecting.
   *  Tight face crops (CK+48, FER2013) give the detectors no context: 0.5 lets them find the face. */
  pad?: number;
  /** Upscale (bilinear) so the padded image's shorter side is at least this many pixels. */
  minSide?: number;
}

/** Pads with mid-grey and upscales; returns the image and how to map its points back
 *  (source = point / scale − off). */
export function prepareForDetection(r: Raster, pad: number, minSide: number): { img: Raster; off: [number, number]; scale: number } {
  let img = r;
  let off: [number, number] = [0, 0];
  if (pad > 0) {
    const px = Math.round(r.width * pad);
    const py = Math.round(r.height * pad);
    const w = r.width + 2 * px;
    const h = r.height + 2 * py;
    const data = new Uint8Array(w * h * r.channels).fill(128);
    const rowBytes = r.width * r.channels;
    for (let y = 0; y < r.height; y++) data.set(r.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + py) * w + px) * r.channels);
    img = { width: w, height: h, channels: r.channels, data };
    off = [px, py];
  }
  let scale = 1;
  const short = Math.min(img.width, img.height);
  if (minSide > short) {
    scale = minSide / short;
    img = resizeBilinear(img, Math.round(img.width * scale), Math.round(img.height * scale));
  }
  return { img, off, scale };
}

/** The weights ship inside the package; they are read from disk, never fetched. */
export function faceModelDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

let api: FaceApi | undefined;
const loaded = new Set<string>();

/**
 * Loads face-api's node-wasm build on the running engine and the weights it needs. face-api
 * requires '@tensorflow/tfjs' itself; npm dedupes it to ferkit's copy, and we check the engines are
 * one object, so its kernels run on our backend and our kernels serve it.
 */
export async function loadFaceApi(detector: DetectorName = 'ssd'): Promise<FaceApi> {
  await initEngine();
  if (!api) {
    const mod = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    if ((mod.tf as unknown as { engine(): unknown }).engine() !== tf.engine()) {
      throw new Error('face-api loaded a second TF.js engine: @tensorflow/tfjs is not deduplicated (run npm dedupe)');
    }
    api = mod;
  }
  const dir = faceModelDir();
  const nets = detector === 'ssd' ? ['ssdMobilenetv1', 'faceLandmark68Net'] : ['tinyFaceDetector', 'faceLandmark68Net'];
  for (const n of nets) {
    if (loaded.has(n)) continue;
    const net = (api.nets as unknown as Record<string, { loadFromDisk(d: string): Promise<void> }>)[n];
    await net.loadFromDisk(dir);
    loaded.add(n);
  }
  return api;
}

/** Faces in a raster, best first. Grey rasters are fed as RGB. */
export async function detectFaces(raster: Raster, opts: DetectOptions = {}): Promise<Face[]> {
  const detector = opts.detector ?? 'ssd';
  const fa = await loadFaceApi(detector);
  const prep = prepareForDetection(raster, opts.pad ?? 0, opts.minSide ?? 0);
  const back = (x: number, y: number): [number, number] => [x / prep.scale - prep.off[0], y / prep.scale - prep.off[1]];
  const rgb = toRgb(prep.img);
  const input = tf.tensor3d(Int32Array.from(rgb.data), [rgb.height, rgb.width, 3], 'int32');
  try {
    const options =
      detector === 'ssd'
        ? new fa.SsdMobilenetv1Options({ minConfidence: opts.minConfidence ?? 0.5, maxResults: opts.maxResults ?? 100 })
        : new fa.TinyFaceDetectorOptions({ scoreThreshold: opts.minConfidence ?? 0.5, inputSize: opts.inputSize ?? 416 });
    const found = await fa.detectAllFaces(input as unknown as Parameters<FaceApi['detectAllFaces']>[0], options).withFaceLandmarks();
    return found
      .map((f) => {
        const b = f.detection.box;
        const [x, y] = back(b.x, b.y);
        return {
          box: [x, y, b.width / prep.scale, b.height / prep.scale] as [number, number, number, number],
          score: f.detection.score,
          landmarks: f.landmarks.positions.map((p) => back(p.x, p.y)),
        };
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, opts.maxResults ?? Infinity);
  } finally {
    input.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Cache of aligned crops

export interface AlignedCacheOptions extends DetectOptions, AlignOptions {
  size: number;
  /** The cache lives in `<root>/.cache/ferkit/aligned/` (default root: FERKIT_CACHE_DIR or cwd). */
  root?: string;
  /** When no face is found: 'resize' the whole image (pre-cropped datasets such as CK+48) or 'skip'. */
  noFace?: 'resize' | 'skip';
  /** Draw a cli-progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
  /** Finds the face to align instead of detectFaces: a face, 'whole' (the picture is a face
   *  crop: resized whole, as noFace 'resize' does), or undefined (no face: noFace decides). */
  find?: (img: Raster) => Promise<Face | 'whole' | undefined>;
  /** Names `find` in the cache key, so crops found another way are cached apart. */
  findKey?: string;
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

export function alignedCacheDir(root?: string): string {
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
export function alignedKey(bytes: Buffer, o: AlignedCacheOptions): string {
  const settings = JSON.stringify({
    v: 1,
    size: o.size,
    margin: o.margin ?? 0.25,
    channels: o.channels ?? 3,
    detector: o.detector ?? 'ssd',
    minConfidence: o.minConfidence ?? 0.5,
    inputSize: o.inputSize ?? 416,
    pad: o.pad ?? 0,
    minSide: o.minSide ?? 0,
    noFace: o.noFace ?? 'resize',
    ...(o.findKey ? { find: o.findKey } : {}),
  });
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
        const face = opts.find ? await opts.find(img) : (await detectFaces(img, opts))[0];
        const found = face !== undefined && face !== 'whole';
        let crop: Raster | undefined;
        let path: string | undefined;
        if (found) {
          crop = alignFace(img, face, opts.size, { margin: opts.margin, channels });
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

/** Reads a cached crop back. */
export async function readAligned(entry: AlignedEntry, channels: 1 | 3 = 3): Promise<Raster> {
  if (!entry.path) throw new DataError(entry.id, 'no aligned crop (no face found and noFace is skip)');
  return decodeImageFile(entry.path, { channels });
}
