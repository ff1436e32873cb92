// Expressions over time. Faces are detected every `detectInterval` seconds (0.2 s) and followed by
// the landmark net in the frames between (FrameAnalyser); they keep their identity across frames
// by box IoU (tracker.ts); a video's frames are classified a few frames per model call. With a clip model (config.input.kind === 'clip') each face is
// classified on a sliding window of its last `frames` aligned crops (the first crops repeat until
// the window fills); with an image model each face's per-frame probabilities are smoothed by an
// exponential moving average whose weight follows the time step, α = 1 − exp(−Δt/τ), so the
// smoothing means the same at any frame rate (τ = 0.5 s by default; τ = 0 turns it off).
import type { Face } from '../data/faces.js';
import type { Raster } from '../data/image.js';
import { openVideo, type VideoFrame } from '../data/video.js';
import type { Recognizer } from './recognizer.js';
import { faceResult, topLabel } from './results.js';
import { clipBox, type FoundFace } from './find-faces.js';
import { iou, IouTracker, type TrackerOptions } from './tracker.js';
import type { FaceSummary, FaceTimeline, FrameResult, TrackedFace, VideoResult, VideoSummary } from './types.js';

export interface TemporalOptions extends TrackerOptions {
  /** EMA time constant in seconds for image models (default 0.5; 0 = no smoothing). */
  tau?: number;
  /** Seconds between detector passes; in the frames between, faces are followed by the landmark
   *  net (default 0.2; 0 = detect every frame). The TF.js detector detects every frame. */
  detectInterval?: number;
}

export interface VideoOptions extends TemporalOptions {
  /** Frames per second to analyse (default: the video's rate, at most 15; a slower video is
   *  analysed at its own rate). */
  fps?: number;
  /** Refuse videos longer than this many seconds (default: no limit): checked on the metadata
   *  and on the decoded frames. */
  maxDuration?: number;
  /** Refuse frames larger than this many pixels (default: no limit). */
  maxPixels?: number;
  /** Stop after this many analysed frames. */
  maxFrames?: number;
  /** Video files: frames are scaled down in ffmpeg so their longer side is at most this
   *  (default 1280); results are given in the video's own pixels. */
  maxSide?: number;
  /** How errors name a video file (default: its path). */
  name?: string;
  /** Before the first frame: the analysed frames' size and rate, and how many frames are expected. */
  onStart?: (s: { width: number; height: number; fps: number; frames: number }) => void | Promise<void>;
  /** After each frame: the analysed frame and its result in that frame's pixels (annotation). */
  onFrame?: (image: Raster, result: FrameResult) => void | Promise<void>;
  /** Called after each frame with (done, expected total). */
  onProgress?: (done: number, total: number) => void;
}

/** Frames already in memory; times default to index / fps. */
export interface VideoFrames {
  frames: readonly Raster[];
  timestamps?: readonly number[];
  fps?: number;
}

/** A frame of a live stream; time defaults to seconds since the stream's first frame. */
export type StreamFrame = Raster | { image: Raster; time?: number };

export const DEFAULT_VIDEO_FPS = 15;
export const DEFAULT_VIDEO_MAX_SIDE = 1280;
/** Frames of a video classified together in one model call. */
export const VIDEO_BATCH_FRAMES = 8;

interface TrackState {
  /** EMA of the probabilities (and of the method's own confidence, last, when it has one). */
  ema?: Float64Array;
  lastTime: number;
  crops: Raster[];
}

/** A frame's look in brief: mean grey level of an 8x8 grid of cells (every 4th pixel read). */
export function frameSignature(r: Raster): Float32Array {
  const sig = new Float32Array(64);
  const count = new Float32Array(64);
  const c = r.channels;
  for (let y = 0; y < r.height; y += 4) {
    const cy = Math.min(7, Math.floor((y * 8) / r.height));
    for (let x = 0; x < r.width; x += 4) {
      const o = (y * r.width + x) * c;
      const v = c === 3 ? (r.data[o] + r.data[o + 1] + r.data[o + 2]) / 3 : r.data[o];
      const k = cy * 8 + Math.min(7, Math.floor((x * 8) / r.width));
      sig[k] += v;
      count[k]++;
    }
  }
  for (let k = 0; k < 64; k++) sig[k] /= Math.max(1, count[k]);
  return sig;
}

