// Pure pixel operations on rasters (typed arrays, no Node APIs): channel conversion, PIL-style
// bilinear resizing, crops and normalised float batches. Shared by Node (image.ts re-exports them)
// and the browser build (src/browser).

/** Interleaved (HWC) 8-bit pixels. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export type ChannelMode = 1 | 3 | 'keep';

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

/** resizeBilinear's filter along one axis as a dense [outSize × inSize] row-major matrix (no
 *  8-bit rounding): the same resize as a linear map, for graphs that resize inside the model. */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const t = bilinearTaps(inSize, outSize);
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) for (let k = 0; k < t.count[i]; k++) m[i * inSize + t.start[i] + k] = t.weights[i * t.maxTaps + k];
  return m;
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

/** What the pixel steps need of a model's input spec ([height, width], channels, normalisation). */
export interface PixelSpec {
  size: readonly number[];
  channels: 1 | 3;
  /** Grey faces replicated to `channels` (an RGB trunk trained on grey datasets). */
  greyscale?: boolean;
  mean: readonly number[];
  std: readonly number[];
}

/** Channels of the pixels before normalisation: 1 for a greyscale model (replicated to its
 *  channels only when the floats are made, so stores and augmentation handle a third). */
export const pixelChannels = (input: Pick<PixelSpec, 'channels' | 'greyscale'>): 1 | 3 => (input.greyscale ? 1 : input.channels);

/** A raster in a model's input size and pixel channel count. */
export function fitRaster(r: Raster, input: Pick<PixelSpec, 'size' | 'channels' | 'greyscale'>): Raster {
  const [h, w] = input.size;
  const c = withChannels(r, pixelChannels(input));
  return c.width === w && c.height === h ? c : resizeBilinear(c, w, h);
}

/** Images → a model's input as normalised NHWC floats, as its input spec says: the one recipe
 *  Node's runners and the browser build share. */
export function imagesToFloat(rasters: readonly Raster[], input: PixelSpec): Float32Array {
  return rastersToFloat(rasters.map((r) => fitRaster(r, input)), { mean: input.mean, std: input.std, channels: input.channels });
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C] floats. */
export function clipsToFloat(clips: readonly (readonly Raster[])[], input: PixelSpec & { frames?: number }): Float32Array {
  const t = input.frames ?? 0;
  for (const [i, c] of clips.entries()) {
    if (c.length !== t) throw new Error(`clip ${i} has ${c.length} frames; the model takes ${t}`);
  }
  return imagesToFloat(clips.flat(), input);
}
