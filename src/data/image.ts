// Image decoding (sharp; ffmpeg for what libvips cannot read) to plain uint8 rasters, bilinear
// resizing on typed arrays, and rasters → normalised NHWC floats. Rasters stay plain objects so they
// cross worker_threads cheaply; this module loads no TF.js (decode workers import it), the
// tensor step is in tensor.ts.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DataError } from './errors.js';
import type { ImageSource } from './types.js';

// Every decode is a one-off: libvips' operation cache only costs memory here.
sharp.cache(false);

/** Interleaved (HWC) 8-bit pixels. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export type ChannelMode = 1 | 3 | 'keep';

export interface DecodeOptions {
  /** 1 = grey, 3 = RGB, 'keep' = whatever the file holds (grey stays grey). Default 3. */
  channels?: ChannelMode;
}

export function sourceName(src: ImageSource): string {
  if (src.kind === 'pixels') return src.origin;
  if (src.kind === 'video-frame') return `${src.path}#frame${src.index}`;
  return src.path;
}

/** Greyscale as PIL's convert('L') computes it (ITU-R 601 luma, integer rounding). */
export function toGrey(r: Raster): Raster {
  if (r.channels === 1) return r;
  const n = r.width * r.height;
  const out = new Uint8Array(n);
  const d = r.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (d[j] * 19595 + d[j + 1] * 38470 + d[j + 2] * 7471 + 0x8000) >>> 16;
  return { width: r.width, height: r.height, channels: 1, data: out };
}

export function toRgb(r: Raster): Raster {
  if (r.channels === 3) return r;
  const n = r.width * r.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = r.data[i];
  return { width: r.width, height: r.height, channels: 3, data: out };
}

export function withChannels(r: Raster, mode: ChannelMode): Raster {
  if (mode === 'keep') return r;
  return mode === 1 ? toGrey(r) : toRgb(r);
}

/** Checks a raster's fields agree with its buffer; names `origin` in the error. */
export function checkRaster(r: Raster, origin: string): Raster {
  if (!Number.isInteger(r.width) || !Number.isInteger(r.height) || r.width < 1 || r.height < 1) {
    throw new DataError(origin, `bad raster size ${r.width}x${r.height}`);
  }
  if (r.channels !== 1 && r.channels !== 3) throw new DataError(origin, `raster has ${r.channels} channels; expected 1 or 3`);
  if (r.data.length !== r.width * r.height * r.channels) {
    throw new DataError(origin, `raster buffer holds ${r.data.length} bytes; ${r.width}x${r.height}x${r.channels} needs ${r.width * r.height * r.channels}`);
  }
  return r;
}

const isBmp = (head: Buffer) => head.length >= 2 && head[0] === 0x42 && head[1] === 0x4d;

/** Decodes an image file: EXIF orientation applied, alpha dropped, first frame of GIF/TIFF pages. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<Raster> {
  const mode = opts.channels ?? 3;
  let bytes: Buffer;
  try {
    // Reading the file ourselves and handing sharp a buffer is ~35% faster for small images.
    bytes = await readFile(path);
  } catch (e) {
    throw new DataError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new DataError(path, 'empty file (0 bytes)');
  try {
    // failOn 'truncated' rejects cut-off files but accepts the harmless libjpeg warnings some
    // camera JPEGs raise; rotate() with no angle applies the EXIF orientation.
    const { data, info } = await sharp(bytes, { failOn: 'truncated', pages: 1 })
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) {
      throw new DataError(path, `decoded to ${info.channels} channels (CMYK or an unusual colour space is not supported)`);
    }
    const r: Raster = { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    // sharp hands greyscale files back as sRGB; 'keep' asks the header what the file really holds.
    if (mode === 'keep' && r.channels === 3 && (await sharp(bytes).metadata()).space === 'b-w') return toGrey(r);
    return withChannels(r, mode);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const msg = (e as Error).message;
    if (/unsupported image format/i.test(msg)) {
      // libvips has no BMP loader; ffmpeg has one.
      if (isBmp(bytes)) {
        const { decodeVideo } = await import('./video.js');
        const { frames } = await decodeVideo(path, { maxFrames: 1 });
        if (frames.length !== 1) throw new DataError(path, 'BMP decoded to no image');
        return withChannels(frames[0], mode);
      }
      throw new DataError(path, 'not an image sharp can read (unknown or unsupported format)');
    }
    throw new DataError(path, `cannot decode image: ${msg.split('\n')[0]}`);
  }
}

/** Decodes any ImageSource to a raster with the requested channels. */
export async function decodeImage(src: ImageSource, opts: DecodeOptions = {}): Promise<Raster> {
  const mode = opts.channels ?? 3;
  if (src.kind === 'file') return decodeImageFile(src.path, opts);
  if (src.kind === 'pixels') {
    const r = checkRaster({ width: src.width, height: src.height, channels: src.channels, data: src.data }, src.origin);
    return withChannels(r, mode);
  }
  const { decodeVideoFrame } = await import('./video.js');
  return withChannels(await decodeVideoFrame(src.path, src.index), mode);
}

