// Expressions over time. Every frame goes through the detector; faces keep their identity across
// frames by box IoU (tracker.ts). With a clip model (config.input.kind === 'clip') each face is
// classified on a sliding window of its last `frames` aligned crops (the first crops repeat until
// the window fills); with an image model each face's per-frame probabilities are smoothed by an
// exponential moving average whose weight follows the time step, α = 1 − exp(−Δt/τ), so the
// smoothing means the same at any frame rate (τ = 0.5 s by default; τ = 0 turns it off).
import type { Raster } from '../data/image.js';
import { decodeVideo, probeVideo } from '../data/video.js';
import { DataError } from '../data/errors.js';
import type { Recognizer } from './recognizer.js';
import { faceResult, topLabel } from './results.js';
import { IouTracker, type TrackerOptions } from './tracker.js';
import type { FaceSummary, FaceTimeline, FrameResult, TrackedFace, VideoResult, VideoSummary } from './types.js';

export interface TemporalOptions extends TrackerOptions {
  /** EMA time constant in seconds for image models (default 0.5; 0 = no smoothing). */
  tau?: number;
}

export interface VideoOptions extends TemporalOptions {
  /** Frames per second to analyse (default: the video's rate, at most 15). */
  fps?: number;
  /** Refuse videos longer than this many seconds (default: no limit). */
  maxDuration?: number;
  /** Stop after this many analysed frames. */
  maxFrames?: number;
  /** Called after each frame with (done, total). */
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

interface TrackState {
  ema?: Float64Array;
  lastTime: number;
  crops: Raster[];
}

/** Per-stream state: tracks, their smoothing or crop windows. One per video or live stream. */
export class FrameAnalyser {
  private readonly tracker: IouTracker;
  private readonly states = new Map<number, TrackState>();
  private index = 0;
  readonly tau: number;

  constructor(
    private readonly recognizer: Recognizer,
    opts: TemporalOptions = {},
  ) {
    this.tracker = new IouTracker(opts);
    this.tau = opts.tau ?? 0.5;
    if (!(this.tau >= 0)) throw new Error(`tau must be ≥ 0 seconds, got ${opts.tau}`);
  }

  get temporal(): VideoResult['temporal'] {
    const input = this.recognizer.config.input;
    return input.kind === 'clip' ? { mode: 'clip-window', frames: input.frames! } : { mode: 'ema', tau: this.tau };
  }

  /** Detects, tracks and classifies the faces of the next frame. */
  push(frame: Raster, time: number): Promise<FrameResult> {
    const rec = this.recognizer;
    return rec.serial(async () => {
      const faces = await rec.detect(frame);
      const { ids, ended } = this.tracker.update(faces.map((f) => f.box), time);
      for (const id of ended) this.states.delete(id);
      const crops = await Promise.all(faces.map((f) => rec.crop(frame, f)));
      const states = ids.map((id) => {
        const s = this.states.get(id) ?? { lastTime: time, crops: [] };
        this.states.set(id, s);
        return s;
      });
      const input = rec.config.input;
      let out: { probs: Record<string, number>[]; confidence: number[] };
      if (input.kind === 'clip') {
        const t = input.frames!;
        const windows = states.map((s, i) => {
          s.crops.push(crops[i]);
          if (s.crops.length > t) s.crops.shift();
          return [...new Array<Raster>(t - s.crops.length).fill(s.crops[0]), ...s.crops];
        });
        out = await rec.classify(windows);
      } else out = await rec.classify(crops);
      const result: TrackedFace[] = faces.map((f, i) => {
        const raw = out.probs[i];
        const smoothed = input.kind === 'clip' ? raw : this.smooth(states[i], raw, time);
        return { faceId: ids[i], ...faceResult(f, smoothed, out.confidence[i]), rawProbabilities: raw };
      });
      for (const s of states) s.lastTime = time;
      return { index: this.index++, time, width: frame.width, height: frame.height, faces: result };
    });
  }

  private smooth(s: TrackState, raw: Record<string, number>, time: number): Record<string, number> {
    const names = Object.keys(raw);
    const x = Float64Array.from(names.map((n) => raw[n]));
    if (!s.ema || this.tau === 0) s.ema = x;
    else {
      const a = 1 - Math.exp(-Math.max(0, time - s.lastTime) / this.tau);
      for (let k = 0; k < x.length; k++) s.ema[k] = a * x[k] + (1 - a) * s.ema[k];
    }
    return Object.fromEntries(names.map((n, k) => [n, s.ema![k]]));
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
      pts.push({ time: fr.time, frame: fr.index, box: f.box, probabilities: f.probabilities, label: f.label, confidence: f.confidence });
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

/** Decodes a video file at the analysis rate, checking its length first. */
export async function readVideoFrames(path: string, opts: Pick<VideoOptions, 'fps' | 'maxDuration' | 'maxFrames'> = {}): Promise<Required<VideoFrames>> {
  const info = await probeVideo(path);
  if (opts.maxDuration !== undefined && info.duration > opts.maxDuration) {
    throw new DataError(path, `video is ${info.duration.toFixed(1)} s long; the limit is ${opts.maxDuration} s`);
  }
  const native = Number.isFinite(info.fps) && info.fps > 0 ? info.fps : DEFAULT_VIDEO_FPS;
  const fps = opts.fps ?? Math.min(native, DEFAULT_VIDEO_FPS);
  // Sample only when asked for fewer frames than the video has: passthrough keeps true timestamps.
  const dec = await decodeVideo(path, { fps: fps < native - 1e-6 ? fps : undefined, maxFrames: opts.maxFrames, channels: 3 });
  return { frames: dec.frames, timestamps: dec.timestamps.map((t, i) => (Number.isFinite(t) ? t : i / fps)), fps: fps < native ? fps : native };
}

/** Expressions of every face over a video file or frames in memory. */
export async function recognizeVideo(rec: Recognizer, input: string | VideoFrames, opts: VideoOptions = {}): Promise<VideoResult> {
  const src = typeof input === 'string' ? await readVideoFrames(input, opts) : input;
  const fps = src.fps ?? opts.fps ?? 30;
  const n = Math.min(src.frames.length, opts.maxFrames ?? Infinity);
  if (n === 0) throw new Error(`${typeof input === 'string' ? input : 'video'}: no frames`);
  const analyser = new FrameAnalyser(rec, opts);
  const frames: FrameResult[] = [];
  const t0 = src.timestamps?.[0] ?? 0;
  for (let i = 0; i < n; i++) {
    frames.push(await analyser.push(src.frames[i], (src.timestamps?.[i] ?? i / fps) - t0));
    opts.onProgress?.(i + 1, n);
  }
  return { width: src.frames[0].width, height: src.frames[0].height, fps, temporal: analyser.temporal, frames, ...summarise(frames, rec.classes) };
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