/** Mean absolute difference of grid cells, 0-255, above which consecutive frames are a scene cut
 *  (a camera pan moves a frame's cells by a few grey levels; a cut to another shot by tens). */
export const SCENE_CUT = 30;

export function isSceneCut(a: Float32Array, b: Float32Array): boolean {
  let d = 0;
  for (let k = 0; k < 64; k++) d += Math.abs(a[k] - b[k]);
  return d / 64 > SCENE_CUT;
}

/** Where a face's detector box sits on its landmarks' bounding box: offsets and sizes as fractions
 *  of that box. Fixed at detection, it places the box on the landmarks of later frames. */
type Anchor = [number, number, number, number];

function landmarkBounds(f: Face): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of f.landmarks) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [x0, y0, Math.max(1e-6, x1 - x0), Math.max(1e-6, y1 - y0)];
}

function anchorOf(f: Face): Anchor {
  const [x, y, w, h] = landmarkBounds(f);
  return [(f.box[0] - x) / w, (f.box[1] - y) / h, f.box[2] / w, f.box[3] / h];
}

function boxOn(f: Face, a: Anchor): Face['box'] {
  const [x, y, w, h] = landmarkBounds(f);
  return [x + a[0] * w, y + a[1] * h, a[2] * w, a[3] * h];
}

/** A followed face whose new box overlaps where it was by less than this (IoU) is taken as lost. */
const FOLLOW_MIN_IOU = 0.3;
export const DEFAULT_DETECT_INTERVAL = 0.2;

/** A frame located (faces found or followed, crops cut) and waiting for its classification. */
interface Located {
  index: number;
  time: number;
  width: number;
  height: number;
  faces: FoundFace[];
  ids: number[];
  states: TrackState[];
  /** What the model sees per face: a crop, or a clip model's window of crops. */
  items: (Raster | Raster[])[];
  dropped: number;
  cut: boolean;
}

/** Per-stream state: tracks, their smoothing or crop windows. One per video or live stream. A
 *  scene cut ends every track (the same place on screen is another person after a cut). Faces are
 *  detected every `detectInterval` seconds (and after a cut); in the frames between, each face is
 *  followed by the landmark net alone, run where the face's box was placed on its landmarks of the
 *  previous frame (the detector's own box-to-landmarks placement, kept from its detection), which
 *  costs a few milliseconds per face instead of a detector pass per frame. */
export class FrameAnalyser {
  private readonly tracker: IouTracker;
  private readonly states = new Map<number, TrackState>();
  private index = 0;
  private signature: Float32Array | undefined;
  private size = '';
  private lastDetect = -Infinity;
  private lastDropped = 0;
  private followed: { face: FoundFace; anchor: Anchor }[] = [];
  readonly tau: number;
  readonly detectInterval: number;

  constructor(
    private readonly recognizer: Recognizer,
    opts: TemporalOptions = {},
  ) {
    this.tracker = new IouTracker(opts);
    this.tau = opts.tau ?? 0.5;
    if (!(this.tau >= 0)) throw new Error(`tau must be ≥ 0 seconds, got ${opts.tau}`);
    this.detectInterval = recognizer.canTrack ? (opts.detectInterval ?? DEFAULT_DETECT_INTERVAL) : 0;
    if (!(this.detectInterval >= 0)) throw new Error(`detectInterval must be ≥ 0 seconds, got ${opts.detectInterval}`);
  }

  get temporal(): VideoResult['temporal'] {
    const input = this.recognizer.config.input;
    return input.kind === 'clip' ? { mode: 'clip-window', frames: input.frames! } : { mode: 'ema', tau: this.tau };
  }

  /** Detects (or follows), tracks and classifies the faces of the next frame. */
  push(frame: Raster, time: number): Promise<FrameResult> {
    return this.recognizer.serial(async () => (await this.analyse([{ image: frame, time }]))[0]);
  }

