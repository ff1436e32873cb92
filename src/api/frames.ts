// Per-frame analysis shared by videos, live streams and the browser build (no Node APIs): faces are
// detected every `detectInterval` seconds and, where the recognizer can (Node's ONNX detector),
// followed by the landmark net alone in the frames between; they keep their identity across
// frames by box IoU (tracker.ts) and lose it at scene cuts; an image model's probabilities are
// smoothed by an EMA whose weight follows the time step (label and confidence follow the smoothed
// probabilities; raw* keep the frame's own), a clip model sees each face's window of recent crops;
// several frames may be classified in one model call (locateMany), while the next frames' faces
// are found; summarise() turns frame results into per-face timelines and a video summary.
import type { Face, FoundFace } from '../detect/align.js';
import type { Raster } from '../data/raster.js';
import type { ModelConfig } from '../models/model.js';
import { faceResult, topLabel } from './results.js';
import { clipBox } from '../detect/face-layout.js';
import { iou, IouTracker, type TrackerOptions } from './tracker.js';
import type { FaceSummary, FaceTimeline, FrameResult, TrackedFace, VideoResult, VideoSummary } from './types.js';

export interface TemporalOptions extends TrackerOptions {
  /** EMA time constant in seconds for image models (default 0.5; 0 = no smoothing). */
  tau?: number;
  /** Seconds between detector passes; in the frames between, faces are followed by the landmark
   *  net (default 0.2; 0 = detect every frame). The TF.js detector detects every frame. */
  detectInterval?: number;
}


/** What frame analysis needs from a recognizer (Node's Recognizer, the browser's). */
export interface FrameRecognizer {
  readonly config: ModelConfig;
  /** Runs `f` after every earlier call has finished. */
  serial<T>(f: () => Promise<T>): Promise<T>;
  /** The faces of a frame (the detector; the whole frame in 'whole' mode) and how many the
   *  faces cap left out. */
  frameFaces(raster: Raster): Promise<{ faces: FoundFace[]; dropped: number }>;
  crop(raster: Raster, face: Face): Raster | Promise<Raster>;
  classify(items: readonly Raster[] | readonly (readonly Raster[])[]): Promise<{ probs: Record<string, number>[]; confidence: number[]; own?: boolean }>;
  /** Whether landmarksAt can follow faces between detections. */
  readonly canTrack?: boolean;
  /** The 68 landmarks of faces at known boxes, in their order; undefined for a box outside the raster. */
  landmarksAt?(raster: Raster, faces: readonly { box: Face['box']; score: number }[]): Promise<(Face | undefined)[]>;
}

interface TrackState {
  /** EMA of the probabilities (and of the method's own confidence, last, when it has one). */
  ema?: Float64Array;
  lastTime: number;
  crops: Raster[];
}

