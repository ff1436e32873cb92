// Seeded augmentations on uint8 rasters (plain typed arrays: they run in the data pipeline and in
// worker threads, no TF.js). Each transform draws its random parameters once per call with
// `sample(rng, w, h)` and `apply`s them; `applyClip` therefore gives every frame of a clip the same
// crop, flip, angle and colour change, as the IAL reference does (methods.md §1.3).
import { Registry } from '../registry.js';
import { IMAGENET_MEAN, crop, resizeBilinear, type Raster } from './image.js';
import { Rng } from '../util/rng.js';

export abstract class Transform<P = unknown> {
  abstract readonly name: string;
  /** Draws this call's random parameters for an input of width×height. */
  abstract sample(rng: Rng, width: number, height: number): P;
  abstract apply(r: Raster, p: P): Raster;
  /** Output size for an input size and parameters (Compose needs it to sample the next step). */
  outputSize(width: number, height: number, _p: P): [number, number] {
    return [width, height];
  }

  applyImage(r: Raster, rng: Rng): Raster {
    return this.apply(r, this.sample(rng, r.width, r.height));
  }

  /** The same parameters for every frame; frames must share one size. */
  applyClip(frames: readonly Raster[], rng: Rng): Raster[] {
    if (frames.length === 0) return [];
    const { width, height } = frames[0];
    for (const [i, f] of frames.entries()) {
      if (f.width !== width || f.height !== height) throw new Error(`${this.name}: clip frame ${i} is ${f.width}x${f.height}, frame 0 is ${width}x${height}`);
    }
    const p = this.sample(rng, width, height);
    return frames.map((f) => this.apply(f, p));
  }
}

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

// ---------------------------------------------------------------------------------------------
// Geometry

/** Direct bilinear resize to width×height (not aspect-preserving): the specs' test transforms. */
class Resize extends Transform<null> {
  readonly name = 'resize';
  constructor(
    readonly width: number,
    readonly height = width,
  ) {
    super();
  }
  sample(): null {
    return null;
  }
  apply(r: Raster): Raster {
    return r.width === this.width && r.height === this.height ? r : resizeBilinear(r, this.width, this.height);
  }
  override outputSize(): [number, number] {
    return [this.width, this.height];
  }
}

/** torchvision Resize(int): the shorter side becomes `size`, the longer int(size·long/short). */
function shorterSideSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

class ResizeShorter extends Transform<null> {
  readonly name = 'resize-shorter';
  constructor(readonly size: number) {
    super();
  }
  sample(): null {
    return null;
  }
  apply(r: Raster): Raster {
    const [w, h] = shorterSideSize(r.width, r.height, this.size);
    return resizeBilinear(r, w, h);
  }
  override outputSize(width: number, height: number): [number, number] {
    return shorterSideSize(width, height, this.size);
  }
}

/** Uniform random width×height crop (corner drawn inclusive, as random.randint). */
class RandomCrop extends Transform<{ x: number; y: number }> {
  readonly name = 'random-crop';
  constructor(
    readonly width: number,
    readonly height = width,
  ) {
    super();
  }
  sample(rng: Rng, w: number, h: number) {
    if (w < this.width || h < this.height) throw new Error(`random-crop: ${this.width}x${this.height} does not fit a ${w}x${h} image`);
    return { x: rng.intIn(0, w - this.width), y: rng.intIn(0, h - this.height) };
  }
  apply(r: Raster, p: { x: number; y: number }): Raster {
    return crop(r, p.x, p.y, this.width, this.height);
  }
  override outputSize(): [number, number] {
    return [this.width, this.height];
  }
}

export interface SizedCropParams {
  /** Crop box [x, y, w, h] in the input, resized to size×size; or, when no attempt fitted, the
   *  fallback: resize the shorter side to `size`, then crop size×size at (x, y). */
  box?: [number, number, number, number];
  fallback?: { x: number; y: number };
}

/**
 * IAL's GroupRandomSizedCrop (video_transform.py): up to `attempts` tries of area fraction
 * U(area), aspect ratio U(ratio), w = round(√(A·ar)), h = round(√(A/ar)), w/h swapped with
 * probability ½; the first box that fits is cropped at a uniform corner and resized bilinearly to
 * size×size. If none fits: shorter side to `size`, then a random size×size crop.
 */
