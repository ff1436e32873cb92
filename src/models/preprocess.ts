// Face crops → the tensor a model expects: resized to its input size, grey or RGB, scaled to
// [0,1] and normalised with its mean/std (config.input). The one place inference, evaluation and
// export agree on how pixels enter a model.
import { tf } from '../engine/backend.js';
import { resizeBilinear, rastersToFloat, withChannels, type Raster } from '../data/image.js';
import type { InputSpec } from './model.js';

/** Channels of the pixels before normalisation: 1 for a greyscale model (replicated to its
 *  channels only when the floats are made, so stores and augmentation handle a third). */
export const pixelChannels = (input: InputSpec): 1 | 3 => (input.greyscale ? 1 : input.channels);

/** A raster in the model's size and pixel channel count. */
export function fitRaster(r: Raster, input: InputSpec): Raster {
  const [h, w] = input.size;
  const c = withChannels(r, pixelChannels(input));
  return c.width === w && c.height === h ? c : resizeBilinear(c, w, h);
}

/** Images → normalised NHWC [N, H, W, C]. */
export function imagesToInput(rasters: readonly Raster[], input: InputSpec): tf.Tensor4D {
  const fitted = rasters.map((r) => fitRaster(r, input));
  const [h, w] = input.size;
  return tf.tensor4d(rastersToFloat(fitted, { mean: input.mean, std: input.std, channels: input.channels }), [fitted.length, h, w, input.channels]);
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C]. */
export function clipsToInput(clips: readonly (readonly Raster[])[], input: InputSpec): tf.Tensor5D {
  const t = input.frames ?? 0;
  for (const [i, c] of clips.entries()) {
    if (c.length !== t) throw new Error(`clip ${i} has ${c.length} frames; the model takes ${t}`);
  }
  const [h, w] = input.size;
  const flat = rastersToFloat(
    clips.flatMap((c) => c.map((r) => fitRaster(r, input))),
    { mean: input.mean, std: input.std, channels: input.channels },
  );
  return tf.tensor5d(flat, [clips.length, t, h, w, input.channels]);
}
