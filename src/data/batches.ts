// Turning stored samples into model inputs: augmented training batches (one parameter draw per
// image, or per clip for all its frames) and plain evaluation inputs, normalised per the model's
// input spec. Seeds are derived from (seed, epoch, batch), so a run resumed mid-epoch draws what
// the uninterrupted run would have.
import { augmentations, flipHorizontal, type Transform } from './augment.js';
import { testFrameIndices, trainFrameIndices, type ClipSampling } from './clip-sampling.js';
import { rastersToFloat, type Raster } from './image.js';
import { Rng } from '../util/rng.js';
import type { InputSpec } from './types.js';
import type { SampleStore } from './sample-store.js';

/** A 32-bit seed from several integers (splitmix-style mixing). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

function clipSampling(input: InputSpec, framesPerSegment = input.framesPerSegment ?? 1): ClipSampling {
  const t = input.frames ?? 1;
  if (!Number.isInteger(framesPerSegment) || framesPerSegment < 1 || t % framesPerSegment !== 0) {
    throw new Error(`clip sampling: ${t} frames cannot be cut into segments of ${framesPerSegment} frames`);
  }
  return { segments: t / framesPerSegment, framesPerSegment, shortClips: 'first-frame' };
}

/** What the trainer draws batches from: images (BatchBuilder) or cached maps (train/feature-cache.ts). */
export interface BatchSource {
  readonly size: number;
  /** Inputs of samples `idx`: augmented when `seed` is given, mirrored when `flip`. */
  build(idx: ArrayLike<number>, seed?: number, flip?: boolean): { x: Float32Array; shape: number[] };
}

export class BatchBuilder implements BatchSource {
  private readonly trainAug?: Transform<unknown>;
  private readonly sampling: ClipSampling;

  get size(): number {
    return this.store.size;
  }

  constructor(
    readonly store: SampleStore,
    readonly input: InputSpec,
    trainAugment?: string,
    framesPerSegment = input.framesPerSegment ?? 1,
  ) {
    const side = input.size[0];
    this.trainAug = trainAugment && trainAugment !== 'none' ? augmentations.get(trainAugment).create({ size: side }) : undefined;
    this.sampling = clipSampling(input, framesPerSegment);
  }

  private framesFor(i: number, rng: Rng | undefined): Raster[] {
    if (this.input.kind === 'image') return [this.store.frame(i, 0)];
    const n = this.store.framesOf(i);
    const idx = rng ? trainFrameIndices(n, this.sampling, rng) : testFrameIndices(n, this.sampling);
    return idx.map((f) => this.store.frame(i, Math.min(f, n - 1)));
  }

  /** Normalised inputs for samples `idx`; augmented when `seed` is given. Shape [N, (T,) H, W, C]. */
  build(idx: ArrayLike<number>, seed?: number, flip = false): { x: Float32Array; shape: number[] } {
    const rng = seed === undefined ? undefined : new Rng(seed);
    const rasters: Raster[] = [];
    for (let k = 0; k < idx.length; k++) {
      let frames = this.framesFor(idx[k], rng);
      if (rng && this.trainAug) frames = this.input.kind === 'image' ? [this.trainAug.applyImage(frames[0], rng)] : this.trainAug.applyClip(frames, rng);
      if (flip) frames = frames.map(flipHorizontal);
      // Augmentations may change the size (crops): bring frames back to the input size.
      for (const f of frames) rasters.push(f);
    }
    const [h, w] = this.input.size;
    for (const [k, r] of rasters.entries()) {
      if (r.width !== w || r.height !== h) throw new Error(`augmentation produced ${r.width}x${r.height}, model input is ${w}x${h} (sample ${idx[Math.floor(k / (this.input.frames ?? 1))]})`);
    }
    const x = rastersToFloat(rasters, { mean: this.input.mean, std: this.input.std, channels: this.input.channels });
    const shape = this.input.kind === 'image' ? [idx.length, h, w, this.input.channels] : [idx.length, this.input.frames!, h, w, this.input.channels];
    return { x, shape };
  }
}