export class RandomSizedCrop extends Transform<SizedCropParams> {
  readonly name = 'random-sized-crop';
  constructor(
    readonly size: number,
    readonly area: [number, number] = [0.85, 1],
    readonly ratio: [number, number] = [3 / 5, 5 / 3],
    readonly attempts = 10,
  ) {
    super();
  }
  sample(rng: Rng, w: number, h: number): SizedCropParams {
    for (let a = 0; a < this.attempts; a++) {
      const target = rng.uniform(this.area[0], this.area[1]) * w * h;
      const ar = rng.uniform(this.ratio[0], this.ratio[1]);
      let cw = Math.round(Math.sqrt(target * ar));
      let ch = Math.round(Math.sqrt(target / ar));
      if (rng.chance(0.5)) [cw, ch] = [ch, cw];
      if (cw <= w && ch <= h) return { box: [rng.intIn(0, w - cw), rng.intIn(0, h - ch), cw, ch] };
    }
    const [sw, sh] = shorterSideSize(w, h, this.size);
    return { fallback: { x: rng.intIn(0, sw - this.size), y: rng.intIn(0, sh - this.size) } };
  }
  apply(r: Raster, p: SizedCropParams): Raster {
    if (p.box) return resizeBilinear(r, this.size, this.size, p.box);
    const [sw, sh] = shorterSideSize(r.width, r.height, this.size);
    return crop(resizeBilinear(r, sw, sh), p.fallback!.x, p.fallback!.y, this.size, this.size);
  }
  override outputSize(): [number, number] {
    return [this.size, this.size];
  }
}

export function flipHorizontal(r: Raster): Raster {
  const { width: w, height: h, channels: c } = r;
  const out = new Uint8Array(r.data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const s = row + x * c;
      const d = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[d + k] = r.data[s + k];
    }
  }
  return { ...r, data: out };
}

export class HorizontalFlip extends Transform<boolean> {
  readonly name = 'hflip';
  constructor(readonly p = 0.5) {
    super();
  }
  sample(rng: Rng): boolean {
    return rng.chance(this.p);
  }
  apply(r: Raster, flip: boolean): Raster {
    return flip ? flipHorizontal(r) : r;
  }
}

/**
 * Rotates by `degrees` counter-clockwise about the image centre, nearest neighbour, fill outside
 * with `fill` (torchvision's rotate on tensors: pixel centres at i + ½, expand = false).
 */
export function rotateNearest(r: Raster, degrees: number, fill = 0): Raster {
  const { width: w, height: h, channels: c } = r;
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const out = new Uint8Array(r.data.length).fill(fill);
  for (let y = 0; y < h; y++) {
    const dy = y + 0.5 - h / 2;
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - w / 2;
      // Inverse map: the source point that lands on (x, y) after the rotation.
      const sx = Math.round(cos * dx - sin * dy + w / 2 - 0.5);
      const sy = Math.round(sin * dx + cos * dy + h / 2 - 0.5);
      if (sx < 0 || sy < 0 || sx >= w || sy >= h) continue;
      const s = (sy * w + sx) * c;
      const d = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = r.data[s + k];
    }
  }
  return { ...r, data: out };
}

/** Angle ~ U(−degrees, +degrees), nearest, fill 0 (torchvision RandomRotation). */
export class RandomRotation extends Transform<number> {
  readonly name = 'rotation';
  constructor(
    readonly degrees: number,
    readonly fill = 0,
  ) {
    super();
  }
  sample(rng: Rng): number {
    return rng.uniform(-this.degrees, this.degrees);
  }
  apply(r: Raster, angle: number): Raster {
    return rotateNearest(r, angle, this.fill);
  }
}

interface AffineParams {
  angle: number;
  /** > 1 zooms in (the face fills more of the output), < 1 zooms out. */
  scale: number;
  /** Shift of the sampled centre, as fractions of the input side. */
  tx: number;
  ty: number;
}

/**
 * Rotation, zoom and shift in one bilinear pass from an input of any size to size×size, edges
 * replicated (no black corners for the model to learn): the framing, pose and scale variation a
 * detector's crops have in real photos.
 */
