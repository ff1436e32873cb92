// Image decoding (sharp; ffmpeg for what libvips cannot read) to plain uint8 rasters, and encoding
// rasters back to files. The pure pixel operations (resize, crop, channels, float batches) live in
// raster.ts and are re-exported here. Rasters stay plain objects so they cross worker_threads
// cheaply; this module loads no TF.js (decode workers import it), the tensor step is in tensor.ts.
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { DataError } from './errors.js';
import type { ImageSource } from './types.js';
import { toGrey, withChannels, type ChannelMode, type Raster } from './raster.js';

export { toGrey, toRgb, withChannels, resizeBilinear, crop, rastersToFloat, IMAGENET_MEAN } from './raster.js';
export type { Raster } from './raster.js';

// Every decode is a one-off: libvips' operation cache only costs memory here.
sharp.cache(false);

export interface DecodeOptions {
  /** 1 = grey, 3 = RGB, 'keep' = whatever the file holds (grey stays grey). Default 3. */
  channels?: ChannelMode;
}

/** Checks a raster's fields agree with its buffer; names `origin` in the error. */
export function checkRaster(r: Raster, origin: string): Raster {
  if (!Number.isInteger(r.width) || !Number.isInteger(r.height) || r.width < 1 || r.height < 1) {
    throw new DataError(origin, `bad raster size ${r.width}x${r.height}`);
  }
  if (r.channels !== 1 && r.channels !== 3) throw new DataError(origin, `raster has ${r.channels} channels; expected 1 or 3`);
  if (r.data.length !== r.width * r.height * r.channels) {
    throw new DataError(origin, `raster buffer holds ${r.data.length} bytes; ${r.width}x${r.height}x${r.channels} needs ${r.width * r.height * r.channels}`);
  }
  return r;
}

const isBmp = (head: Buffer) => head.length >= 2 && head[0] === 0x42 && head[1] === 0x4d;

/** Decodes an image file: EXIF orientation applied, alpha dropped, first frame of GIF/TIFF pages. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<Raster> {
  const mode = opts.channels ?? 3;
  let bytes: Buffer;
  try {
    // Reading the file ourselves and handing sharp a buffer is ~35% faster for small images.
    bytes = await readFile(path);
  } catch (e) {
    throw new DataError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new DataError(path, 'empty file (0 bytes)');
  try {
    // failOn 'truncated' rejects cut-off files but accepts the harmless libjpeg warnings some
    // camera JPEGs raise; rotate() with no angle applies the EXIF orientation.
    const { data, info } = await sharp(bytes, { failOn: 'truncated', pages: 1 })
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 && info.channels !== 3) {
      throw new DataError(path, `decoded to ${info.channels} channels (CMYK or an unusual colour space is not supported)`);
    }
    const r: Raster = { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    // sharp hands greyscale files back as sRGB; 'keep' asks the header what the file really holds.
    if (mode === 'keep' && r.channels === 3 && (await sharp(bytes).metadata()).space === 'b-w') return toGrey(r);
    return withChannels(r, mode);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const msg = (e as Error).message;
    if (/unsupported image format/i.test(msg)) {
      // libvips has no BMP loader; ffmpeg has one.
      if (isBmp(bytes)) {
        const { decodeVideo } = await import('./video.js');
        const { frames } = await decodeVideo(path, { maxFrames: 1 });
        if (frames.length !== 1) throw new DataError(path, 'BMP decoded to no image');
        return withChannels(frames[0], mode);
      }
      throw new DataError(path, 'not an image sharp can read (unknown or unsupported format)');
    }
    // libvips says only "Unknown error" for JPEG data cut short or damaged past the header.
    const why = msg.split('\n')[0];
    throw new DataError(path, `cannot decode image: ${why === 'Unknown error' ? 'the pixel data is damaged or cut short' : why}`);
  }
}

/** Decodes any ImageSource to a raster with the requested channels. */
export async function decodeImage(src: ImageSource, opts: DecodeOptions = {}): Promise<Raster> {
  const mode = opts.channels ?? 3;
  if (src.kind === 'file') return decodeImageFile(src.path, opts);
  if (src.kind === 'pixels') {
    const r = checkRaster({ width: src.width, height: src.height, channels: src.channels, data: src.data }, src.origin);
    return withChannels(r, mode);
  }
  const { decodeVideoFrame } = await import('./video.js');
  return withChannels(await decodeVideoFrame(src.path, src.index), mode);
}

/** A raster as a sharp pipeline's input (no copy). */
export function sharpOf(r: Raster): Sharp {
  return sharp(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length), { raw: { width: r.width, height: r.height, channels: r.channels } });
}

/** Encodes a raster to a file; the format follows the extension (png, jpg, webp, tiff). */
export async function writeImage(r: Raster, path: string): Promise<void> {
  await sharpOf(r).toFile(path);
}

/** Area-averaging resize with libvips (much faster than a JS bilinear pass on photos), of the
 *  whole raster or of a region [x, y, w, h]. */
export async function resizeRaster(r: Raster, width: number, height: number, region?: [number, number, number, number]): Promise<Raster> {
  const img = region ? sharpOf(r).extract({ left: region[0], top: region[1], width: region[2], height: region[3] }) : sharpOf(r);
  const { data, info } = await img.resize(width, height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: r.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
