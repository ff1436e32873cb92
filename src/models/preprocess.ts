// Face crops → the tensor a model expects: resized to its input size, grey or RGB, scaled to
// [0,1] and normalised with its mean/std (config.input). The one place inference, evaluation and
// export agree on how pixels enter a model.
import { tf } from '../engine/backend.js';
import { resizeBilinear, rastersToFloat, withChannels, type Raster } from '../data/image.js';
import type { InputSpec } from './model.js';

/** A raster in the model's size and channel count. */
export function fitRaster(r: Raster, input: InputSpec): Raster {
  const [h, w] = input.size;
  const c = withChannels(r, input.channels);
  return c.width === w && c.height === h ? c : resizeBilinear(c, w, h);
}

/** Images → normalised NHWC [N, H, W, C] values (what runners take, no TF.js tensor in between). */
export function imagesToFloat(rasters: readonly Raster[], input: InputSpec): { data: Float32Array; shape: number[] } {
  const fitted = rasters.map((r) => fitRaster(r, input));
  const [h, w] = input.size;
  return { data: rastersToFloat(fitted, { mean: input.mean, std: input.std }), shape: [fitted.length, h, w, input.channels] };
}

/** Images → normalised NHWC [N, H, W, C]. */
export function imagesToInput(rasters: readonly Raster[], input: InputSpec): tf.Tensor4D {
  const { data, shape } = imagesToFloat(rasters, input);
  return tf.tensor4d(data, shape as [number, number, number, number]);
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C] values. */
export function clipsToFloat(clips: readonly (readonly Raster[])[], input: InputSpec): { data: Float32Array; shape: number[] } {
  const t = input.frames ?? 0;
  for (const [i, c] of clips.entries()) {
    if (c.length !== t) throw new Error(`clip ${i} has ${c.length} frames; the model takes ${t}`);
  }
  const [h, w] = input.size;
  const flat = rastersToFloat(
    clips.flatMap((c) => c.map((r) => fitRaster(r, input))),
    { mean: input.mean, std: input.std },
  );
  return { data: flat, shape: [clips.length, t, h, w, input.channels] };
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C]. */
export function clipsToInput(clips: readonly (readonly Raster[])[], input: InputSpec): tf.Tensor5D {
  const { data, shape } = clipsToFloat(clips, input);
  return tf.tensor5d(data, shape as [number, number, number, number, number]);
}
