// Browser image sources → RGB rasters (what the shared alignment and preprocessing take), through
// a 2-D canvas. Blobs are decoded with createImageBitmap, EXIF orientation applied as sharp does.
import type { Raster } from '../data/raster.js';

/** Anything the browser recognizer reads pixels from. */
export type BrowserImage = HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | ImageBitmap | OffscreenCanvas | ImageData | Blob | Raster;

type Canvas2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function context(width: number, height: number): Canvas2D {
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as Canvas2D | null;
  if (!ctx) throw new Error('ferkit: this browser gives no 2-D canvas context');
  return ctx;
}

/** RGBA bytes → an RGB raster. */
function fromRgba(data: Uint8ClampedArray, width: number, height: number): Raster {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    out[j] = data[i];
    out[j + 1] = data[i + 1];
    out[j + 2] = data[i + 2];
  }
  return { width, height, channels: 3, data: out };
}

function sizeOf(src: Exclude<BrowserImage, Blob | ImageData | Raster>): [number, number] {
  if (typeof HTMLImageElement !== 'undefined' && src instanceof HTMLImageElement) return [src.naturalWidth, src.naturalHeight];
  if (typeof HTMLVideoElement !== 'undefined' && src instanceof HTMLVideoElement) return [src.videoWidth, src.videoHeight];
  return [src.width, src.height];
}

const isRaster = (x: unknown): x is Raster => typeof x === 'object' && x !== null && 'channels' in x && (x as Raster).data instanceof Uint8Array;

/** The pixels of an image, video frame, canvas, bitmap, ImageData, Blob (a file) or raster. */
export async function toRaster(src: BrowserImage, name = 'image'): Promise<Raster> {
  if (isRaster(src)) return src;
  if (typeof ImageData !== 'undefined' && src instanceof ImageData) return fromRgba(src.data, src.width, src.height);
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(src, { imageOrientation: 'from-image' });
    } catch (e) {
      throw new Error(`${name}: not an image the browser can decode (${(e as Error).message})`);
    }
    try {
      return await toRaster(bitmap, name);
    } finally {
      bitmap.close();
    }
  }
  const el = src as Exclude<BrowserImage, Blob | ImageData | Raster>;
  if (typeof HTMLImageElement !== 'undefined' && el instanceof HTMLImageElement && !el.complete) await el.decode();
  const [width, height] = sizeOf(el);
  if (!(width > 0 && height > 0)) throw new Error(`${name}: has no pixels yet (${width}x${height}; wait until the image or video has loaded)`);
  const ctx = context(width, height);
  ctx.drawImage(el, 0, 0, width, height);
  return fromRgba(ctx.getImageData(0, 0, width, height).data, width, height);
}
