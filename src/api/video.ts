// Expressions over time. Every frame goes through the detector; faces keep their identity across
// frames by box IoU (tracker.ts). With a clip model (config.input.kind === 'clip') each face is
// classified on a sliding window of its last `frames` aligned crops (the first crops repeat until
// the window fills); with an image model each face's per-frame probabilities are smoothed by an
// exponential moving average whose weight follows the time step, α = 1 − exp(−Δt/τ), so the
// smoothing means the same at any frame rate (τ = 0.5 s by default; τ = 0 turns it off). The
// per-frame part (tracking, smoothing, summaries) is frames.ts, shared with the browser build.
import type { Raster } from '../data/image.js';
import { decodeVideo, probeVideo } from '../data/video.js';
import { DataError } from '../data/errors.js';
import { FrameAnalyser, summarise, type TemporalOptions } from './frames.js';
import type { Recognizer } from './recognizer.js';
import type { FrameResult, VideoResult } from './types.js';

export { FrameAnalyser, summarise, type FrameRecognizer, type TemporalOptions } from './frames.js';

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