class RandomAffine extends Transform<AffineParams> {
  readonly name = 'random-affine';
  constructor(
    readonly size: number,
    readonly degrees = 15,
    readonly scale: [number, number] = [0.85, 1.15],
    readonly translate = 0.08,
  ) {
    super();
  }
  sample(rng: Rng): AffineParams {
    return {
      angle: rng.uniform(-this.degrees, this.degrees),
      scale: Math.exp(rng.uniform(Math.log(this.scale[0]), Math.log(this.scale[1]))),
      tx: rng.uniform(-this.translate, this.translate),
      ty: rng.uniform(-this.translate, this.translate),
    };
  }
  apply(r: Raster, p: AffineParams): Raster {
    const { width: w, height: h, channels: c } = r;
    const n = this.size;
    const out = new Uint8Array(n * n * c);
    const t = (p.angle * Math.PI) / 180;
    // Output pixel (x, y) → input point: centre, rotate, scale to the input, shift.
    const kx = w / n / p.scale;
    const ky = h / n / p.scale;
    const cos = Math.cos(t);
    const sin = Math.sin(t);
    const cx = w / 2 + p.tx * w;
    const cy = h / 2 + p.ty * h;
    const d = r.data;
    for (let y = 0; y < n; y++) {
      const dy = y + 0.5 - n / 2;
      for (let x = 0; x < n; x++) {
        const dx = x + 0.5 - n / 2;
        let sx = (cos * dx - sin * dy) * kx + cx - 0.5;
        let sy = (sin * dx + cos * dy) * ky + cy - 0.5;
        sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
        sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const x1 = x0 + 1 < w ? x0 + 1 : x0;
        const y1 = y0 + 1 < h ? y0 + 1 : y0;
        const fx = sx - x0;
        const fy = sy - y0;
        const o = (y * n + x) * c;
        for (let k = 0; k < c; k++) {
          const a = d[(y0 * w + x0) * c + k] * (1 - fx) + d[(y0 * w + x1) * c + k] * fx;
          const b = d[(y1 * w + x0) * c + k] * (1 - fx) + d[(y1 * w + x1) * c + k] * fx;
          out[o + k] = Math.round(a * (1 - fy) + b * fy);
        }
      }
    }
    return { width: n, height: n, channels: c, data: out };
  }
  override outputSize(): [number, number] {
    return [this.size, this.size];
  }
}

/** Down to a factor ~ U(range) of the size and back up (bilinear): low-resolution faces. */
class Downscale extends Transform<number> {
  readonly name = 'downscale';
  constructor(readonly range: [number, number] = [0.25, 0.6]) {
    super();
  }
  sample(rng: Rng): number {
    return rng.uniform(this.range[0], this.range[1]);
  }
  apply(r: Raster, f: number): Raster {
    const w = Math.max(4, Math.round(r.width * f));
    const h = Math.max(4, Math.round(r.height * f));
    return resizeBilinear(resizeBilinear(r, w, h), r.width, r.height);
  }
}

/** Separable Gaussian blur, σ ~ U(range) pixels, edges replicated: defocus and motion softness. */
class GaussianBlur extends Transform<number> {
  readonly name = 'gaussian-blur';
  constructor(readonly sigma: [number, number] = [0.5, 1.5]) {
    super();
  }
  sample(rng: Rng): number {
    return rng.uniform(this.sigma[0], this.sigma[1]);
  }
  apply(r: Raster, sigma: number): Raster {
    const rad = Math.max(1, Math.ceil(2 * sigma));
    const kernel = Array.from({ length: 2 * rad + 1 }, (_, i) => Math.exp(-((i - rad) ** 2) / (2 * sigma * sigma)));
    const sum = kernel.reduce((a, b) => a + b, 0);
    const k = kernel.map((v) => v / sum);
    const { width: w, height: h, channels: c } = r;
    const pass = (src: ArrayLike<number>, horizontal: boolean): Float32Array => {
      const dst = new Float32Array(w * h * c);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let ch = 0; ch < c; ch++) {
            let v = 0;
            for (let i = -rad; i <= rad; i++) {
              const xx = horizontal ? Math.min(w - 1, Math.max(0, x + i)) : x;
              const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + i));
              v += k[i + rad]! * src[(yy * w + xx) * c + ch]!;
            }
            dst[(y * w + x) * c + ch] = v;
          }
        }
      }
      return dst;
    };
    const out = pass(pass(r.data, true), false);
    return { ...r, data: Uint8Array.from(out, clampByte) };
  }
}

// ---------------------------------------------------------------------------------------------
// Photometric

export interface JitterParams {
  brightness: number;
  contrast: number;
  saturation: number;
  /** Application order of the three (torchvision draws a random permutation). */
  order: number[];
}

function greyMean(r: Raster): number {
  const d = r.data;
  let sum = 0;
  if (r.channels === 1) for (let i = 0; i < d.length; i++) sum += d[i];
  else for (let i = 0; i < d.length; i += 3) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  return sum / (r.width * r.height);
}

