// The recognition API in the browser, no server needed: face-api's browser build (its own TF.js,
// WebGL or CPU backend) finds the faces and their 68 landmarks, each face is aligned exactly as in
// Node (detect/align.ts) and the model.onnx of a web model folder (a small one: `ferkit export
// --quantize int8`) runs on onnxruntime-web's wasm backend. Results have Node's shapes.
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm.js';
import * as ort from 'onnxruntime-web/wasm';
import { alignedCrop, type Face, type FoundFace } from '../detect/align.js';
import { imagesToFloat, resizeBilinear, type Raster } from '../data/raster.js';
import type { ModelConfig } from '../models/model.js';
import { FrameAnalyser, summarise, type FrameRecognizer, type TemporalOptions } from '../api/frames.js';
import { clipBox, DEFAULT_MAX_FACES, readingOrder } from '../detect/face-layout.js';
import { faceResult } from '../api/results.js';
import type { ExpressionLabel, FaceResult, FrameResult } from '../api/types.js';
import { toRaster, type BrowserImage } from './pixels.js';

export type BrowserDetector = 'ssd' | 'tiny';
export type BrowserBackend = 'wasm' | 'webgl' | 'cpu';

export interface BrowserRecognizerOptions {
  /** Web model folder URL (config.json + model.onnx). Default: `model/` beside ferkit.js. */
  modelUrl?: string | URL;
  /** face-api weights folder URL. Default: `face-models/` beside ferkit.js. */
  faceModelUrl?: string | URL;
  /** Folder URL of the .wasm files (onnxruntime-web's and TF.js's). Default: beside ferkit.js. */
  wasmUrl?: string | URL;
  /** 'ssd' (default, as in Node) or 'tiny' (faster, smaller weights). */
  detector?: BrowserDetector;
  /** TF.js backend of the detector: 'wasm' (default: Node's backend, so the same numbers; CPU
   *  with SIMD), 'webgl' (faster on a real GPU) or 'cpu' (slow; the fallback). */
  backend?: BrowserBackend;
  /** Minimum detector score (default 0.5). */
  minDetectionScore?: number;
  /** At most this many faces per image, best first (default 100, as in Node). */
  maxFaces?: number;
  /** Detect on a copy scaled down to this longest side (default 1024, as in Node; 0 = full size). */
  detectMaxSide?: number;
  /** Face crop margin around the landmarks (default 0.25, as in Node). */
  margin?: number;
}

/** One image's answer: the faces and the picture's size (box coordinates are in its pixels). */
export interface BrowserImageResult {
  width: number;
  height: number;
  faces: FaceResult[];
  /** Faces found beyond maxFaces and left out. */
  droppedFaces: number;
  /** The model's classes, in output order. */
  classes: ExpressionLabel[];
  /** Milliseconds from pixels to results. */
  ms: number;
  engine: string;
}

export interface StreamOptions extends TemporalOptions {
  /** Frames analysed per second at most (default 15, as Node analyses videos). */
  fps?: number;
  /** Stops the stream. */
  signal?: AbortSignal;
}

/** The tf calls used here; face-api's typings list only a subset of what its bundled TF.js has. */
interface TfRuntime {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  setWasmPaths(prefix: string): void;
  tensor3d(values: Int32Array, shape: [number, number, number], dtype: 'int32'): faceapi.tf.Tensor3D;
}
const tf = faceapi.tf as unknown as TfRuntime;

/** What is used of an onnxruntime-web session (its own types stay out of ferkit's declarations:
 *  onnxruntime-web is bundled into ferkit.js, not a dependency). */
interface OnnxSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>, fetches: string[]): Promise<Record<string, { data: unknown } | undefined>>;
  release(): Promise<void>;
}

const here = (path: string) => new URL(path, import.meta.url);
const folder = (u: string | URL) => {
  const s = String(u);
  return s.endsWith('/') ? s : `${s}/`;
};