/** Encodes a raster to a file; the format follows the extension (png, jpg, webp, tiff). */
export async function writeImage(r: Raster, path: string): Promise<void> {
  await sharp(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length), { raw: { width: r.width, height: r.height, channels: r.channels } }).toFile(path);
}

/** Encodes a raster to PNG bytes (content hashes, caches). */
export async function encodePng(r: Raster): Promise<Buffer> {
  return sharp(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length), { raw: { width: r.width, height: r.height, channels: r.channels } })
    .png()
    .toBuffer();
}

/** Per output index: first input index and normalised weights of a triangle filter. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

const tapsCache = new Map<string, Taps>();

// PIL's bilinear resampling: a triangle filter whose support widens with the scale when shrinking,
// so downscaling averages (antialiases) instead of skipping pixels. torchvision's PIL Resize, used
// by every reference transform here, computes exactly this.
function bilinearTaps(inSize: number, outSize: number, inStart = 0, inExtent = inSize): Taps {
  const key = `${inSize}:${outSize}:${inStart}:${inExtent}`;
  const hit = tapsCache.get(key);
  if (hit) return hit;
  const scale = inExtent / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support 1, widened
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = inStart + (i + 0.5) * scale;
    // Taps stay inside the box: crop-then-resize, as the reference transforms do.
    const lo = Math.max(inStart, Math.floor(center - support));
    const hi = Math.min(inStart + inExtent, inSize, Math.ceil(center + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi && n < maxTaps; j++, n++) {
      const t = Math.abs((j - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[i * maxTaps + n] = w;
      sum += w;
    }
    if (sum > 0) for (let k = 0; k < n; k++) weights[i * maxTaps + k] /= sum;
    start[i] = lo;
    count[i] = n;
  }
  const taps = { start, count, weights, maxTaps };
  if (tapsCache.size > 512) tapsCache.clear();
  tapsCache.set(key, taps);
  return taps;
}

/**
 * Bilinear resize to exactly width×height (not aspect-preserving), optionally of a crop box
 * [x, y, w, h] of the source. Separable: rows, then columns, each pass rounded to 8 bits as PIL does.
 */