/** Blends toward a per-pixel grey (saturation) or a constant (brightness toward 0, contrast toward the mean). */
function blend(src: Float32Array, channels: number, factor: number, target: number | 'grey'): void {
  if (target === 'grey') {
    if (channels === 1) return;
    for (let i = 0; i < src.length; i += 3) {
      const g = 0.299 * src[i] + 0.587 * src[i + 1] + 0.114 * src[i + 2];
      for (let k = 0; k < 3; k++) src[i + k] = Math.min(255, Math.max(0, factor * src[i + k] + (1 - factor) * g));
    }
    return;
  }
  for (let i = 0; i < src.length; i++) src[i] = Math.min(255, Math.max(0, factor * src[i] + (1 - factor) * target));
}

/**
 * torchvision ColorJitter (brightness, contrast, saturation): each factor ~ U(max(0, 1−b), 1+b),
 * applied in a random order, clipping after each step. IAL uses brightness 0.6 alone.
 */
export class ColorJitter extends Transform<JitterParams> {
  readonly name = 'color-jitter';
  constructor(
    readonly brightness = 0,
    readonly contrast = 0,
    readonly saturation = 0,
  ) {
    super();
  }
  sample(rng: Rng): JitterParams {
    const f = (b: number) => (b > 0 ? rng.uniform(Math.max(0, 1 - b), 1 + b) : 1);
    const order = [0, 1, 2];
    for (let i = 2; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return { brightness: f(this.brightness), contrast: f(this.contrast), saturation: f(this.saturation), order };
  }
  apply(r: Raster, p: JitterParams): Raster {
    if (p.brightness === 1 && p.contrast === 1 && p.saturation === 1) return r;
    // Brightness alone: one multiply per byte.
    if (p.contrast === 1 && p.saturation === 1) {
      const out = new Uint8Array(r.data.length);
      for (let i = 0; i < out.length; i++) out[i] = clampByte(r.data[i] * p.brightness);
      return { ...r, data: out };
    }
    const v = Float32Array.from(r.data);
    for (const step of p.order) {
      if (step === 0 && p.brightness !== 1) blend(v, r.channels, p.brightness, 0);
      if (step === 1 && p.contrast !== 1) blend(v, r.channels, p.contrast, greyMean({ ...r, data: Uint8Array.from(v, clampByte) }));
      if (step === 2 && p.saturation !== 1) blend(v, r.channels, p.saturation, 'grey');
    }
    return { ...r, data: Uint8Array.from(v, clampByte) };
  }
}

/** Gamma ~ exp(U(log range)): 255·(v/255)^γ, over- and under-exposed faces. */
class RandomGamma extends Transform<number> {
  readonly name = 'gamma';
  constructor(readonly range: [number, number] = [0.6, 1.6]) {
    super();
  }
  sample(rng: Rng): number {
    return Math.exp(rng.uniform(Math.log(this.range[0]), Math.log(this.range[1])));
  }
  apply(r: Raster, g: number): Raster {
    const lut = Uint8Array.from({ length: 256 }, (_, v) => clampByte(255 * (v / 255) ** g));
    return { ...r, data: Uint8Array.from(r.data, (v) => lut[v]!) };
  }
}

/**
 * SCN's additive Gaussian noise: mean 0, given variance on the 0..255 scale (30 → σ ≈ 5.48), then
 * clip to [0, 255] and truncate to uint8 as numpy's astype does. The noise field is drawn from a
 * seed sampled per call, so all frames of a clip get the same field.
 */
export class GaussianNoise extends Transform<number> {
  readonly name = 'gaussian-noise';
  constructor(readonly variance = 30) {
    super();
  }
  sample(rng: Rng): number {
    return rng.seed32();
  }
  apply(r: Raster, seed: number): Raster {
    const g = new Rng(seed);
    const sigma = Math.sqrt(this.variance);
    const out = new Uint8Array(r.data.length);
    for (let i = 0; i < out.length; i++) {
      // One Box-Muller variate per pixel, the second discarded (this transform's stream since it began).
      const u = 1 - g.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * g.next());
      const v = r.data[i] + sigma * z;
      out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
    }
    return { ...r, data: out };
  }
}

export interface EraseParams {
  box?: [number, number, number, number];
  /** Seed for 'random' fill. */
  seed: number;
}

