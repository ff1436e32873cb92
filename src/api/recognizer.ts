// The library's entry point for inference: a Recognizer pairs face finding (find-faces.ts around
// one low-level detector: face-api's nets on ONNX Runtime or TF.js, face-detector.ts) with a model
// runner (TF.js or ONNX, infer/load.ts). recognize() finds the faces of an image, aligns each crop
// to the model's input (eyes level, FER-style margin) and returns the expression probabilities;
// videos and live streams are in video.ts.
import { alignmentFor, alignPrescale, warpPrescaled, type DetectorName, type Face } from '../data/faces.js';
import sharp from 'sharp';
import { checkRaster, crop as cropRaster, decodeImageFile, resizeBilinear, withChannels, type Raster } from '../data/image.js';
import { initEngine } from '../engine/backend.js';
import { loadRunner, type EngineChoice } from '../infer/load.js';
import type { ModelRunner } from '../infer/runner.js';
import type { ModelConfig } from '../models/model.js';
import { clipsToFloat, imagesToFloat } from '../models/preprocess.js';
import { decodeImageBytes, type DecodeBytesOptions } from './decode.js';
import { OnnxFaceDetector, tfjsFaceDetector, type FaceDetectorBackend } from './face-detector.js';
import { findFaces, type FaceDetector, type FaceMode, type FoundFace, type FoundFaces } from './find-faces.js';
import { faceResult } from './results.js';
import type { ExpressionLabel, FaceResult, ImageResult, VideoResult, FrameResult } from './types.js';
import { recognizeStream, recognizeVideo, type StreamFrame, type TemporalOptions, type VideoFrames, type VideoOptions } from './video.js';

/** A file path, encoded image bytes, or a decoded raster. */
export type ImageInput = string | Uint8Array | Raster;

export interface RecognizerOptions {
  /** Model folder (default: the bundled FER2013 model). */
  model?: string;
  /** Inference engine (default 'auto': ONNX when the folder has model.onnx and it loads). The face
   *  detector follows it: face-api's SSD exported to ONNX unless 'tfjs' (face-api on TF.js). */
  engine?: EngineChoice;
  /** Face detector: 'ssd' (default, more accurate) or 'tiny' (TF.js only). */
  detector?: DetectorName;
  /** Another low-level detector in its place (raster in, boxes + landmarks out). */
  faceDetector?: FaceDetector;
  /** How faces are found in pictures: 'auto' (default: detect; face crops the detector misses
   *  are retried on padded copies, then taken whole), 'detect' (the detector only) or 'whole'
   *  (every picture is one face). Videos use 'detect' unless this is 'whole'. */
  faces?: FaceMode;
  /** Minimum detector score (default 0.5). */
  minDetectionScore?: number;
  /** At most this many faces per image or frame, best first (default 100); results count the
   *  faces left out. */
  maxFaces?: number;
  /** TF.js detector: detect on a copy scaled down to this longest side (default 1024; 0 = full
   *  size). SSD sees 512x512 whatever it is given, so this loses little and saves most of the
   *  detection time. (The ONNX detector letterboxes the full picture with sharp directly.) */
  detectMaxSide?: number;
  /** Pictures with a longer side above this are also detected in overlapping tiles (default 2560; 0 = never). */
  tileAbove?: number;
  /** Face crop margin around the landmarks (alignmentFor; default 0.25, as in training with --align). */
  margin?: number;
  /** Hears notes such as an ONNX → TF.js fallback. */
  onNote?: (note: string) => void;
}

/** Area-averaging downscale with libvips (much faster than a JS bilinear pass on photos), of the
 *  whole raster or of a region [x, y, w, h]. */
