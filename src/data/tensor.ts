// Rasters → TF.js tensors (kept apart from image.ts so decode workers never load TF.js).
import { tf } from '../engine/backend.js';
import { rastersToFloat, type Raster, type TensorOptions } from './image.js';

/** Rasters of one size → a float32 NHWC tensor [N, H, W, C] in [0,1] (or (x − mean)/std). */
export function rastersToTensor(rasters: readonly Raster[], opts: TensorOptions = {}): tf.Tensor4D {
  const { width, height, channels } = rasters[0] ?? { width: 0, height: 0, channels: 1 };
  return tf.tensor4d(rastersToFloat(rasters, opts), [rasters.length, height, width, channels]);
}

/** One raster → [1, H, W, C]. */
export function rasterToTensor(r: Raster, opts: TensorOptions = {}): tf.Tensor4D {
  return rastersToTensor([r], opts);
}