/** A frame's look in brief: mean grey level of an 8x8 grid of cells (every 4th pixel read). */
function frameSignature(r: Raster): Float32Array {
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
const SCENE_CUT = 30;

function isSceneCut(a: Float32Array, b: Float32Array): boolean {
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
const DEFAULT_DETECT_INTERVAL = 0.2;

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
  /** The previous frame's faces, with the anchors of those that can be followed (landmarks). */
  private previous: { face: FoundFace; anchor?: Anchor }[] = [];
  readonly tau: number;
  readonly detectInterval: number;

  constructor(
    private readonly recognizer: FrameRecognizer,
    opts: TemporalOptions = {},
  ) {
    this.tracker = new IouTracker(opts);
    this.tau = opts.tau ?? 0.5;
    if (!(this.tau >= 0)) throw new Error(`tau must be ≥ 0 seconds, got ${opts.tau}`);
    this.detectInterval = recognizer.canTrack && recognizer.landmarksAt ? (opts.detectInterval ?? DEFAULT_DETECT_INTERVAL) : 0;
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

  /** Several frames in order, in two steps: their faces are found now (the returned promise
   *  resolves once they are), and `results` classifies and finishes them, in order after earlier
   *  calls' results, possibly while the caller finds the next frames' faces: with the model on a
   *  worker thread (RecognizerOptions.modelThread) the two run at once. The same results as
   *  push, frame by frame: finding faces never reads what classification writes (the tracks' smoothing). */
  async locateMany(frames: readonly { image: Raster; time: number }[]): Promise<{ results: Promise<FrameResult[]> }> {
    const located = await this.recognizer.serial(() => this.locateAll(frames));
    const classified = this.recognizer.classify(located.flatMap((l) => l.items) as Raster[]);
    classified.catch(() => undefined); // its failure reaches the caller through `results`
    const results = this.finished.then(async () => this.finishAll(located, await classified));
    this.finished = results.catch(() => undefined);
    return { results };
  }

  /** The results of earlier locateMany calls, finished in order. */
  private finished: Promise<unknown> = Promise.resolve();

  private async analyse(frames: readonly { image: Raster; time: number }[]): Promise<FrameResult[]> {
    const located = await this.locateAll(frames);
    return this.finishAll(located, await this.recognizer.classify(located.flatMap((l) => l.items) as Raster[]));
  }

  private async locateAll(frames: readonly { image: Raster; time: number }[]): Promise<Located[]> {
    const located: Located[] = [];
    for (const f of frames) located.push(await this.locate(f.image, f.time));
    return located;
  }

  private finishAll(located: readonly Located[], out: { probs: Record<string, number>[]; confidence: number[]; own?: boolean }): FrameResult[] {
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
      this.previous = [];
    }
    let current: { face: FoundFace; anchor?: Anchor }[];
    let dropped = this.lastDropped;
    if (cut || time - this.lastDetect >= this.detectInterval - 1e-9) {
      const found = await rec.frameFaces(frame);
      current = found.faces.map((face) => ({ face, anchor: face.detected && face.landmarks.length === 68 ? anchorOf(face) : undefined }));
      dropped = found.dropped;
      this.lastDetect = time;
      this.lastDropped = dropped;
    } else current = await this.follow(frame);
    this.previous = current;
    const faces = current.map((c) => c.face);
    const { ids, ended } = this.tracker.update(faces.map((f) => f.box), time);
    for (const id of ended) this.states.delete(id);
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

  /** The previous frame's faces found again by the landmark net alone, each keeping the anchor of
   *  its detection; a face whose box jumps (it left, or the net lost it) is dropped until the next
   *  detection. Faces without landmarks (a whole picture taken as the face) stay where they were. */
  private async follow(frame: Raster): Promise<{ face: FoundFace; anchor?: Anchor }[]> {
    const { width, height } = frame;
    const prev = this.previous.flatMap((p) => (p.anchor ? [{ face: p.face, anchor: p.anchor, box: clipBox(boxOn(p.face, p.anchor), width, height) }] : []));
    const found = prev.length ? await this.recognizer.landmarksAt!(frame, prev.map((p) => ({ box: p.box, score: p.face.score }))) : [];
    const out: { face: FoundFace; anchor?: Anchor }[] = this.previous.filter((p) => !p.anchor);
    found.forEach((f, i) => {
      if (!f) return;
      const box = clipBox(boxOn(f, prev[i].anchor), width, height);
      if (iou(box, prev[i].box) >= FOLLOW_MIN_IOU) out.push({ face: { ...f, box, detected: true }, anchor: prev[i].anchor });
    });
    return out;
  }

  private finish(l: Located, out: { probs: Record<string, number>[]; confidence: number[]; own?: boolean }): FrameResult {
    const input = this.recognizer.config.input;
    const result: TrackedFace[] = l.faces.map((f, i) => {
      const raw = out.probs[i];
      const rawConfidence = out.confidence[i];
      const { probabilities, confidence } = input.kind === 'clip' ? { probabilities: raw, confidence: rawConfidence } : this.smooth(l.states[i], raw, out.own === true ? rawConfidence : undefined, l.time);
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
