// Raster pictures for reports: faces with a mask overlaid (the mask upsampled bilinearly and shown
// in red over the grey face), pattern maps, and grids of such tiles with a class label band.
import type { Raster } from '../data/image.js';

/** Bilinear resize of a [h, w] map (align-corners: corners map to corners) to [H, W]. */
export function upsample(map: ArrayLike<number>, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(H * W);
  for (let i = 0; i < H; i++) {
    const y = H === 1 ? 0 : (i * (h - 1)) / (H - 1);
    const y0 = Math.floor(y);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = y - y0;
    for (let j = 0; j < W; j++) {
      const x = W === 1 ? 0 : (j * (w - 1)) / (W - 1);
      const x0 = Math.floor(x);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = x - x0;
      const top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
      const bot = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
      out[i * W + j] = top * (1 - fy) + bot * fy;
    }
  }
  return out;
}

/** Grey face (values 0..1, length H·W) as RGB, with `mask` (0..1, same size, min-max stretched)
 *  blended in red: the brighter the red, the more weight the model gives the region. */
export function overlayMask(face: ArrayLike<number>, mask: ArrayLike<number>, size: [number, number], alpha = 0.55): Raster {
  const [H, W] = size;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < mask.length; i++) {
    lo = Math.min(lo, mask[i]);
    hi = Math.max(hi, mask[i]);
  }
  const data = new Uint8Array(H * W * 3);
  for (let i = 0; i < H * W; i++) {
    const g = face[i] * 255;
    const m = hi > lo ? (mask[i] - lo) / (hi - lo) : 0;
    const a = alpha * m;
    data[i * 3] = Math.round(g * (1 - a) + 255 * a);
    data[i * 3 + 1] = Math.round(g * (1 - a));
    data[i * 3 + 2] = Math.round(g * (1 - a));
  }
  return { width: W, height: H, channels: 3, data };
}

/** Values in [0,1] (length H·W) as an RGB raster. */
export function greyRaster(v: ArrayLike<number>, size: [number, number]): Raster {
  const [H, W] = size;
  const data = new Uint8Array(H * W * 3);
  for (let i = 0; i < H * W; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = Math.round(Math.min(1, Math.max(0, v[i])) * 255);
  return { width: W, height: H, channels: 3, data };
}

/** Tiles (all the same size) in rows, `scale`× nearest-neighbour enlarged, 2-pixel gaps, and a
 *  colour band above each row (the row's class colour, hex). */
export function grid(rows: Array<{ color: string; tiles: Raster[] }>, scale = 2): Raster {
  const t = rows.find((r) => r.tiles.length)?.tiles[0];
  if (!t) return { width: 1, height: 1, channels: 3, data: new Uint8Array(3).fill(255) };
  const tw = t.width * scale;
  const th = t.height * scale;
  const gap = 2;
  const band = 4;
  const cols = Math.max(...rows.map((r) => r.tiles.length));
  const W = cols * (tw + gap) + gap;
  const H = rows.length * (th + band + gap) + gap;
  const data = new Uint8Array(W * H * 3).fill(255);
  rows.forEach((row, r) => {
    const y0 = gap + r * (th + band + gap);
    const rgb = [1, 3, 5].map((k) => parseInt(row.color.slice(k, k + 2), 16));
    for (let y = y0; y < y0 + band; y++) for (let x = gap; x < W - gap; x++) data.set(rgb, (y * W + x) * 3);
    row.tiles.forEach((tile, c) => {
      const x0 = gap + c * (tw + gap);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const s = (Math.floor(y / scale) * tile.width + Math.floor(x / scale)) * 3;
          data.set(tile.data.subarray(s, s + 3), ((y0 + band + y) * W + x0 + x) * 3);
        }
      }
    });
  });
  return { width: W, height: H, channels: 3, data };
}
