// The per-item code of a batch, the same on one machine (pool threads) and on queue workers: one
// photo or video (a path or an http(s) URL) through the recognition API, flattened to one row per
// face per image or analysed frame. It never throws: a bad input comes back as a failed outcome
// with its error, so one corrupt file never stops a batch.
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { tfjsFaceDetector } from '../detect/detector.js';
import { Recognizer } from '../api/recognizer.js';
import type { FaceResult, VideoResult } from '../api/types.js';
import type { MediaKind } from '../data/media-kinds.js';

/** What changes a batch's results besides the model; fixed for a results database. */
export interface BatchSettings {
  detector: 'ssd' | 'tiny';
  /** Minimum detector score (the recognizer's default when absent). */
  minScore?: number;
  /** Video frames per second analysed (default: the video's rate, at most 15). */
  fps?: number;
  /** EMA time constant for videos with an image model (default 0.5 s). */
  tau?: number;
}

/** One input to analyse. `kind` is 'auto' for a URL without a known extension (its Content-Type
 *  decides) and 'unknown' for a file whose extension is neither an image's nor a video's. */
export interface ItemTask {
  id: number;
  source: string;
  kind: MediaKind | 'auto' | 'unknown';
  /** Finished tries so far: the outcome counts for this try only (duplicates are dropped). */
  attempt: number;
  settings: BatchSettings;
}

export interface FaceRow {
  /** Analysed frame index (0 for an image). */
  frame: number;
  /** Seconds from the start of a video; null for an image. */
  time: number | null;
  /** The face's number: images: 1, 2, ... in reading order (as the API numbers them); videos: its
   *  track id (from 1). */
  face: number;
  box: [number, number, number, number];
  detectionScore: number;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
}

interface OutcomeBase {
  id: number;
  attempt: number;
  engine: string;
  /** Who processed it: host/pid. */
  worker: string;
  seconds: number;
}

export type ItemOutcome =
  | (OutcomeBase & { ok: true; kind: MediaKind; width: number; height: number; fps: number | null; frames: number; faces: FaceRow[] })
  | (OutcomeBase & { ok: false; error: string });

const isUrl = (s: string) => /^https?:\/\//i.test(s);

const row = (frame: number, time: number | null, face: number, f: FaceResult): FaceRow => ({
  frame,
  time,
  face,
  box: f.box,
  detectionScore: f.detectionScore,
  label: f.label,
  confidence: f.confidence,
  probabilities: f.probabilities,
});

export interface AnalyserOptions {
  /** host/pid recorded with each outcome. */
  worker: string;
  /** Set on queue workers: an input that is not readable here gets a message saying that workers
   *  need shared paths or URLs. */
  remote?: boolean;
  /** Seconds to wait for a URL's response (default 60). */
  fetchTimeout?: number;
}

/** Runs items on one recognizer (one per thread); settings may differ per item. */
export class ItemAnalyser {
  private readonly recognizers = new Map<string, Recognizer>();

  constructor(
    private readonly base: Recognizer,
    private readonly opts: AnalyserOptions,
  ) {}

  private recognizerFor(s: BatchSettings): Recognizer {
    const key = JSON.stringify([s.detector, s.minScore]);
    let rec = this.recognizers.get(key);
    if (!rec) {
      // The base's detector back end (face-api's nets on ONNX Runtime where they load); the tiny
      // detector exists on TF.js only.
      const backend = s.detector === 'tiny' ? tfjsFaceDetector : this.base.backend;
      rec = new Recognizer(this.base.runner, { ...this.base.options, detector: s.detector, minDetectionScore: s.minScore }, backend);
      this.recognizers.set(key, rec);
    }
    return rec;
  }

  async analyse(task: ItemTask): Promise<ItemOutcome> {
    const t0 = performance.now();
    const base = { id: task.id, attempt: task.attempt, engine: this.base.engine, worker: this.opts.worker };
    const seconds = () => (performance.now() - t0) / 1000;
    let local: LocalInput | undefined;
    try {
      local = await this.localInput(task);
      const rec = this.recognizerFor(task.settings);
      if (local.kind === 'image') {
        const raster = await rec.toRaster(local.path);
        const faces = await rec.recognize(raster);
        return { ...base, ok: true, kind: 'image', width: raster.width, height: raster.height, fps: null, frames: 1, faces: faces.map((f) => row(0, null, f.faceId, f)), seconds: seconds() };
      }
      const v: VideoResult = await rec.recognizeVideo(local.path, { fps: task.settings.fps, tau: task.settings.tau });
      const faces = v.frames.flatMap((fr) => fr.faces.map((f) => row(fr.index, fr.time, f.faceId, f)));
      return { ...base, ok: true, kind: 'video', width: v.width, height: v.height, fps: v.fps, frames: v.frames.length, faces, seconds: seconds() };
    } catch (e) {
      let message = e instanceof Error ? e.message : String(e);
      // Name the input as the batch knows it, not the temporary copy of a download.
      if (local && local.path !== task.source) message = message.split(local.path).join(task.source);
      if (!message.includes(task.source)) message = `${task.source}: ${message}`;
      return { ...base, ok: false, error: message, seconds: seconds() };
    } finally {
      if (local?.cleanup) await local.cleanup();
    }
  }

  /** A readable local file for the task: the path itself, or a URL downloaded to a temp folder. */
  private async localInput(task: ItemTask): Promise<LocalInput> {
    if (isUrl(task.source)) return download(task, (this.opts.fetchTimeout ?? 60) * 1000);
    if (task.kind === 'unknown' || task.kind === 'auto') {
      throw new Error(`${task.source}: unknown file type "${extname(task.source) || '(none)'}" (not an image or video extension)`);
    }
    try {
      await access(task.source, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`;
      if (!this.opts.remote) throw new Error(`${task.source}: ${what}`);
      throw new Error(`${task.source}: ${what} on worker ${this.opts.worker}; queue workers read every input themselves, so inputs must be at the same path on every worker (a shared folder) or http(s) URLs`);
    }
    return { path: task.source, kind: task.kind };
  }
}

interface LocalInput {
  path: string;
  kind: MediaKind;
  cleanup?: () => Promise<void>;
}

async function download(task: ItemTask, timeoutMs: number): Promise<LocalInput> {
  let res: Response;
  try {
    res = await fetch(task.source, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Error(`${task.source}: cannot fetch (${why})`);
  }
  if (!res.ok || !res.body) throw new Error(`${task.source}: cannot fetch (HTTP ${res.status} ${res.statusText})`);
  const pathname = new URL(task.source).pathname;
  let kind: MediaKind | undefined = task.kind === 'image' || task.kind === 'video' ? task.kind : undefined;
  if (!kind) {
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    kind = type.startsWith('image/') ? 'image' : type.startsWith('video/') ? 'video' : undefined;
    if (!kind) {
      await res.body.cancel();
      throw new Error(`${task.source}: unknown media type (Content-Type "${type || 'none'}", no image or video extension)`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'ferkit-batch-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, basename(pathname) || 'download');
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(path));
  } catch (e) {
    await cleanup();
    throw new Error(`${task.source}: download failed (${(e as Error).message})`);
  }
  return { path, kind, cleanup };
}
