// Encoded image bytes (an upload, a buffer in memory) → an RGB raster, with a pixel limit checked
// from the header before anything is decoded, and errors that name the source.
import sharp, { type Metadata } from 'sharp';
import { DataError } from '../data/errors.js';
import type { Raster } from '../data/image.js';

export interface DecodeBytesOptions {
  /** Largest width×height accepted (default 40 megapixels). */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 40_000_000;

/** Decodes image bytes (JPEG, PNG, WebP, GIF, TIFF, AVIF ...) to RGB, EXIF orientation applied. */
export async function decodeImageBytes(bytes: Uint8Array, name = 'image', opts: DecodeBytesOptions = {}): Promise<Raster> {
  if (bytes.length === 0) throw new DataError(name, 'empty image (0 bytes)');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let meta: Metadata;
  try {
    meta = await sharp(buf).metadata();
  } catch {
    throw new DataError(name, 'not an image (unknown or unsupported format)');
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels === 0) throw new DataError(name, 'image has no size in its header');
  if (pixels > maxPixels) throw new DataError(name, `image is ${meta.width}x${meta.height} = ${pixels} pixels; the limit is ${maxPixels}`);
  try {
    const { data, info } = await sharp(buf, { failOn: 'truncated', pages: 1, limitInputPixels: maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new DataError(name, `decoded to ${info.channels} channels; expected RGB`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(name, `cannot decode the image (${(e as Error).message})`);
  }
}