async function resizeRaster(r: Raster, width: number, height: number, region?: [number, number, number, number]): Promise<Raster> {
  let img = sharp(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length), { raw: { width: r.width, height: r.height, channels: r.channels } });
  if (region) img = img.extract({ left: region[0], top: region[1], width: region[2], height: region[3] });
  const { data, info } = await img
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: r.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export class Recognizer {
  readonly config: ModelConfig;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runner: ModelRunner,
    readonly options: Omit<RecognizerOptions, 'model' | 'engine'> = {},
    readonly backend: FaceDetectorBackend = tfjsFaceDetector,
  ) {
    this.config = runner.config;
  }

  /** The model's classes, in its output order (canonical expression names). */
  get classes(): ExpressionLabel[] {
    return this.config.classes as ExpressionLabel[];
  }

  get engine(): string {
    return this.runner.engine;
  }

  /** Where the face detector runs: 'onnxruntime', 'tfjs', or 'custom' (options.faceDetector). */
  get detectorEngine(): string {
    return this.options.faceDetector ? 'custom' : this.backend.engine;
  }

  /** Runs `f` after every earlier call has finished: TF.js and the detector are used by one
   *  request at a time, so concurrent callers queue instead of interleaving. */
  serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async toRaster(image: ImageInput, decode: DecodeBytesOptions = {}): Promise<Raster> {
    if (typeof image === 'string') return decodeImageFile(image, { channels: 3 });
    if (image instanceof Uint8Array) return decodeImageBytes(image, 'image', decode);
    return checkRaster(image, 'raster');
  }

  /** The one low-level detector call: options.faceDetector, else face-api's nets (SSD or tiny). */
  private readonly detector: FaceDetector = (raster, o) => (this.options.faceDetector ?? ((r, d) => this.backend.detect(r, { ...d, detector: this.options.detector })))(raster, o);

  /** Faces of a raster (no expressions), in reading order, in the raster's pixels; `mode`
   *  defaults to the recognizer's (options.faces, 'auto'). */
  findFaces(raster: Raster, mode: FaceMode = this.options.faces ?? 'auto'): Promise<FoundFaces> {
    const o = this.options;
    // The ONNX detector letterboxes whatever it is given with libvips: no scaled copy first.
    const detectMaxSide = o.detectMaxSide ?? (o.faceDetector || this.backend.engine === 'tfjs' ? undefined : 0);
    return findFaces(raster, this.detector, { mode, minConfidence: o.minDetectionScore, maxFaces: o.maxFaces, detectMaxSide, tileAbove: o.tileAbove });
  }

  /** Whether faces can be followed between detections (landmarksAt): the ONNX back end can. */
  get canTrack(): boolean {
    return !this.options.faceDetector && this.backend.landmarks !== undefined;
  }

  /** The 68 landmarks of faces at known boxes in this raster (a face followed from the previous
   *  frame), in one batch, in their order; undefined for a box outside the raster. */
  async landmarksAt(raster: Raster, faces: readonly { box: Face['box']; score: number }[]): Promise<(Face | undefined)[]> {
    if (!this.canTrack) throw new Error(`the ${this.detectorEngine} face detector cannot follow faces between detections`);
    return this.backend.landmarks!(raster, faces);
  }

  /** Faces of a video frame: the detector only (or the whole frame when options.faces is 'whole'). */
  async detect(raster: Raster): Promise<FoundFace[]> {
    return (await this.frameFaces(raster)).faces;
  }

  /** detect() with the count of faces the maxFaces cap left out (FrameRecognizer). */
  frameFaces(raster: Raster): Promise<FoundFaces> {
    return this.findFaces(raster, this.options.faces === 'whole' ? 'whole' : 'detect');
  }

  /** The crop the model sees for a face: aligned (eyes level, the margin around the landmarks), in
   *  the model's size and channels. Reads only the source square the crop covers; when that
   *  shrinks by more than 2x, libvips pre-shrinks it (antialiased) and the bilinear warp runs on
   *  the small copy, as alignFace does in JS for training crops. A face without landmarks (taken
   *  whole, not detected) is its box resized, as FER-style crops are. */
  async crop(raster: Raster, face: Face): Promise<Raster> {
    const { size, channels } = this.config.input;
    if (face.landmarks.length !== 68) return withChannels(resizeBilinear(raster, size[1], size[0], face.box), channels);
    const a = alignmentFor(face, Math.max(size[0], size[1]), this.options.margin ?? 0.25);
    // The rotated square's bounding box in the source, a pixel more for the bilinear taps.
    const reach = (a.size / a.scale) * Math.SQRT1_2 + 2;
    const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
    const x0 = clamp(Math.floor(a.centre[0] - reach), raster.width - 1);
    const y0 = clamp(Math.floor(a.centre[1] - reach), raster.height - 1);
    const w = clamp(Math.ceil(a.centre[0] + reach), raster.width) - x0;
    const h = clamp(Math.ceil(a.centre[1] + reach), raster.height) - y0;
    if (w < 1 || h < 1) return withChannels({ width: a.size, height: a.size, channels: raster.channels, data: new Uint8Array(a.size * a.size * raster.channels) }, channels);
    const local = { ...a, centre: [a.centre[0] - x0, a.centre[1] - y0] as [number, number] };
    const k = alignPrescale(a);
    const src = k > 1 ? await resizeRaster(raster, Math.max(1, Math.round(w / k)), Math.max(1, Math.round(h / k)), [x0, y0, w, h]) : cropRaster(raster, x0, y0, w, h);
    return withChannels(warpPrescaled(src, w, h, local), channels);
  }

  /** Runs the model on face crops (image models) or crop windows (clip models). */
  async classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[]; own: boolean }> {
    if (items.length === 0) return { probs: [], confidence: [], own: false };
    const input = this.config.input;
    const clip = input.kind === 'clip';
    // A clip model shown a still image sees the crop repeated over its window.
    const [h, w] = input.size;
    const x = clip
      ? clipsToFloat(items.map((it) => (Array.isArray(it) ? (it as Raster[]) : new Array<Raster>(input.frames!).fill(it as Raster))), input)
      : imagesToFloat(items as Raster[], input);
    const out = await this.runner.run(x, clip ? [items.length, input.frames!, h, w, input.channels] : [items.length, h, w, input.channels]);
    const c = this.classes.length;
    const probs = items.map((_, i) => Object.fromEntries(this.classes.map((name, k) => [name, out.probs[i * c + k]])));
    const confidence = probs.map((p, i) => (out.confidence ? out.confidence[i] : Math.max(...Object.values(p))));
    return { probs, confidence, own: out.confidence !== undefined };
  }

  /** Faces in an image with their expression probabilities, in reading order (faceId 1, 2, ...),
   *  and how many faces the maxFaces cap left out. */
  recognizeImage(image: ImageInput, opts: { faces?: FaceMode } = {}): Promise<ImageResult> {
    return this.serial(async () => {
      const raster = await this.toRaster(image);
      const { faces, dropped } = await this.findFaces(raster, opts.faces);
      const { probs, confidence } = await this.classify(await Promise.all(faces.map((f) => this.crop(raster, f))));
      return { width: raster.width, height: raster.height, faces: faces.map((f, i) => faceResult(f, probs[i], confidence[i], i + 1)), droppedFaces: dropped };
    });
  }

  /** Faces in an image with their expression probabilities, in reading order. */
  async recognize(image: ImageInput): Promise<FaceResult[]> {
    return (await this.recognizeImage(image)).faces;
  }

  /** Per-face timelines and summaries of a video file or frames in memory (see video.ts). */
  recognizeVideo(input: string | VideoFrames, opts: VideoOptions = {}): Promise<VideoResult> {
    return recognizeVideo(this, input, opts);
  }

  /** Async iteration over a live stream of frames: one result per frame, as it arrives. */
  stream(source: AsyncIterable<StreamFrame> | Iterable<StreamFrame>, opts: TemporalOptions = {}): AsyncGenerator<FrameResult> {
    return recognizeStream(this, source, opts);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.runner.dispose(), this.backend.dispose()]);
  }
}

/** The face detector for an engine choice: ONNX Runtime unless 'tfjs' or the tiny detector;
 *  'auto' falls back to TF.js with a note when onnxruntime cannot run it. */
export async function loadFaceDetector(opts: Pick<RecognizerOptions, 'engine' | 'detector' | 'onNote'> = {}): Promise<FaceDetectorBackend> {
  const engine = opts.engine ?? 'auto';
  if (engine === 'tfjs' || opts.detector === 'tiny') return tfjsFaceDetector;
  try {
    return await OnnxFaceDetector.load();
  } catch (e) {
    if (engine === 'onnx') throw e;
    opts.onNote?.(`face detection runs on TF.js: the ONNX detector did not load (${(e as Error).message.split('\n')[0]})`);
    return tfjsFaceDetector;
  }
}

/** Loads the model (default: bundled) on the best engine here and the face detector. */
export async function loadRecognizer(opts: RecognizerOptions = {}): Promise<Recognizer> {
  await initEngine();
  const runner = await loadRunner(opts.model, { engine: opts.engine, onNote: opts.onNote });
  return new Recognizer(runner, opts, await loadFaceDetector(opts));
}
