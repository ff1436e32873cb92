// Video decoding and encoding through the ffmpeg/ffprobe binaries. Frames stream out of ffmpeg as
// raw RGB (or grey) on stdout, one at a time: openVideo's generator assembles a frame, hands it
// over and only then reads on, so the pipe fills and ffmpeg waits while the caller works; memory
// holds a frame or two whatever the video's length or size. ffmpeg scales frames to the size the
// caller wants (a fixed output size, so a stream that changes resolution mid-way still yields whole
// frames). A `showinfo` filter reports each frame's timestamp and decoded size on stderr, so
// variable-frame-rate clips keep their true times and the length and pixel limits are checked on
// the frames themselves, not on what the container claims. ffmpeg applies rotation metadata itself
// (autorotate is on by default), so frames arrive upright and probeVideo reports the displayed size.
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DataError } from './errors.js';
import type { Raster } from './raster.js';

/** ffmpeg binary: FERKIT_FFMPEG, else `ffmpeg` on PATH. */
export function ffmpegPath(): string {
  return process.env.FERKIT_FFMPEG || 'ffmpeg';
}

/** ffprobe binary: FERKIT_FFPROBE, else beside FERKIT_FFMPEG, else `ffprobe` on PATH. */
function ffprobePath(): string {
  if (process.env.FERKIT_FFPROBE) return process.env.FERKIT_FFPROBE;
  const ff = process.env.FERKIT_FFMPEG;
  if (ff && ff.includes('/')) return join(dirname(ff), basename(ff).replace(/ffmpeg/, 'ffprobe'));
  return 'ffprobe';
}

function notFound(bin: string): Error {
  return new Error(`${bin} not found: install ffmpeg (apt-get install ffmpeg) or set FERKIT_FFMPEG/FERKIT_FFPROBE`);
}

/** ffprobe's JSON on stdout (small) and its stderr. */
function probeRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffprobePath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? notFound(ffprobePath()) : e));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** ffmpeg's last messages, without per-frame showinfo lines, and with the file's path replaced
 *  by the name the caller uses for it (a server never echoes its temp paths). */
function lastLines(lines: readonly string[], path: string, name: string, n = 2): string {
  const kept = lines.map((l) => l.trim()).filter((l) => l && !l.includes('Parsed_showinfo'));
  return kept.slice(-n).join(' | ').split(path).join(name) || 'no message';
}

