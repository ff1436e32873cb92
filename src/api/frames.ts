// Per-frame analysis shared by videos, live streams and the browser build (no Node APIs): faces are
// tracked across frames by box IoU (tracker.ts), an image model's probabilities are smoothed by an
// EMA whose weight follows the time step, a clip model sees each face's window of recent crops;
// summarise() turns frame results into per-face timelines and a video summary.
import type { Face } from '../data/align.js';
import type { Raster } from '../data/raster.js';
import type { ModelConfig } from '../models/model.js';
import { faceResult, topLabel } from './results.js';
import { IouTracker, type TrackerOptions } from './tracker.js';
import type { FaceSummary, FaceTimeline, FrameResult, TrackedFace, VideoResult, VideoSummary } from './types.js';

export interface TemporalOptions extends TrackerOptions {
  /** EMA time constant in seconds for image models (default 0.5; 0 = no smoothing). */
  tau?: number;
}

/** What frame analysis needs from a recognizer (Node's Recognizer, the browser's). */
export interface FrameRecognizer {
  readonly config: ModelConfig;
  /** Runs `f` after every earlier call has finished. */
  serial<T>(f: () => Promise<T>): Promise<T>;
  detect(raster: Raster): Promise<Face[]>;
  crop(raster: Raster, face: Face): Raster;
  classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[] }>;
}

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
    private readonly recognizer: FrameRecognizer,
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
      const crops = faces.map((f) => rec.crop(frame, f));
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