export function resizeBilinear(r: Raster, width: number, height: number, box?: [number, number, number, number]): Raster {
  const [bx, by, bw, bh] = box ?? [0, 0, r.width, r.height];
  if (width < 1 || height < 1) throw new Error(`resize target ${width}x${height} must be at least 1x1`);
  if (bw === width && bh === height && Number.isInteger(bx) && Number.isInteger(by)) return crop(r, bx, by, bw, bh);
  const c = r.channels;
  const tx = bilinearTaps(r.width, width, bx, bw);
  const ty = bilinearTaps(r.height, height, by, bh);
  // Horizontal pass over only the rows the vertical pass will read.
  const rowLo = ty.start[0];
  const rowHi = ty.start[height - 1] + ty.count[height - 1];
  const tmp = new Uint8Array((rowHi - rowLo) * width * c);
  const src = r.data;
  for (let y = rowLo; y < rowHi; y++) {
    const inRow = y * r.width * c;
    const outRow = (y - rowLo) * width * c;
    for (let x = 0; x < width; x++) {
      const s = tx.start[x];
      const n = tx.count[x];
      const wo = x * tx.maxTaps;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += tx.weights[wo + k] * src[inRow + (s + k) * c + ch];
        // PIL rounds the horizontal pass to 8 bits before the vertical one; so do we, to match it.
        const v = Math.round(acc);
        tmp[outRow + x * c + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  const out = new Uint8Array(width * height * c);
  const rowLen = width * c;
  for (let y = 0; y < height; y++) {
    const s = ty.start[y] - rowLo;
    const n = ty.count[y];
    const wo = y * ty.maxTaps;
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += ty.weights[wo + k] * tmp[(s + k) * rowLen + i];
      const v = Math.round(acc);
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, channels: r.channels, data: out };
}

/** Copies an integer crop box; throws if it leaves the raster. */
export function crop(r: Raster, x: number, y: number, w: number, h: number): Raster {
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > r.width || y + h > r.height) {
    throw new Error(`crop box [${x}, ${y}, ${w}, ${h}] leaves the ${r.width}x${r.height} image`);
  }
  if (x === 0 && y === 0 && w === r.width && h === r.height) return r;
  const c = r.channels;
  const out = new Uint8Array(w * h * c);
  for (let row = 0; row < h; row++) {
    const s = ((y + row) * r.width + x) * c;
    out.set(r.data.subarray(s, s + w * c), row * w * c);
  }
  return { width: w, height: h, channels: r.channels, data: out };
}

export interface TensorOptions {
  /** Per-channel mean and std on the [0,1] scale (e.g. ImageNet's); none = plain [0,1]. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Output channels: 3 from grey rasters replicates the grey value (default: the rasters'). */
  channels?: 1 | 3;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Rasters of one size → Float32Array NHWC in [0,1], optionally normalised (x/255 − mean)/std. */
export function rastersToFloat(rasters: readonly Raster[], opts: TensorOptions = {}): Float32Array {
  if (rasters.length === 0) throw new Error('rastersToFloat: no rasters');
  const { width, height, channels: inChannels } = rasters[0];
  const channels = opts.channels ?? inChannels;
  if (channels !== inChannels && !(inChannels === 1 && channels === 3)) throw new Error(`rastersToFloat: cannot make ${channels} channels from ${inChannels}`);
  const per = width * height * channels;
  const mean = opts.mean ?? new Array<number>(channels).fill(0);
  const std = opts.std ?? new Array<number>(channels).fill(1);
  if (mean.length !== channels || std.length !== channels) {
    throw new Error(`mean/std have ${mean.length}/${std.length} entries for ${channels}-channel images`);
  }
  // One multiply-add per value: v·a[c] + b[c] with a = 1/(255·std), b = −mean/std.
  const a = std.map((s) => 1 / (255 * s));
  const b = mean.map((m, i) => -m / std[i]);
  const out = new Float32Array(per * rasters.length);
  rasters.forEach((r, n) => {
    if (r.width !== width || r.height !== height || r.channels !== inChannels) {
      throw new Error(`image ${n} is ${r.width}x${r.height}x${r.channels}; the batch is ${width}x${height}x${inChannels}`);
    }
    const o = n * per;
    const d = r.data;
    if (channels === 1) for (let i = 0; i < per; i++) out[o + i] = d[i] * a[0] + b[0];
    else if (inChannels === 1)
      for (let i = 0, j = o; i < d.length; i++, j += 3) {
        out[j] = d[i] * a[0] + b[0];
        out[j + 1] = d[i] * a[1] + b[1];
        out[j + 2] = d[i] * a[2] + b[2];
      }
    else
      for (let i = 0; i < per; i += 3) {
        out[o + i] = d[i] * a[0] + b[0];
        out[o + i + 1] = d[i + 1] * a[1] + b[1];
        out[o + i + 2] = d[i + 2] * a[2] + b[2];
      }
  });
  return out;
}
