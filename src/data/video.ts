// Video decoding and encoding through the ffmpeg/ffprobe binaries: frames come out as raw RGB (or
// grey) rasters on stdout; a `showinfo` filter at the end of the chain reports each frame's
// timestamp, so variable-frame-rate clips keep their true times. ffmpeg applies rotation metadata
// itself (autorotate is on by default), so frames arrive upright and probeVideo reports the
// displayed size.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataError } from './errors.js';
import type { Raster } from './image.js';

/** ffmpeg binary: FERKIT_FFMPEG, else `ffmpeg` on PATH. */
export function ffmpegPath(): string {
  return process.env.FERKIT_FFMPEG || 'ffmpeg';
}

/** ffprobe binary: FERKIT_FFPROBE, else beside FERKIT_FFMPEG, else `ffprobe` on PATH. */
export function ffprobePath(): string {
  if (process.env.FERKIT_FFPROBE) return process.env.FERKIT_FFPROBE;
  const ff = process.env.FERKIT_FFMPEG;
  if (ff && ff.includes('/')) return join(dirname(ff), basename(ff).replace(/ffmpeg/, 'ffprobe'));
  return 'ffprobe';
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function run(bin: string, args: string[], input?: Buffer | Uint8Array[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new Error(`${bin} not found: install ffmpeg (apt-get install ffmpeg) or set FERKIT_FFMPEG/FERKIT_FFPROBE`));
      else reject(e);
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    // EPIPE when ffmpeg exits early on bad input: the exit code carries the error.
    child.stdin.on('error', () => undefined);
    if (input === undefined) child.stdin.end();
    else if (Array.isArray(input)) {
      (async () => {
        for (const chunk of input) {
          if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
        }
        child.stdin.end();
      })().catch(() => undefined);
    } else child.stdin.end(input);
  });
}

function lastLines(stderr: string, n = 2): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('Parsed_showinfo'));
  return lines.slice(-n).join(' | ') || 'no message';
}

async function checkFile(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new DataError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`);
  }
  if (size === 0) throw new DataError(path, 'empty file (0 bytes)');
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
  /** Seconds; NaN when unknown. */
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

/** Metadata of the first video stream: size, rotation, frame rates, duration, frame count. */
export async function probeVideo(path: string): Promise<VideoInfo> {
  await checkFile(path);
  const args = ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_streams', '-show_format', '-of', 'json', path];
  const r = await run(ffprobePath(), args);
  if (r.code !== 0) throw new DataError(path, `not a video ffprobe can read (${lastLines(r.stderr)})`);
  let parsed: { streams?: ProbeStream[]; format?: { duration?: string } };
  try {
    parsed = JSON.parse(r.stdout.toString('utf8'));
  } catch {
    throw new DataError(path, 'ffprobe printed unreadable metadata');
  }
  const s = parsed.streams?.[0];
  if (!s || !s.width || !s.height) throw new DataError(path, 'no video stream');
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

/** Decodes a video (or any single image ffmpeg reads) into rasters with their timestamps. */
export async function decodeVideo(path: string, opts: DecodeVideoOptions = {}): Promise<DecodedVideo> {
  const info = await probeVideo(path);
  const channels = opts.channels ?? 3;
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
  const filters: string[] = [];
  const unique = wanted ? [...new Set(wanted)].sort((a, b) => a - b) : undefined;
  if (unique) filters.push(`select='${unique.map((i) => `eq(n\\,${i})`).join('+')}'`);
  if (opts.fps !== undefined) {
    if (!(opts.fps > 0)) throw new Error(`fps must be positive, got ${opts.fps}`);
    filters.push(`fps=${opts.fps}`);
  }
  if (opts.size) filters.push(`scale=${opts.size[0]}:${opts.size[1]}:flags=bilinear`);
  filters.push('showinfo');
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info'];
  if (opts.autorotate === false) args.push('-noautorotate');
  args.push('-i', path, '-map', '0:v:0', '-an', '-vf', filters.join(','));
  // passthrough: keep every decoded frame with its own timestamp (no duplication or dropping to a
  // constant rate); the fps filter does its own resampling.
  args.push('-fps_mode', 'passthrough');
  const limit = opts.maxFrames ?? (unique ? unique.length : undefined);
  if (limit !== undefined) args.push('-frames:v', String(limit));
  args.push('-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray', 'pipe:1');
  const r = await run(ffmpegPath(), args);
  if (r.code !== 0) throw new DataError(path, `ffmpeg could not decode the video (${lastLines(r.stderr)})`);

  // showinfo lines: "... n:   3 pts:  12800 pts_time:0.5 ... s:112x112 ..."
  const timestamps: number[] = [];
  let w = opts.size?.[0] ?? (opts.autorotate === false ? info.codedWidth : info.width);
  let h = opts.size?.[1] ?? (opts.autorotate === false ? info.codedHeight : info.height);
  for (const line of r.stderr.split('\n')) {
    if (!line.includes('Parsed_showinfo') || !line.includes('pts_time:')) continue;
    timestamps.push(Number(/pts_time:\s*(-?[\d.e+-]+|nan)/i.exec(line)?.[1] ?? NaN));
    const sz = /\ss:(\d+)x(\d+)/.exec(line);
    if (sz) {
      w = Number(sz[1]);
      h = Number(sz[2]);
    }
  }
  const frameBytes = w * h * channels;
  const n = Math.floor(r.stdout.length / frameBytes);
  if (n * frameBytes !== r.stdout.length) throw new DataError(path, `ffmpeg returned ${r.stdout.length} bytes, not whole ${w}x${h} frames`);
  if (n === 0) throw new DataError(path, 'no frames decoded');
  const frames: Raster[] = [];
  for (let i = 0; i < n; i++) {
    // Copy out of the big stdout buffer so one kept frame does not pin the whole video.
    frames.push({ width: w, height: h, channels, data: new Uint8Array(r.stdout.subarray(i * frameBytes, (i + 1) * frameBytes)) });
  }
  const ts = timestamps.slice(0, n);
  if (!unique) return { frames, timestamps: ts, info, indices: opts.fps === undefined ? frames.map((_, i) => i) : undefined };
  if (n !== unique.length) throw new DataError(path, `asked for ${unique.length} frames, ffmpeg returned ${n} (frame count ${info.frameCount})`);
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

/** Writes rasters (one size) as a video at `fps`; odd sizes are padded to even for yuv420p. */
export async function encodeVideo(frames: readonly Raster[], path: string, fps: number, opts: EncodeOptions = {}): Promise<void> {
  if (frames.length === 0) throw new Error(`${path}: no frames to encode`);
  const { width, height, channels } = frames[0];
  for (const [i, f] of frames.entries()) {
    if (f.width !== width || f.height !== height || f.channels !== channels) {
      throw new Error(`${path}: frame ${i} is ${f.width}x${f.height}x${f.channels}; frame 0 is ${width}x${height}x${channels}`);
    }
  }
  const codec = opts.codec ?? 'libx264';
  const pixFmt = opts.pixFmt ?? 'yuv420p';
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', channels === 3 ? 'rgb24' : 'gray'];
  args.push('-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0', '-an');
  args.push('-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', codec, '-pix_fmt', pixFmt);
  if (codec === 'libx264') args.push('-crf', String(opts.crf ?? 18));
  args.push(path);
  const r = await run(ffmpegPath(), args, frames.map((f) => f.data));
  if (r.code !== 0) throw new Error(`${path}: ffmpeg could not encode the video (${lastLines(r.stderr)})`);
}
