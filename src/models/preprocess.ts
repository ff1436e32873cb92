// Face crops → the tensor a model expects: resized to its input size, grey or RGB, scaled to
// [0,1] and normalised with its mean/std (config.input). The floats (imagesToFloat, clipsToFloat)
// are made in data/raster.ts, shared with runners and the browser build; this adds the tensor.
import { tf } from '../engine/backend.js';
import { clipsToFloat, imagesToFloat, type Raster } from '../data/raster.js';
import type { InputSpec } from './model.js';

/** Images → normalised NHWC [N, H, W, C]. */
export function imagesToInput(rasters: readonly Raster[], input: InputSpec): tf.Tensor4D {
  const [h, w] = input.size;
  return tf.tensor4d(imagesToFloat(rasters, input), [rasters.length, h, w, input.channels]);
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C]. */
export function clipsToInput(clips: readonly (readonly Raster[])[], input: InputSpec): tf.Tensor5D {
  const [h, w] = input.size;
  return tf.tensor5d(clipsToFloat(clips, input), [clips.length, input.frames ?? 0, h, w, input.channels]);
}