/**
 * torchvision RandomErasing: with probability p, up to 10 tries of area fraction U(scale) and
 * log-uniform aspect ratio; h = round(√(A·r)), w = round(√(A/r)) must be strictly smaller than the
 * image; the corner is uniform. `value` is in raster units (0..255) per channel, or 'random'.
 * SCN erases to 0 *after* ImageNet normalisation, i.e. to the mean colour: use SCN_ERASE_VALUE.
 */
export class RandomErasing extends Transform<EraseParams> {
  readonly name = 'random-erasing';
  constructor(
    readonly p = 0.5,
    readonly scale: [number, number] = [0.02, 0.33],
    readonly ratio: [number, number] = [0.3, 3.3],
    readonly value: number | readonly number[] | 'random' = 0,
  ) {
    super();
  }
  sample(rng: Rng, w: number, h: number): EraseParams {
    if (!rng.chance(this.p)) return { seed: 0 };
    const lr = [Math.log(this.ratio[0]), Math.log(this.ratio[1])];
    for (let t = 0; t < 10; t++) {
      const area = w * h * rng.uniform(this.scale[0], this.scale[1]);
      const ar = Math.exp(rng.uniform(lr[0], lr[1]));
      const eh = Math.round(Math.sqrt(area * ar));
      const ew = Math.round(Math.sqrt(area / ar));
      if (!(eh < h && ew < w)) continue;
      const y = rng.intIn(0, h - eh);
      const x = rng.intIn(0, w - ew);
      return { box: [x, y, ew, eh], seed: rng.seed32() };
    }
    return { seed: 0 };
  }
  apply(r: Raster, p: EraseParams): Raster {
    if (!p.box) return r;
    const [x0, y0, ew, eh] = p.box;
    const c = r.channels;
    const out = Uint8Array.from(r.data);
    const g = this.value === 'random' ? new Rng(p.seed) : undefined;
    const fill = typeof this.value === 'number' ? new Array<number>(c).fill(this.value) : this.value === 'random' ? [] : [...this.value];
    if (g === undefined && fill.length !== c) throw new Error(`random-erasing: ${fill.length} fill values for ${c} channels`);
    for (let y = y0; y < y0 + eh; y++) {
      for (let x = x0; x < x0 + ew; x++) {
        const o = (y * r.width + x) * c;
        for (let k = 0; k < c; k++) out[o + k] = g ? g.int(256) : fill[k];
      }
    }
    return { ...r, data: out };
  }
}

/** ImageNet mean in 0..255: the colour that normalises to 0 (SCN's erase value). */
export const SCN_ERASE_VALUE = IMAGENET_MEAN.map((m) => Math.round(m * 255));

// ---------------------------------------------------------------------------------------------
// Combinators

type AnyTransform = Transform<unknown>;

export class Compose extends Transform<unknown[]> {
  readonly name: string;
  constructor(readonly steps: AnyTransform[]) {
    super();
    this.name = `compose(${steps.map((s) => s.name).join(', ')})`;
  }
  sample(rng: Rng, width: number, height: number): unknown[] {
    let w = width;
    let h = height;
    return this.steps.map((s) => {
      const p = s.sample(rng, w, h);
      [w, h] = s.outputSize(w, h, p);
      return p;
    });
  }
  apply(r: Raster, ps: unknown[]): Raster {
    return this.steps.reduce((acc, s, i) => s.apply(acc, ps[i]), r);
  }
  override outputSize(width: number, height: number, ps: unknown[]): [number, number] {
    return this.steps.reduce<[number, number]>((wh, s, i) => s.outputSize(wh[0], wh[1], ps[i]), [width, height]);
  }
}

/** Applies `inner` with probability p. */
class RandomApply extends Transform<{ on: boolean; p: unknown }> {
  readonly name: string;
  constructor(
    readonly inner: AnyTransform,
    readonly p: number,
  ) {
    super();
    this.name = `random-apply(${inner.name}, ${p})`;
  }
  sample(rng: Rng, w: number, h: number) {
    const on = rng.chance(this.p);
    return { on, p: on ? this.inner.sample(rng, w, h) : undefined };
  }
  apply(r: Raster, q: { on: boolean; p: unknown }): Raster {
    return q.on ? this.inner.apply(r, q.p) : r;
  }
  override outputSize(w: number, h: number, q: { on: boolean; p: unknown }): [number, number] {
    return q.on ? this.inner.outputSize(w, h, q.p) : [w, h];
  }
}