async function fetchOk(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`ferkit: cannot fetch ${what} at ${url} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`ferkit: cannot fetch ${what} at ${url} (HTTP ${res.status})`);
  return res;
}

let backendReady: Promise<string> | undefined;

/** Picks the detector's TF.js backend once per page: the one asked for, else 'cpu'. */
function initBackend(wanted: BrowserBackend, wasmFolder: string): Promise<string> {
  backendReady ??= (async () => {
    if (wanted === 'wasm') tf.setWasmPaths(wasmFolder);
    for (const name of new Set([wanted, 'cpu'])) {
      try {
        if (await tf.setBackend(name)) {
          await tf.ready();
          return tf.getBackend();
        }
      } catch {
        // not available here: fall back to cpu
      }
    }
    throw new Error(`ferkit: no TF.js backend for face detection (${wanted}, cpu)`);
  })();
  return backendReady;
}

export class BrowserRecognizer implements FrameRecognizer {
  readonly engine = 'onnxruntime-web';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fetches: string[];

  constructor(
    readonly config: ModelConfig,
    private readonly session: OnnxSession,
    /** The TF.js backend face detection runs on. */
    readonly backend: string,
    readonly options: BrowserRecognizerOptions = {},
  ) {
    if (config.input.kind !== 'image') throw new Error(`ferkit: the browser build runs image models; this one is a ${config.input.kind} model`);
    this.fetches = session.outputNames.includes('confidence') ? ['probs', 'confidence'] : ['probs'];
  }

  /** The model's classes, in its output order. */
  get classes(): ExpressionLabel[] {
    return this.config.classes as ExpressionLabel[];
  }

  /** Runs `f` after every earlier call has finished (one detection at a time). */
  serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.queue.then(f, f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Faces of a raster in reading order (numbered as in Node), boxes clipped to it, in its pixels;
   *  large pictures are detected at detectMaxSide. */
  async detect(raster: Raster): Promise<FoundFace[]> {
    return (await this.frameFaces(raster)).faces;
  }

  /** detect() with the count of faces beyond maxFaces (FrameRecognizer). (Node's tiles for big
   *  pictures and its face-crop fallbacks are not in this build: one pass at detectMaxSide.) */
  async frameFaces(raster: Raster): Promise<{ faces: FoundFace[]; dropped: number }> {
    const o = this.options;
    const maxSide = o.detectMaxSide ?? 1024;
    const side = Math.max(raster.width, raster.height);
    const k = maxSide > 0 && side > maxSide ? side / maxSide : 1;
    const small = k === 1 ? raster : resizeBilinear(raster, Math.round(raster.width / k), Math.round(raster.height / k));
    const sx = raster.width / small.width;
    const sy = raster.height / small.height;
    const input = tf.tensor3d(Int32Array.from(small.data), [small.height, small.width, 3], 'int32');
    try {
      const score = o.minDetectionScore ?? 0.5;
      const maxFaces = o.maxFaces ?? DEFAULT_MAX_FACES;
      const options = (o.detector ?? 'ssd') === 'ssd' ? new faceapi.SsdMobilenetv1Options({ minConfidence: score, maxResults: Math.max(maxFaces, DEFAULT_MAX_FACES) }) : new faceapi.TinyFaceDetectorOptions({ scoreThreshold: score, inputSize: 416 });
      const found = (await faceapi.detectAllFaces(input, options).withFaceLandmarks())
        .map((f): Face => {
          const b = f.detection.box;
          return { box: [b.x * sx, b.y * sy, b.width * sx, b.height * sy], score: f.detection.score, landmarks: f.landmarks.positions.map((p) => [p.x * sx, p.y * sy]) };
        })
        .sort((a, b) => b.score - a.score);
      const kept = found.slice(0, maxFaces).map((f): FoundFace => ({ ...f, box: clipBox(f.box, raster.width, raster.height), detected: true }));
      return { faces: readingOrder(kept.filter((f) => f.box[2] > 0 && f.box[3] > 0)), dropped: Math.max(0, found.length - maxFaces) };
    } finally {
      input.dispose();
    }
  }

  /** The aligned crop the model sees for a face. */
  crop(raster: Raster, face: Face): Raster {
    const { size, channels } = this.config.input;
    return alignedCrop(raster, face, Math.max(size[0], size[1]), { margin: this.options.margin, channels });
  }

  /** The model on face crops. */
  async classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[] }> {
    if (items.length === 0) return { probs: [], confidence: [] };
    const input = this.config.input;
    const crops = items as readonly Raster[];
    const x = new ort.Tensor('float32', imagesToFloat(crops, input), [crops.length, input.size[0], input.size[1], input.channels]);
    const out = await this.session.run({ input: x }, this.fetches);
    const p = out.probs!.data as Float32Array;
    const c = this.classes.length;
    const probs = crops.map((_, i) => Object.fromEntries(this.classes.map((name, k) => [name, p[i * c + k]])));
    const conf = out.confidence?.data as Float32Array | undefined;
    return { probs, confidence: probs.map((q, i) => (conf ? conf[i] : Math.max(...Object.values(q)))) };
  }

  /** Faces and expressions of an image, a video's current frame, a canvas, a Blob or File. */
  async recognize(image: BrowserImage): Promise<FaceResult[]> {
    return (await this.recognizeImage(image)).faces;
  }

  /** recognize() with the picture's size and timing, as the server's /v1/recognize answers. */
  async recognizeImage(image: BrowserImage): Promise<BrowserImageResult> {
    const raster = await toRaster(image);
    return this.serial(async () => {
      const t0 = performance.now();
      const { faces, dropped } = await this.frameFaces(raster);
      const { probs, confidence } = await this.classify(faces.map((f) => this.crop(raster, f)));
      const results = faces.map((f, i) => faceResult(f, probs[i], confidence[i], i + 1));
      return { width: raster.width, height: raster.height, faces: results, droppedFaces: dropped, classes: this.classes, ms: performance.now() - t0, engine: `${this.engine} + face-api on ${this.backend}` };
    });
  }

  /**
   * Frame results of a playing video element (a file or the webcam), each face tracked across
   * frames and smoothed as in Node: `for await (const frame of rec.stream(video)) draw(frame)`.
   * Ends when the video ends or `signal` aborts; a paused video waits.
   */
  async *stream(video: HTMLVideoElement, opts: StreamOptions = {}): AsyncGenerator<FrameResult> {
    const analyser = new FrameAnalyser(this, opts);
    const gap = 1 / (opts.fps ?? 15);
    let last = -Infinity;
    while (!video.ended && !opts.signal?.aborted) {
      await nextFrame(video);
      const time = video.currentTime;
      if (video.paused || video.readyState < 2 || time - last < gap) continue;
      last = time;
      yield await analyser.push(await toRaster(video, 'video frame'), time);
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Resolves when the video shows a new frame (or after a short wait where that cannot be known). */
function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (typeof v.requestVideoFrameCallback === 'function' && !video.paused) v.requestVideoFrameCallback(() => resolve());
    else setTimeout(resolve, 30);
  });
}

/** Loads the web model (onnxruntime-web) and face-api's detector and landmark weights. */
export async function loadRecognizer(opts: BrowserRecognizerOptions = {}): Promise<BrowserRecognizer> {
  const modelUrl = folder(opts.modelUrl ?? here('./model/'));
  const faceUrl = folder(opts.faceModelUrl ?? here('./face-models/'));
  const wasmFolder = folder(opts.wasmUrl ?? here('./'));
  // Only the .wasm is fetched: its JS glue is inside ferkit.js.
  ort.env.wasm.wasmPaths = { wasm: `${wasmFolder}ort-wasm-simd-threaded.wasm` };
  // One thread: threads need a cross-origin-isolated page, and the web model is small.
  ort.env.wasm.numThreads = 1;
  const config = (await (await fetchOk(`${modelUrl}config.json`, 'the web model config')).json()) as ModelConfig;
  if (config?.format !== 'ferkit-model' || !Array.isArray(config.classes)) throw new Error(`ferkit: ${modelUrl}config.json is not a ferkit model config`);
  const bytes = new Uint8Array(await (await fetchOk(`${modelUrl}model.onnx`, 'the web model')).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const backend = await initBackend(opts.backend ?? 'wasm', wasmFolder);
  const detector = opts.detector ?? 'ssd';
  const nets = detector === 'ssd' ? [faceapi.nets.ssdMobilenetv1, faceapi.nets.faceLandmark68Net] : [faceapi.nets.tinyFaceDetector, faceapi.nets.faceLandmark68Net];
  for (const net of nets) if (!net.isLoaded) await net.loadFromUri(faceUrl);
  return new BrowserRecognizer(config, session, backend, opts);
}

/** Starts the webcam in a (new or given) muted video element; stop() releases the camera. */
export async function startWebcam(video: HTMLVideoElement = document.createElement('video'), constraints: MediaTrackConstraints = { width: 640, height: 480 }): Promise<{ video: HTMLVideoElement; stop: () => void }> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  return { video, stop: () => stream.getTracks().forEach((t) => t.stop()) };
}

export { summarise };
