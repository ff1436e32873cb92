// Face crops → the tensor a model expects: resized to its input size, grey or RGB, scaled to
// [0,1] and normalised with its mean/std (config.input). The one place inference, evaluation and
// export agree on how pixels enter a model (the pixel part, imagesToFloat, is in data/raster.ts,
// shared with the browser build).
import { tf } from '../engine/backend.js';
import { fitRaster, imagesToFloat, rastersToFloat, type Raster } from '../data/raster.js';
import type { InputSpec } from './model.js';

export { fitRaster, imagesToFloat, pixelChannels } from '../data/raster.js';

/** Images → normalised NHWC [N, H, W, C]. */
export function imagesToInput(rasters: readonly Raster[], input: InputSpec): tf.Tensor4D {
  const [h, w] = input.size;
  return tf.tensor4d(imagesToFloat(rasters, input), [rasters.length, h, w, input.channels]);
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C] values. */
export function clipsToFloat(clips: readonly (readonly Raster[])[], input: InputSpec): Float32Array {
  const t = input.frames ?? 0;
  for (const [i, c] of clips.entries()) {
    if (c.length !== t) throw new Error(`clip ${i} has ${c.length} frames; the model takes ${t}`);
  }
  return rastersToFloat(
    clips.flatMap((c) => c.map((r) => fitRaster(r, input))),
    { mean: input.mean, std: input.std, channels: input.channels },
  );
}

/** Clips (each `input.frames` frames) → normalised [N, T, H, W, C]. */
export function clipsToInput(clips: readonly (readonly Raster[])[], input: InputSpec): tf.Tensor5D {
  const [h, w] = input.size;
  return tf.tensor5d(clipsToFloat(clips, input), [clips.length, input.frames ?? 0, h, w, input.channels]);
}
