// The library's entry point for inference, one straight pipeline: decode → detect (detect/find-faces.ts
// around one low-level detector: face-api's nets on ONNX Runtime or TF.js, detect/detector.ts) →
// align (detect/crop.ts, eyes level, FER-style margin) → preprocess (data/raster.ts, the floats the
// runner takes) → run (a model runner on TF.js or ONNX Runtime, infer/load.ts) → results. Videos
// and live streams are in video.ts.
import { checkRaster, decodeImageFile, type Raster } from '../data/image.js';
import { clipsToFloat, imagesToFloat } from '../data/raster.js';
import type { Face } from '../detect/align.js';
import { modelCrop } from '../detect/crop.js';
import { loadFaceDetector, tfjsFaceDetector, type FaceDetectorBackend } from '../detect/detector.js';
import type { DetectorName } from '../detect/face-api.js';
import { findFaces, type FaceDetector, type FaceMode, type FoundFaces } from '../detect/find-faces.js';
import { loadModelFolder, type RuntimeChoice } from '../infer/load.js';
import { openThreadRunner } from '../infer/thread-runner.js';
import { bundledModelDir } from '../models/files.js';
import type { ModelRunner } from '../infer/runner.js';
import type { ModelConfig } from '../models/model.js';
import { decodeImageBytes, type DecodeBytesOptions } from './decode.js';
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
  engine?: RuntimeChoice;
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
  /** Run the expression model on a worker thread of its own (default false): a video's frames
   *  are then classified a group at a time while the next group's faces are found, on a second
   *  core (recognizeVideo); a single picture or a live stream (one frame at a time) gains nothing. */
  modelThread?: boolean;
  /** Hears notes such as an ONNX → TF.js fallback. */
  onNote?: (note: string) => void;
  /** Hears each pipeline stage as it finishes, with its milliseconds (profiling, tests). */
  onStage?: (stage: PipelineStage, ms: number) => void;
}

/** The stages one picture passes through, in order. */
export type PipelineStage = 'decode' | 'detect' | 'align' | 'preprocess' | 'run';

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

  /** Faces of a video frame: the detector only (or the whole frame when options.faces is 'whole'),
   *  and how many the maxFaces cap left out (FrameRecognizer). */
  frameFaces(raster: Raster): Promise<FoundFaces> {
    return this.findFaces(raster, this.options.faces === 'whole' ? 'whole' : 'detect');
  }

  /** The crop the model sees for a face (detect/crop.ts modelCrop). */
  crop(raster: Raster, face: Face): Promise<Raster> {
    return modelCrop(raster, face, this.config.input, this.options.margin);
  }

  /** Runs the model on face crops (image models) or crop windows (clip models). */
  async classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[]; own: boolean }> {
    if (items.length === 0) return { probs: [], confidence: [], own: false };
    const input = this.config.input;
    const clip = input.kind === 'clip';
    // A clip model shown a still image sees the crop repeated over its window.
    const [h, w] = input.size;
    const x = await this.stage('preprocess', () =>
      clip ? clipsToFloat(items.map((it) => (Array.isArray(it) ? (it as Raster[]) : new Array<Raster>(input.frames!).fill(it as Raster))), input) : imagesToFloat(items as Raster[], input),
    );
    const out = await this.stage('run', () => this.runner.run(x, clip ? [items.length, input.frames!, h, w, input.channels] : [items.length, h, w, input.channels]));
    const c = this.classes.length;
    const probs = items.map((_, i) => Object.fromEntries(this.classes.map((name, k) => [name, out.probs[i * c + k]])));
    const confidence = probs.map((p, i) => (out.confidence ? out.confidence[i] : Math.max(...Object.values(p))));
    return { probs, confidence, own: out.confidence !== undefined };
  }

  /** Runs one pipeline stage and tells options.onStage how long it took. */
  private async stage<T>(name: PipelineStage, f: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    const out = await f();
    this.options.onStage?.(name, performance.now() - t0);
    return out;
  }

  /** Faces in an image with their expression probabilities, in reading order (faceId 1, 2, ...),
   *  and how many faces the maxFaces cap left out. */
  recognizeImage(image: ImageInput, opts: { faces?: FaceMode } = {}): Promise<ImageResult> {
    return this.serial(async () => {
      const raster = await this.stage('decode', () => this.toRaster(image));
      const { faces, dropped } = await this.stage('detect', () => this.findFaces(raster, opts.faces));
      const crops = await this.stage('align', () => Promise.all(faces.map((f) => this.crop(raster, f))));
      const { probs, confidence } = await this.classify(crops);
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

/** Loads the model (default: bundled) on the best runtime here and the face detector; TF.js
 *  starts only if one of them runs on it. */
export async function loadRecognizer(opts: RecognizerOptions = {}): Promise<Recognizer> {
  const load = { runtime: opts.engine, onNote: opts.onNote };
  const runner = opts.modelThread ? await openThreadRunner(opts.model ?? bundledModelDir(), load) : await loadModelFolder(opts.model, load);
  return new Recognizer(runner, opts, await loadFaceDetector({ runtime: opts.engine, detector: opts.detector, onNote: opts.onNote }));
}
