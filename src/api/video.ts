// Expressions over time in videos and live streams (Node): a video file is decoded frame by frame
// (openVideo, bounded memory) and its frames go to the FrameAnalyser (frames.ts, shared with the
// browser build) a few at a time, so one model call classifies the faces of several frames; faces
// are detected every `detectInterval` seconds (0.2 s) and followed by the landmark net in between,
// keep their identity across frames by box IoU (tracker.ts), and a scene cut ends every track.
// With a clip model (config.input.kind === 'clip') each face is classified on a sliding window of
// its last `frames` aligned crops (the first crops repeat until the window fills); with an image
// model each face's per-frame probabilities are smoothed by an exponential moving average whose
// weight follows the time step, α = 1 − exp(−Δt/τ), so the smoothing means the same at any frame
// rate (τ = 0.5 s by default; τ = 0 turns it off).
import type { Raster } from '../data/image.js';
import { openVideo, type VideoFrame } from '../data/video.js';
import { FrameAnalyser, summarise, type FrameRecognizer, type TemporalOptions } from './frames.js';
import type { FrameResult, TrackedFace, VideoResult } from './types.js';

export { FrameAnalyser, summarise, type FrameRecognizer, type TemporalOptions } from './frames.js';

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

const DEFAULT_VIDEO_FPS = 15;
const DEFAULT_VIDEO_MAX_SIDE = 1280;
/** Frames of a video classified together in one model call. */
export const VIDEO_BATCH_FRAMES = 8;

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
export async function recognizeVideo(rec: FrameRecognizer, input: string | VideoFrames, opts: VideoOptions = {}): Promise<VideoResult> {
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
  // frames. A group is classified while the next group's faces are found (at once when the model
  // has a thread of its own), so two groups of decoded frames are held at most: memory stays bounded.
  type Group = { frames: { image: Raster; time: number }[]; results: Promise<FrameResult[]> };
  let group: { image: Raster; time: number }[] = [];
  let inflight: Group | undefined;
  let taken = 0;
  const emit = async (g: Group) => {
    const rs = await g.results;
    for (const [i, r] of rs.entries()) {
      await opts.onFrame?.(g.frames[i].image, r);
      results.push(scaleResult(r, sx, sy, source[0], source[1]));
      opts.onProgress?.(results.length, Math.max(expected, results.length));
    }
  };
  const flush = async () => {
    const next: Group = { frames: group, results: (await analyser.locateMany(group)).results };
    group = [];
    if (inflight) await emit(inflight);
    inflight = next;
  };
  const limit = opts.maxFrames ?? Infinity;
  for await (const f of frames) {
    if (taken >= limit) break;
    taken++;
    t0 ??= f.time;
    group.push({ image: f.image, time: f.time - t0 });
    if (group.length === VIDEO_BATCH_FRAMES) await flush();
  }
  if (group.length) await flush();
  if (inflight) await emit(inflight);
  if (results.length === 0) throw new Error(`${name}: no frames`);
  return { width: source[0], height: source[1], fps, temporal: analyser.temporal, frames: results, ...summarise(results, rec.config.classes) };
}

/** Frame results of a live stream, as they come: `for await (const r of recognizeStream(rec, camera))`. */
export async function* recognizeStream(rec: FrameRecognizer, source: AsyncIterable<StreamFrame> | Iterable<StreamFrame>, opts: TemporalOptions = {}): AsyncGenerator<FrameResult> {
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