  /** Several frames in order, their faces classified in one model call. */
  pushMany(frames: readonly { image: Raster; time: number }[]): Promise<FrameResult[]> {
    return this.recognizer.serial(() => this.analyse(frames));
  }

  private async analyse(frames: readonly { image: Raster; time: number }[]): Promise<FrameResult[]> {
    const located: Located[] = [];
    for (const f of frames) located.push(await this.locate(f.image, f.time));
    const out = await this.recognizer.classify(located.flatMap((l) => l.items) as Raster[]);
    let k = 0;
    return located.map((l) => {
      const n = l.faces.length;
      const slice = { probs: out.probs.slice(k, k + n), confidence: out.confidence.slice(k, k + n), own: out.own };
      k += n;
      return this.finish(l, slice);
    });
  }

  /** Finds the faces of a frame (detector, or following the previous frame's), their track ids and crops. */
  private async locate(frame: Raster, time: number): Promise<Located> {
    const rec = this.recognizer;
    const signature = frameSignature(frame);
    const size = `${frame.width}x${frame.height}`;
    const cut = this.signature !== undefined && (size !== this.size || isSceneCut(this.signature, signature));
    this.signature = signature;
    this.size = size;
    if (cut) {
      this.tracker.endAll();
      this.states.clear();
      this.followed = [];
    }
    const whole = rec.options.faces === 'whole';
    let faces: FoundFace[];
    let anchors: (Anchor | undefined)[];
    let dropped = this.lastDropped;
    if (whole || cut || time - this.lastDetect >= this.detectInterval - 1e-9) {
      ({ faces, dropped } = await rec.findFaces(frame, whole ? 'whole' : 'detect'));
      anchors = faces.map((f) => (f.detected && f.landmarks.length === 68 ? anchorOf(f) : undefined));
      this.lastDetect = time;
      this.lastDropped = dropped;
    } else ({ faces, anchors } = await this.follow(frame));
    const { ids, ended } = this.tracker.update(faces.map((f) => f.box), time);
    for (const id of ended) this.states.delete(id);
    this.followed = faces.flatMap((face, i) => (anchors[i] ? [{ face, anchor: anchors[i]! }] : []));
    const crops = await Promise.all(faces.map((f) => rec.crop(frame, f)));
    const states = ids.map((id) => {
      const s = this.states.get(id) ?? { lastTime: time, crops: [] };
      this.states.set(id, s);
      return s;
    });
    const input = rec.config.input;
    const items =
      input.kind === 'clip'
        ? states.map((s, i) => {
            const t = input.frames!;
            s.crops.push(crops[i]);
            if (s.crops.length > t) s.crops.shift();
            return [...new Array<Raster>(t - s.crops.length).fill(s.crops[0]), ...s.crops];
          })
        : crops;
    return { index: this.index++, time, width: frame.width, height: frame.height, faces, ids, states, items, dropped, cut };
  }

  /** The previous frame's faces found again by the landmark net alone, each with the anchor of its
   *  detection; a face whose box jumps (it left, or the net lost it) is dropped until the next
   *  detection. */
  private async follow(frame: Raster): Promise<{ faces: FoundFace[]; anchors: Anchor[] }> {
    const { width, height } = frame;
    const prev = this.followed.map((p) => ({ ...p, box: clipBox(boxOn(p.face, p.anchor), width, height) }));
    const found = await this.recognizer.landmarksAt(frame, prev.map((p) => ({ box: p.box, score: p.face.score })));
    const faces: FoundFace[] = [];
    const anchors: Anchor[] = [];
    found.forEach((f, i) => {
      if (!f) return;
      const box = clipBox(boxOn(f, prev[i].anchor), width, height);
      if (iou(box, prev[i].box) < FOLLOW_MIN_IOU) return;
      faces.push({ ...f, box, detected: true });
      anchors.push(prev[i].anchor);
    });
    return { faces, anchors };
  }