/** Applies one of `choices`, chosen uniformly. */
class OneOf extends Transform<{ k: number; p: unknown }> {
  readonly name: string;
  constructor(readonly choices: AnyTransform[]) {
    super();
    this.name = `one-of(${choices.map((c) => c.name).join(', ')})`;
  }
  sample(rng: Rng, w: number, h: number) {
    const k = rng.int(this.choices.length);
    return { k, p: this.choices[k].sample(rng, w, h) };
  }
  apply(r: Raster, q: { k: number; p: unknown }): Raster {
    return this.choices[q.k].apply(r, q.p);
  }
  override outputSize(w: number, h: number, q: { k: number; p: unknown }): [number, number] {
    return this.choices[q.k].outputSize(w, h, q.p);
  }
}

// ---------------------------------------------------------------------------------------------
// The references' pipelines, by name (workers rebuild them from the name and size).

interface PresetOptions {
  /** Output side (default: the method's). */
  size?: number;
}
export type TransformFactory = (o: PresetOptions) => Transform<unknown>;

export const augmentations = new Registry<TransformFactory>('augmentation');
augmentations
  .register({
    name: 'ial-train',
    description: 'IAL clips (§1.3): sized crop to 112 (area .85-1, ratio 3/5-5/3), hflip .5, brightness .6, rotation ±4°',
    create: ({ size = 112 }) => new Compose([new RandomSizedCrop(size), new HorizontalFlip(0.5), new ColorJitter(0.6), new RandomRotation(4)]),
  })
  .register({ name: 'ial-test', description: 'IAL test: bilinear resize to 112x112', create: ({ size = 112 }) => new Resize(size) })
  .register({
    name: 'scn-train',
    description: 'SCN (§2.2): p=.5 one of {hflip, Gaussian noise var 30}, resize 224, random erasing (p .5, scale .02-.25) to the mean colour',
    create: ({ size = 224 }) =>
      new Compose([
        new RandomApply(new OneOf([new HorizontalFlip(1), new GaussianNoise(30)]), 0.5),
        new Resize(size),
        new RandomErasing(0.5, [0.02, 0.25], [0.3, 3.3], SCN_ERASE_VALUE),
      ]),
  })
  .register({ name: 'scn-test', description: 'SCN test: resize 224', create: ({ size = 224 }) => new Resize(size) })
  .register({
    name: 'arbex-train',
    description: 'ARBEx (§3.4): shorter side to 1.1·224, random crop 224, hflip .5',
    create: ({ size = 224 }) => new Compose([new ResizeShorter(Math.trunc(size * 1.1)), new RandomCrop(size), new HorizontalFlip(0.5)]),
  })
  .register({ name: 'arbex-test', description: 'ARBEx dev: resize 224x224', create: ({ size = 224 }) => new Resize(size) })
  .register({
    name: 'fer-train',
    description: 'small-image default (FER2013 48x48): hflip .5, rotation ±10°, brightness/contrast .2, random crop after 10% upscale',
    create: ({ size = 48 }) =>
      new Compose([new Resize(Math.round(size * 1.1)), new RandomCrop(size), new HorizontalFlip(0.5), new RandomRotation(10), new ColorJitter(0.2, 0.2)]),
  })
  .register({ name: 'fer-test', description: 'small-image test: resize', create: ({ size = 48 }) => new Resize(size) })
  .register({
    name: 'face-robust',
    description:
      'faces as real photos vary: rotation ±15°, zoom 0.8-1.5 (loose to tight crops: FER framing to brows-to-chin), shift ±8%, hflip .5, low resolution (p .3, 0.25-0.6x), blur (p .2, σ 0.5-1.5), brightness/contrast .4, gamma (p .3, 0.6-1.6), noise (p .2), erasing (p .25, occlusion)',
    create: ({ size = 96 }) =>
      new Compose([
        new RandomAffine(size, 15, [0.8, 1.5], 0.08),
        new HorizontalFlip(0.5),
        new RandomApply(new Downscale([0.25, 0.6]), 0.3),
        new RandomApply(new GaussianBlur([0.5, 1.5]), 0.2),
        new ColorJitter(0.4, 0.4),
        new RandomApply(new RandomGamma([0.6, 1.6]), 0.3),
        new RandomApply(new GaussianNoise(30), 0.2),
        new RandomErasing(0.25, [0.02, 0.15], [0.3, 3.3], 128),
      ]),
  });
