// The library's entry point for inference: a Recognizer pairs a face detector (face-api, via
// data/faces.ts) with a model runner (TF.js or ONNX, infer/load.ts). recognize() finds the faces
// of an image, aligns each crop to the model's input (eyes level, FER-style margin) and returns the
// expression probabilities; videos and live streams are in video.ts.
import { alignedCrop, detectFaces, type DetectorName, type Face } from '../data/faces.js';
import sharp from 'sharp';
import { checkRaster, decodeImageFile, type Raster } from '../data/image.js';
import { initEngine } from '../engine/backend.js';
import { loadRunner, type EngineChoice } from '../infer/load.js';
import type { ModelRunner, RunnerOutput } from '../infer/runner.js';
import type { ModelConfig } from '../models/model.js';
import { clipsToInput, imagesToInput } from '../models/preprocess.js';
import { decodeImageBytes, type DecodeBytesOptions } from './decode.js';
import { faceResult } from './results.js';
import type { ExpressionLabel, FaceResult, VideoResult, FrameResult } from './types.js';
import { recognizeStream, recognizeVideo, type StreamFrame, type TemporalOptions, type VideoFrames, type VideoOptions } from './video.js';

/** A file path, encoded image bytes, or a decoded raster. */
export type ImageInput = string | Uint8Array | Raster;

export interface RecognizerOptions {
  /** Model folder (default: the bundled FER2013 model). */
  model?: string;
  /** Inference engine (default 'auto': ONNX when the folder has model.onnx and it loads). */
  engine?: EngineChoice;
  /** Face detector: 'ssd' (default, more accurate) or 'tiny' (faster). */
  detector?: DetectorName;
  /** Minimum detector score (default 0.5). */
  minDetectionScore?: number;
  /** At most this many faces per image, best first (default 20). */
  maxFaces?: number;
  /** Detect on a copy scaled down to this longest side (default 1024; 0 = full size). SSD sees
   *  512x512 whatever it is given, so this loses little and saves most of the detection time. */
  detectMaxSide?: number;
  /** Face crop margin around the landmarks (alignFace; default 0.25, as in training with --align). */
  margin?: number;
  /** Hears notes such as an ONNX → TF.js fallback. */
  onNote?: (note: string) => void;
}

/** Area-averaging downscale with libvips (much faster than a JS bilinear pass on photos). */
async function resizeRaster(r: Raster, width: number, height: number): Promise<Raster> {
  const { data, info } = await sharp(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length), { raw: { width: r.width, height: r.height, channels: r.channels } })
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

  /** Faces of a raster (detector only), best first, in the raster's pixels. */
  async detect(raster: Raster): Promise<Face[]> {
    const opts = { detector: this.options.detector, minConfidence: this.options.minDetectionScore, maxResults: this.options.maxFaces ?? 20 };
    const maxSide = this.options.detectMaxSide ?? 1024;
    const side = Math.max(raster.width, raster.height);
    if (maxSide <= 0 || side <= maxSide) return detectFaces(raster, opts);
    const k = side / maxSide;
    const small = await resizeRaster(raster, Math.round(raster.width / k), Math.round(raster.height / k));
    const sx = raster.width / small.width;
    const sy = raster.height / small.height;
    return (await detectFaces(small, opts)).map((f) => ({
      ...f,
      box: [f.box[0] * sx, f.box[1] * sy, f.box[2] * sx, f.box[3] * sy],
      landmarks: f.landmarks.map(([x, y]) => [x * sx, y * sy]),
    }));
  }

  /** The crop the model sees for a face: aligned, in the model's size and channels. */
  crop(raster: Raster, face: Face): Raster {
    const { size, channels } = this.config.input;
    return alignedCrop(raster, face, Math.max(size[0], size[1]), { margin: this.options.margin, channels });
  }

  /** Runs the model on face crops (image models) or crop windows (clip models). */
  async classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[] }> {
    if (items.length === 0) return { probs: [], confidence: [] };
    const input = this.config.input;
    const clip = input.kind === 'clip';
    // A clip model shown a still image sees the crop repeated over its window.
    const x = clip
      ? clipsToInput(items.map((it) => (Array.isArray(it) ? (it as Raster[]) : new Array<Raster>(input.frames!).fill(it as Raster))), input)
      : imagesToInput(items as Raster[], input);
    let out: RunnerOutput;
    try {
      out = await this.runner.run((await x.data()) as Float32Array, x.shape);
    } finally {
      x.dispose();
    }
    const c = this.classes.length;
    const probs = items.map((_, i) => Object.fromEntries(this.classes.map((name, k) => [name, out.probs[i * c + k]])));
    const confidence = probs.map((p, i) => (out.confidence ? out.confidence[i] : Math.max(...Object.values(p))));
    return { probs, confidence };
  }

  /** Faces in an image with their expression probabilities, best detection first. */
  recognize(image: ImageInput): Promise<FaceResult[]> {
    return this.serial(async () => {
      const raster = await this.toRaster(image);
      const faces = await this.detect(raster);
      const { probs, confidence } = await this.classify(faces.map((f) => this.crop(raster, f)));
      return faces.map((f, i) => faceResult(f, probs[i], confidence[i]));
    });
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
    await this.runner.dispose();
  }
}

/** Loads the model (default: bundled) on the best engine here and the face detector. */
export async function loadRecognizer(opts: RecognizerOptions = {}): Promise<Recognizer> {
  await initEngine();
  const runner = await loadRunner(opts.model, { engine: opts.engine, onNote: opts.onNote });
  return new Recognizer(runner, opts);
}