  private finish(l: Located, out: { probs: Record<string, number>[]; confidence: number[]; own: boolean }): FrameResult {
    const input = this.recognizer.config.input;
    const result: TrackedFace[] = l.faces.map((f, i) => {
      const raw = out.probs[i];
      const rawConfidence = out.confidence[i];
      const { probabilities, confidence } = input.kind === 'clip' ? { probabilities: raw, confidence: rawConfidence } : this.smooth(l.states[i], raw, out.own ? rawConfidence : undefined, l.time);
      return { ...faceResult(f, probabilities, confidence, l.ids[i]), rawProbabilities: raw, rawLabel: topLabel(raw), rawConfidence };
    });
    for (const s of l.states) s.lastTime = l.time;
    return { index: l.index, time: l.time, width: l.width, height: l.height, faces: result, droppedFaces: l.dropped, ...(l.cut ? { sceneCut: true } : {}) };
  }

  /** The EMA of a track's probabilities; the confidence is the smoothed top probability, or the
   *  smoothed confidence of a method that has its own (ARBEx). */
  private smooth(s: TrackState, raw: Record<string, number>, own: number | undefined, time: number): { probabilities: Record<string, number>; confidence: number } {
    const names = Object.keys(raw);
    const x = Float64Array.from([...names.map((n) => raw[n]), ...(own === undefined ? [] : [own])]);
    if (!s.ema || this.tau === 0) s.ema = x;
    else {
      const a = 1 - Math.exp(-Math.max(0, time - s.lastTime) / this.tau);
      for (let k = 0; k < x.length; k++) s.ema[k] = a * x[k] + (1 - a) * s.ema[k];
    }
    const probabilities = Object.fromEntries(names.map((n, k) => [n, s.ema![k]]));
    return { probabilities, confidence: own === undefined ? Math.max(...names.map((_, k) => s.ema![k])) : s.ema[names.length] };
  }
}

function meanOf(rows: readonly Record<string, number>[], classes: readonly string[]): Record<string, number> {
  if (rows.length === 0) return {};
  return Object.fromEntries(classes.map((c) => [c, rows.reduce((a, r) => a + r[c], 0) / rows.length]));
}

/** Per-face timelines and summaries from analysed frames. */
export function summarise(frames: readonly FrameResult[], classes: readonly string[]): { timelines: FaceTimeline[]; summary: VideoSummary } {
  const byFace = new Map<number, FaceTimeline['points']>();
  for (const fr of frames) {
    for (const f of fr.faces) {
      const pts = byFace.get(f.faceId) ?? [];
      pts.push({
        time: fr.time,
        frame: fr.index,
        box: f.box,
        detected: f.detected,
        probabilities: f.probabilities,
        label: f.label,
        confidence: f.confidence,
        rawProbabilities: f.rawProbabilities,
        rawLabel: f.rawLabel,
        rawConfidence: f.rawConfidence,
      });
      byFace.set(f.faceId, pts);
    }
  }
  const timelines = [...byFace].sort((a, b) => a[0] - b[0]).map(([faceId, points]): FaceTimeline => {
    const mean = meanOf(points.map((p) => p.probabilities), classes);
    const share = Object.fromEntries(classes.map((c) => [c, points.filter((p) => p.label === c).length / points.length]));
    const summary: FaceSummary = {
      faceId,
      firstTime: points[0].time,
      lastTime: points[points.length - 1].time,
      frames: points.length,
      meanProbabilities: mean,
      dominantLabel: topLabel(mean),
      labelShare: share,
    };
    return { faceId, points, summary };
  });
  const all = frames.flatMap((fr) => fr.faces.map((f) => f.probabilities));
  const mean = meanOf(all, classes);
  const summary: VideoSummary = {
    frames: frames.length,
    duration: frames.length ? frames[frames.length - 1].time - frames[0].time : 0,
    faces: timelines.length,
    framesWithFaces: frames.filter((f) => f.faces.length > 0).length,
    meanProbabilities: mean,
    dominantLabel: all.length ? topLabel(mean) : null,
  };
  return { timelines, summary };
}

