// Face detection with @vladmandic/face-api on ferkit's own TF.js engine: SSD MobileNet v1 or
// TinyFaceDetector with 68-point landmarks. TF.js starts here, the first time face-api is loaded
// (the ONNX detector, detector.ts, runs without it).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initEngine, tf } from '../engine/backend.js';
import { resizeBilinear, toRgb, type Raster } from '../data/raster.js';
import type { Face } from './align.js';

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

/** A face found in prepareForDetection's picture, in the source's pixels. */
export function fromPrepared(f: Face, prep: { off: [number, number]; scale: number }): Face {
  const back = ([x, y]: [number, number]): [number, number] => [x / prep.scale - prep.off[0], y / prep.scale - prep.off[1]];
  return { ...f, box: [...back([f.box[0], f.box[1]]), f.box[2] / prep.scale, f.box[3] / prep.scale], landmarks: f.landmarks.map(back) };
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
  const rgb = toRgb(prep.img);
  const input = tf.tensor3d(Int32Array.from(rgb.data), [rgb.height, rgb.width, 3], 'int32');
  try {
    const options =
      detector === 'ssd'
        ? new fa.SsdMobilenetv1Options({ minConfidence: opts.minConfidence ?? 0.5, maxResults: opts.maxResults ?? 100 })
        : new fa.TinyFaceDetectorOptions({ scoreThreshold: opts.minConfidence ?? 0.5, inputSize: opts.inputSize ?? 416 });
    const found = await fa.detectAllFaces(input as unknown as Parameters<FaceApi['detectAllFaces']>[0], options).withFaceLandmarks();
    return found
      .map(({ detection: { box: b, score }, landmarks }) => fromPrepared({ box: [b.x, b.y, b.width, b.height], score, landmarks: landmarks.positions.map((p) => [p.x, p.y]) }, prep))
      .sort((a, b) => b.score - a.score)
      .slice(0, opts.maxResults ?? Infinity);
  } finally {
    input.dispose();
  }
}
