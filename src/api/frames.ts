// Per-frame analysis shared by videos, live streams and the browser build (no Node APIs): faces are
// tracked across frames by box IoU (tracker.ts) and every track ends at a scene cut, an image
// model's probabilities are smoothed by an EMA whose weight follows the time step (label and
// confidence follow the smoothed probabilities; raw* keep the frame's own), a clip model sees each
// face's window of recent crops; summarise() turns frame results into per-face timelines and a
// video summary.
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
  /** Faces of a video frame, and how many a maxFaces cap left out. */
  detectFrame(raster: Raster): Promise<{ faces: (Face & { detected?: boolean })[]; dropped: number }>;
  crop(raster: Raster, face: Face): Raster;
  /** `own`: the confidences are the method's own (ARBEx), not the top probabilities. */
  classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[]; own?: boolean }>;
}

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

/** Per-stream state: tracks, their smoothing or crop windows. One per video or live stream. A
 *  scene cut ends every track (the same place on screen is another person after a cut). */
export class FrameAnalyser {
  private readonly tracker: IouTracker;
  private readonly states = new Map<number, TrackState>();
  private index = 0;
  private signature: Float32Array | undefined;
  private size = '';
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
      const signature = frameSignature(frame);
      const size = `${frame.width}x${frame.height}`;
      const cut = this.signature !== undefined && (size !== this.size || isSceneCut(this.signature, signature));
      this.signature = signature;
      this.size = size;
      if (cut) {
        this.tracker.endAll();
        this.states.clear();
      }
      const { faces, dropped } = await rec.detectFrame(frame);
      const { ids, ended } = this.tracker.update(faces.map((f) => f.box), time);
      for (const id of ended) this.states.delete(id);
      const crops = faces.map((f) => rec.crop(frame, f));
      const states = ids.map((id) => {
        const s = this.states.get(id) ?? { lastTime: time, crops: [] };
        this.states.set(id, s);
        return s;
      });
      const input = rec.config.input;
      let out: Awaited<ReturnType<FrameRecognizer['classify']>>;
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
        const rawConfidence = out.confidence[i];
        const { probabilities, confidence } = input.kind === 'clip' ? { probabilities: raw, confidence: rawConfidence } : this.smooth(states[i], raw, out.own ? rawConfidence : undefined, time);
        return { ...faceResult(f, probabilities, confidence, ids[i]), rawProbabilities: raw, rawLabel: topLabel(raw), rawConfidence };
      });
      for (const s of states) s.lastTime = time;
      return { index: this.index++, time, width: frame.width, height: frame.height, faces: result, droppedFaces: dropped, ...(cut ? { sceneCut: true } : {}) };
    });
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