/** A frame result scaled from the analysed frame's pixels to the source video's. */
function scaleResult(fr: FrameResult, sx: number, sy: number, width: number, height: number): FrameResult {
  if (sx === 1 && sy === 1) return fr;
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const faces = fr.faces.map((f) => ({
    ...f,
    box: [r2(f.box[0] * sx), r2(f.box[1] * sy), r2(f.box[2] * sx), r2(f.box[3] * sy)] as TrackedFace['box'],
    landmarks: f.landmarks.map(([x, y]) => [r2(x * sx), r2(y * sy)] as [number, number]),
  }));
  return { ...fr, width, height, faces };
}

async function* inMemory(src: VideoFrames, fps: number): AsyncGenerator<VideoFrame> {
  for (const [i, image] of src.frames.entries()) yield { image, time: src.timestamps?.[i] ?? i / fps, index: i };
}

/**
 * Expressions of every face over a video file or frames in memory. A file is decoded frame by
 * frame as it is analysed (openVideo), so memory stays bounded whatever its length or size; only
 * the per-frame results are kept.
 */
export async function recognizeVideo(rec: Recognizer, input: string | VideoFrames, opts: VideoOptions = {}): Promise<VideoResult> {
  let frames: AsyncIterable<VideoFrame>;
  let fps: number;
  let size: [number, number];
  let source: [number, number];
  let expected: number;
  const name = typeof input === 'string' ? (opts.name ?? input) : 'video';
  if (typeof input === 'string') {
    const want = opts.fps ?? DEFAULT_VIDEO_FPS;
    const video = await openVideo(input, {
      fps: want,
      onlyIfFaster: true,
      maxSide: opts.maxSide ?? DEFAULT_VIDEO_MAX_SIDE,
      maxDuration: opts.maxDuration,
      maxPixels: opts.maxPixels,
      maxFrames: opts.maxFrames,
      name,
      channels: 3,
    });
    frames = video.frames;
    fps = video.fps;
    size = [video.width, video.height];
    source = [video.info.width, video.info.height];
    expected = video.expectedFrames;
  } else {
    if (input.frames.length === 0) throw new Error('video: no frames');
    fps = input.fps ?? opts.fps ?? 30;
    frames = inMemory(input, fps);
    size = source = [input.frames[0].width, input.frames[0].height];
    expected = Math.min(input.frames.length, opts.maxFrames ?? Infinity);
  }
  await opts.onStart?.({ width: size[0], height: size[1], fps, frames: expected });
  const analyser = new FrameAnalyser(rec, opts);
  const results: FrameResult[] = [];
  const [sx, sy] = [source[0] / size[0], source[1] / size[1]];
  let t0: number | undefined;
  // Frames go to the analyser in small groups, so one model call classifies the faces of several
  // frames; a group holds a few decoded frames at most, so memory stays bounded.
  let group: { image: Raster; time: number }[] = [];
  const flush = async () => {
    const rs = await analyser.pushMany(group);
    for (const [i, r] of rs.entries()) {
      await opts.onFrame?.(group[i].image, r);
      results.push(scaleResult(r, sx, sy, source[0], source[1]));
      opts.onProgress?.(results.length, Math.max(expected, results.length));
    }
    group = [];
  };
  const limit = opts.maxFrames ?? Infinity;
  for await (const f of frames) {
    if (results.length + group.length >= limit) break;
    t0 ??= f.time;
    group.push({ image: f.image, time: f.time - t0 });
    if (group.length === VIDEO_BATCH_FRAMES) await flush();
  }
  if (group.length) await flush();
  if (results.length === 0) throw new Error(`${name}: no frames`);
  return { width: source[0], height: source[1], fps, temporal: analyser.temporal, frames: results, ...summarise(results, rec.classes) };
}

/** Frame results of a live stream, as they come: `for await (const r of recognizeStream(rec, camera))`. */
export async function* recognizeStream(rec: Recognizer, source: AsyncIterable<StreamFrame> | Iterable<StreamFrame>, opts: TemporalOptions = {}): AsyncGenerator<FrameResult> {
  const analyser = new FrameAnalyser(rec, opts);
  let start: number | undefined;
  for await (const item of source) {
    const image = 'image' in item ? item.image : item;
    const now = performance.now() / 1000;
    start ??= now;
    const time = 'image' in item && item.time !== undefined ? item.time : now - start;
    yield await analyser.push(image, time);
  }
}
