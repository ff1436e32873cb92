// The crop a model sees of a face, at inference (modelCrop, libvips pre-shrinking big photos) and
// for the aligned-crop cache (faceCropper, data/aligned-cache.ts).
import { crop as cropRaster, resizeBilinear, resizeRaster, withChannels, type Raster } from '../data/image.js';
import type { FaceCropper } from '../data/aligned-cache.js';
import type { PixelSpec } from '../data/raster.js';
import { alignFace, alignmentFor, alignPrescale, warpPrescaled, type Face } from './align.js';
import { detectFaces, type DetectOptions } from './face-api.js';

/** The crop the model sees for a face: aligned (eyes level, `margin` around the landmarks), in
 *  the model's size and channels. Reads only the source square the crop covers; when that
 *  shrinks by more than 2x, libvips pre-shrinks it (antialiased) and the bilinear warp runs on
 *  the small copy, as alignFace does in JS for training crops. A face without landmarks (taken
 *  whole, not detected) is its box resized, as FER-style crops are. */
export async function modelCrop(raster: Raster, face: Face, input: Pick<PixelSpec, 'size' | 'channels'>, margin = 0.25): Promise<Raster> {
  const { size, channels } = input;
  if (face.landmarks.length !== 68) return withChannels(resizeBilinear(raster, size[1], size[0], face.box), channels);
  const a = alignmentFor(face, Math.max(size[0], size[1]), margin);
  // The rotated square's bounding box in the source, a pixel more for the bilinear taps.
  const reach = (a.size / a.scale) * Math.SQRT1_2 + 2;
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const x0 = clamp(Math.floor(a.centre[0] - reach), raster.width - 1);
  const y0 = clamp(Math.floor(a.centre[1] - reach), raster.height - 1);
  const w = clamp(Math.ceil(a.centre[0] + reach), raster.width) - x0;
  const h = clamp(Math.ceil(a.centre[1] + reach), raster.height) - y0;
  if (w < 1 || h < 1) return withChannels({ width: a.size, height: a.size, channels: raster.channels, data: new Uint8Array(a.size * a.size * raster.channels) }, channels);
  const local = { ...a, centre: [a.centre[0] - x0, a.centre[1] - y0] as [number, number] };
  const k = alignPrescale(a);
  const src = k > 1 ? await resizeRaster(raster, Math.max(1, Math.round(w / k)), Math.max(1, Math.round(h / k)), [x0, y0, w, h]) : cropRaster(raster, x0, y0, w, h);
  return withChannels(warpPrescaled(src, w, h, local), channels);
}

/** A face finder for the aligned-crop cache: `find` gives the face of a picture (default: the best
 *  face face-api finds on TF.js with `detect`), aligned with `margin`; `key` names a custom `find`. */
export function faceCropper(opts: { detect?: DetectOptions; margin?: number; find?: (img: Raster) => Promise<Face | 'whole' | undefined>; key?: string } = {}): FaceCropper {
  const d = opts.detect ?? {};
  const find = opts.find ?? (async (img: Raster) => (await detectFaces(img, d))[0]);
  return {
    key: JSON.stringify(opts.find ? { find: opts.key, margin: opts.margin } : { ...d, margin: opts.margin }),
    crop: async (img, size, channels) => {
      const face = await find(img);
      return face === undefined || face === 'whole' ? face : alignFace(img, face, size, { margin: opts.margin, channels });
    },
  };
}