async function checkFile(path: string, name: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new DataError(name, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message.split(path).join(name)}`);
  }
  if (size === 0) throw new DataError(name, 'empty file (0 bytes)');
}

export interface VideoInfo {
  /** Displayed size, after rotation metadata is applied (what decodeVideo returns). */
  width: number;
  height: number;
  /** Stored (coded) size before rotation. */
  codedWidth: number;
  codedHeight: number;
  /** Rotation metadata: degrees (0, 90, 180, 270) the stored frames are turned clockwise for display. */
  rotation: number;
  /** Average frame rate (frames / duration) and the stream's base rate (r_frame_rate); they differ
   *  (by over 2%) for variable-frame-rate video, whose true times are DecodedVideo.timestamps. */
  fps: number;
  baseFps: number;
  /** True when the average and base rates differ: frames are not evenly spaced. */
  variableFrameRate: boolean;
  /** Seconds from the container; NaN when it does not say (raw streams). */
  duration: number;
  /** Frames in the stream (counted from packets when the container does not say). */
  frameCount: number;
  codec: string;
}

function parseRate(r: string | undefined): number {
  if (!r) return NaN;
  const [a, b] = r.split('/').map(Number);
  return b ? a / b : a;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

/** Metadata of the first video stream: size, rotation, frame rates, duration, frame count.
 *  Errors name the file as `name` (default: the path). */
export async function probeVideo(path: string, name = path): Promise<VideoInfo> {
  await checkFile(path, name);
  // -count_packets demuxes the whole file (no decoding): the frame count of streams whose
  // container gives no duration (raw H.264) comes from counting, not from metadata.
  const args = ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_streams', '-show_format', '-of', 'json', path];
  const r = await probeRun(args);
  if (r.code !== 0) throw new DataError(name, `not a video ffprobe can read (${lastLines(r.stderr.split('\n'), path, name)})`);
  let parsed: { streams?: ProbeStream[]; format?: { duration?: string } };
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new DataError(name, 'ffprobe printed unreadable metadata');
  }
  const s = parsed.streams?.[0];
  if (!s || !s.width || !s.height) throw new DataError(name, 'no video stream');
  // Rotation lives in the display matrix side data (ffmpeg ≥ 5) or the legacy `rotate` tag; the
  // matrix gives counter-clockwise degrees, the tag clockwise.
  let rotation = 0;
  const side = s.side_data_list?.find((d) => d.rotation !== undefined);
  if (side?.rotation !== undefined) rotation = -side.rotation;
  else if (s.tags?.rotate) rotation = Number(s.tags.rotate);
  rotation = (((Math.round(rotation / 90) * 90) % 360) + 360) % 360;
  const swap = rotation === 90 || rotation === 270;
  const baseFps = parseRate(s.r_frame_rate);
  const frameCount = Number(s.nb_read_packets ?? s.nb_frames ?? NaN);
  const duration = Number(s.duration ?? parsed.format?.duration ?? NaN);
  // Matroska reports avg_frame_rate = r_frame_rate even for variable rates; frames / duration does not lie.
  const counted = frameCount / duration;
  const fps = Number.isFinite(counted) && counted > 0 ? counted : parseRate(s.avg_frame_rate);
  return {
    width: swap ? s.height : s.width,
    height: swap ? s.width : s.height,
    codedWidth: s.width,
    codedHeight: s.height,
    rotation,
    fps,
    baseFps,
    variableFrameRate: Number.isFinite(fps) && Number.isFinite(baseFps) && Math.abs(fps - baseFps) > 0.02 * baseFps,
    duration,
    frameCount,
    codec: s.codec_name ?? 'unknown',
  };
}


/** Seconds the video plays: the container's duration, else the counted frames at the stream's rate. */
function playLength(info: VideoInfo): number {
  if (Number.isFinite(info.duration)) return info.duration;
  const rate = Number.isFinite(info.fps) && info.fps > 0 ? info.fps : info.baseFps;
  return info.frameCount / rate;
}

export interface VideoStreamOptions {
  /** Sample at this rate (ffmpeg `fps` filter: frames nearest each tick). */
  fps?: number;
  /** With `fps`: sample only when the stream is faster; a slower one keeps its own frames and times. */
  onlyIfFaster?: boolean;
  /** Only these frame indices (0-based, stream order, ascending, no repeats). */
  select?: readonly number[];
  /** Stop after this many output frames (not an error). */
  maxFrames?: number;
  /** 3 = RGB (default), 1 = grey. */
  channels?: 1 | 3;
  /** Every frame resized to width×height (bilinear) while decoding. */
  size?: [number, number];
  /** Frames scaled down (area filter, aspect kept) so that the longer side is at most this. */
  maxSide?: number;
  /** Apply rotation metadata (ffmpeg's default). */
  autorotate?: boolean;
  /** Refuse a video longer than this many seconds: checked on the container's duration (or the
   *  counted frames) before decoding, and on every decoded frame's time and the frame count. */
  maxDuration?: number;
  /** Refuse frames of more than this many pixels (checked on the metadata and on each decoded frame). */
  maxPixels?: number;
  /** How errors name the video (default: its path). */
  name?: string;
  /** ffmpeg decoder threads (default: the cores, at most 4; each thread holds a full-size frame). */
  threads?: number;
}

/** A decoded frame: its pixels, presentation time (seconds) and position among the frames output. */
export interface VideoFrame {
  image: Raster;
  time: number;
  index: number;
}

export interface OpenVideo {
  info: VideoInfo;
  /** Size of the frames the generator yields. */
  width: number;
  height: number;
  /** Output rate: the sampling rate when sampled, else the stream's. */
  fps: number;
  /** Frames expected (from the metadata; the generator may give fewer or, for lying metadata, more). */
  expectedFrames: number;
  /** Decodes as it is iterated; leaving the loop early stops ffmpeg. Iterate once. */
  frames: AsyncGenerator<VideoFrame, void, undefined>;
}

/** Output size: `size`, or the displayed (or coded) size scaled to fit `maxSide`. */
function outputSize(info: VideoInfo, opts: VideoStreamOptions): [number, number] {
  if (opts.size) return opts.size;
  const [w, h] = opts.autorotate === false ? [info.codedWidth, info.codedHeight] : [info.width, info.height];
  const side = Math.max(w, h);
  if (!opts.maxSide || side <= opts.maxSide) return [w, h];
  const k = opts.maxSide / side;
  return [Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k))];
}

/**
 * Probes a video, checks its length and frame size against the limits, and returns a generator
 * that decodes it frame by frame (ffmpeg starts on the first `next()`).
 */
export async function openVideo(path: string, opts: VideoStreamOptions = {}): Promise<OpenVideo> {
  const name = opts.name ?? path;
  const info = await probeVideo(path, name);
  if (opts.fps !== undefined && !(opts.fps > 0)) throw new Error(`fps must be positive, got ${opts.fps}`);
  if (opts.maxSide !== undefined && !(Number.isInteger(opts.maxSide) && opts.maxSide > 0)) throw new Error(`maxSide must be a positive integer, got ${opts.maxSide}`);
  if (opts.maxPixels !== undefined && info.width * info.height > opts.maxPixels) {
    throw new DataError(name, `frames are ${info.width}x${info.height} = ${info.width * info.height} pixels; the limit is ${opts.maxPixels}`);
  }
  const seconds = playLength(info);
  if (opts.maxDuration !== undefined && seconds > opts.maxDuration) {
    throw new DataError(name, `video is ${seconds.toFixed(1)} s long; the limit is ${opts.maxDuration} s`);
  }
  const [width, height] = outputSize(info, opts);
  const native = Number.isFinite(info.fps) && info.fps > 0 ? info.fps : Number.isFinite(info.baseFps) && info.baseFps > 0 ? info.baseFps : 25;
  const sample = opts.fps !== undefined && !(opts.onlyIfFaster && opts.fps >= native - 1e-6) ? opts.fps : undefined;
  const fps = sample ?? native;
  let expected = opts.select ? opts.select.length : sample !== undefined && Number.isFinite(seconds) ? Math.ceil(seconds * sample) : info.frameCount;
  if (opts.maxFrames !== undefined) expected = Math.min(expected, opts.maxFrames);
  return { info, width, height, fps, expectedFrames: expected, frames: decodeFrames(path, name, info, width, height, fps, { ...opts, fps: sample }) };
}

/** Parses ffmpeg's stderr as it arrives: showinfo's per-frame times and sizes, and the last
 *  other lines (for error messages). Callers wait for the time of frame k with `frame(k)`. */
class FfmpegLog {
  readonly times: number[] = [];
  readonly sizes: [number, number][] = [];
  readonly tail: string[] = [];
  private partial = '';
  private ended = false;
  private wake: (() => void) | undefined;

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
    this.notify();
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.ended = true;
    this.notify();
  }

  private line(line: string): void {
    // "[Parsed_showinfo_1 @ 0x...] n:   3 pts:  12800 pts_time:0.5 ... s:112x112 ..."
    if (line.includes('Parsed_showinfo') && line.includes('pts_time:')) {
      this.times.push(Number(/pts_time:\s*(-?[\d.e+-]+|nan)/i.exec(line)?.[1] ?? NaN));
      const sz = /\ss:(\d+)x(\d+)/.exec(line);
      this.sizes.push(sz ? [Number(sz[1]), Number(sz[2])] : [NaN, NaN]);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves once frame k's showinfo line has been read, or stderr has ended. */
  async frame(k: number): Promise<void> {
    while (this.times.length <= k && !this.ended) await new Promise<void>((r) => (this.wake = r));
  }
}

async function* decodeFrames(path: string, name: string, info: VideoInfo, width: number, height: number, fps: number, opts: VideoStreamOptions): AsyncGenerator<VideoFrame, void, undefined> {
  const channels = opts.channels ?? 3;
  const filters: string[] = [];
  if (opts.select) filters.push(`select='${opts.select.map((i) => `eq(n\\,${i})`).join('+')}'`);
  if (opts.fps !== undefined) filters.push(`fps=${opts.fps}`);
  // showinfo before scaling: it reports the size as decoded (the pixel limit's), the times are the same.
  filters.push('showinfo');
  const resize = opts.size || width !== (opts.autorotate === false ? info.codedWidth : info.width) || height !== (opts.autorotate === false ? info.codedHeight : info.height);
  filters.push(`scale=${width}:${height}:flags=${resize && !opts.size ? 'area' : 'bilinear'}`);
  const threads = opts.threads ?? Math.min(4, availableParallelism());
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info', '-threads', String(threads)];
  if (opts.autorotate === false) args.push('-noautorotate');
  args.push('-i', path, '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filters.join(','));
  // passthrough: keep every decoded frame with its own timestamp (no duplication or dropping to a
  // constant rate); the fps filter does its own resampling.
  args.push('-fps_mode', 'passthrough');
  const limit = opts.maxFrames ?? (opts.select ? opts.select.length : undefined);
  if (limit !== undefined) args.push('-frames:v', String(limit));
  args.push('-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray', 'pipe:1');

  const child: ChildProcess = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = new FfmpegLog();
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? notFound(ffmpegPath()) : e;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => log.push(s));
  child.stderr!.on('end', () => log.end());
  child.stderr!.on('error', () => log.end());

  const frameBytes = width * height * channels;
  const maxPixels = opts.maxPixels ?? Infinity;
  // The length limit on the frames themselves: their times, and their count at the output rate.
  const maxCount = opts.maxDuration !== undefined && Number.isFinite(fps) ? Math.floor(opts.maxDuration * fps) + 2 : Infinity;
  let k = 0;
  let t0: number | undefined;
  try {
    let buf = new Uint8Array(frameBytes);
    let filled = 0;
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - off);
        buf.set(chunk.subarray(off, off + take), filled);
        filled += take;
        off += take;
        if (filled < frameBytes) continue;
        await log.frame(k);
        const [sw, sh] = log.sizes[k] ?? [NaN, NaN];
        if (sw * sh > maxPixels) throw new DataError(name, `frame ${k} is ${sw}x${sh} = ${sw * sh} pixels; the limit is ${maxPixels}`);
        const stamp = log.times[k];
        const time = Number.isFinite(stamp) ? stamp : k / fps;
        t0 ??= time;
        if (opts.maxDuration !== undefined && (time - t0 > opts.maxDuration + 1e-6 || k + 1 > maxCount)) {
          throw new DataError(name, `video runs past the ${opts.maxDuration} s limit (frame ${k + 1} at ${(time - t0).toFixed(1)} s)`);
        }
        yield { image: { width, height, channels, data: buf }, time, index: k };
        k++;
        buf = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
    const code = await exited;
    if (spawnError) throw spawnError;
    if (code !== 0) throw new DataError(name, `ffmpeg could not decode the video (${lastLines(log.tail, path, name)})`);
    if (filled !== 0) throw new DataError(name, `ffmpeg returned ${k} whole ${width}x${height} frames and ${filled} bytes more`);
    if (k === 0) throw new DataError(name, 'no frames decoded');
  } finally {
    // Leaving early (limit, caller's break, error): stop ffmpeg rather than let it fill the pipe.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child.stdout!.destroy();
    await exited;
  }
}

export interface DecodeVideoOptions {
  /** Sample at this rate (ffmpeg `fps` filter: frames nearest each tick). */
  fps?: number;
  /** Exactly these frame indices (0-based, in stream order; repeats allowed, returned in the order given). */
  indices?: readonly number[];
  /** N frames evenly spaced over the clip (segment midpoints). */
  count?: number;
  /** Stop after this many output frames. */
  maxFrames?: number;
  /** 3 = RGB (default), 1 = grey. */
  channels?: 1 | 3;
  /** Resize every frame to width×height with ffmpeg (bilinear) while decoding. */
  size?: [number, number];
  /** Apply rotation metadata (ffmpeg's default). */
  autorotate?: boolean;
}

export interface DecodedVideo {
  frames: Raster[];
  /** Presentation time of each returned frame, seconds. */
  timestamps: number[];
  /** Stream index of each returned frame (absent for fps sampling, which can merge or repeat frames). */
  indices?: number[];
  info: VideoInfo;
}

/** Midpoints of `count` equal segments of n frames. */
export function evenlySpaced(n: number, count: number): number[] {
  if (n < 1) return [];
  return Array.from({ length: count }, (_, k) => Math.min(n - 1, Math.floor(((k + 0.5) * n) / count)));
}

/** Decodes the frames asked for (a clip, a few frames, or a short video) into memory. Long videos:
 *  iterate openVideo's frames instead. */
export async function decodeVideo(path: string, opts: DecodeVideoOptions = {}): Promise<DecodedVideo> {
  const info = await probeVideo(path);
  let wanted: number[] | undefined;
  if (opts.indices) wanted = [...opts.indices];
  else if (opts.count !== undefined) {
    if (!Number.isFinite(info.frameCount)) throw new DataError(path, 'frame count unknown: cannot space frames evenly');
    wanted = evenlySpaced(info.frameCount, opts.count);
  }
  if (wanted) {
    for (const i of wanted) {
      if (!Number.isInteger(i) || i < 0 || (Number.isFinite(info.frameCount) && i >= info.frameCount)) {
        throw new DataError(path, `frame ${i} requested; the video has ${info.frameCount} frames`);
      }
    }
  }
  const unique = wanted ? [...new Set(wanted)].sort((a, b) => a - b) : undefined;
  const video = await openVideo(path, { fps: opts.fps, select: unique, maxFrames: opts.maxFrames, channels: opts.channels, size: opts.size, autorotate: opts.autorotate });
  const frames: Raster[] = [];
  const ts: number[] = [];
  for await (const f of video.frames) {
    frames.push(f.image);
    ts.push(f.time);
  }
  if (!unique) return { frames, timestamps: ts, info, indices: opts.fps === undefined ? frames.map((_, i) => i) : undefined };
  if (frames.length !== unique.length) throw new DataError(path, `asked for ${unique.length} frames, ffmpeg returned ${frames.length} (frame count ${info.frameCount})`);
  const pos = new Map(unique.map((f, i) => [f, i]));
  const order = wanted!.map((f) => pos.get(f)!);
  return { frames: order.map((i) => frames[i]), timestamps: order.map((i) => ts[i]), indices: wanted, info };
}

/** One frame of a video by index. */
export async function decodeVideoFrame(path: string, index: number, channels: 1 | 3 = 3): Promise<Raster> {
  return (await decodeVideo(path, { indices: [index], channels })).frames[0];
}

export interface EncodeOptions {
  /** ffmpeg video codec (default libx264). */
  codec?: string;
  /** x264 quality, 0 = lossless (default 18). */
  crf?: number;
  /** Output pixel format (default yuv420p, the one every player reads; yuv444p for exact colour). */
  pixFmt?: string;
}

/** Writes rasters of one size to a video file as they come (ffmpeg's stdin, with backpressure);
 *  odd sizes are padded to even for yuv420p. */
export class VideoWriter {
  private readonly child: ChildProcess;
  private readonly log = new FfmpegLog();
  private readonly exited: Promise<number | null>;
  private failure: Error | undefined;
  private frames = 0;

  constructor(
    readonly path: string,
    readonly width: number,
    readonly height: number,
    readonly channels: 1 | 3,
    fps: number,
    opts: EncodeOptions = {},
  ) {
    const codec = opts.codec ?? 'libx264';
    const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray'];
    args.push('-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0', '-an');
    args.push('-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', codec, '-pix_fmt', opts.pixFmt ?? 'yuv420p');
    if (codec === 'libx264') args.push('-crf', String(opts.crf ?? 18));
    args.push(path);
    this.child = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e: NodeJS.ErrnoException) => {
        this.failure = e.code === 'ENOENT' ? notFound(ffmpegPath()) : e;
        resolve(null);
      });
      this.child.on('close', (code) => resolve(code));
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => this.log.push(s));
    // EPIPE when ffmpeg exits early on bad input: the exit code carries the error.
    this.child.stdin!.on('error', () => undefined);
  }

  async write(frame: Raster): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height || frame.channels !== this.channels) {
      throw new Error(`${this.path}: frame ${this.frames} is ${frame.width}x${frame.height}x${frame.channels}; the video is ${this.width}x${this.height}x${this.channels}`);
    }
    if (this.failure) throw this.failure;
    this.frames++;
    const stdin = this.child.stdin!;
    if (stdin.write(frame.data)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        this.child.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      this.child.on('close', done);
    });
  }

  /** Finishes the file; throws when ffmpeg failed. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    const code = await this.exited;
    this.log.end();
    if (this.failure) throw this.failure;
    if (code !== 0) throw new Error(`${this.path}: ffmpeg could not encode the video (${lastLines(this.log.tail, this.path, this.path)})`);
  }

  /** Stops ffmpeg without finishing the file. */
  async abort(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Writes rasters (one size) as a video at `fps`; odd sizes are padded to even for yuv420p. */
export async function encodeVideo(frames: readonly Raster[], path: string, fps: number, opts: EncodeOptions = {}): Promise<void> {
  if (frames.length === 0) throw new Error(`${path}: no frames to encode`);
  const { width, height, channels } = frames[0];
  for (const [i, f] of frames.entries()) {
    if (f.width !== width || f.height !== height || f.channels !== channels) {
      throw new Error(`${path}: frame ${i} is ${f.width}x${f.height}x${f.channels}; frame 0 is ${width}x${height}x${channels}`);
    }
  }
  const writer = new VideoWriter(path, width, height, channels, fps, opts);
  try {
    for (const f of frames) await writer.write(f);
  } catch (e) {
    await writer.abort();
    throw e;
  }
  await writer.close();
}
