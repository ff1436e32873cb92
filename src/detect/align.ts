// Face alignment, pure (typed arrays, no Node APIs; the browser build shares it): eyes level, a
// square around the 68 landmarks widened by a margin, warped with bilinear sampling.
import { crop, resizeBilinear, toGrey, toRgb, type Raster } from '../data/raster.js';

export interface Face {
  /** [x, y, w, h] in source pixels. */
  box: [number, number, number, number];
  score: number;
  /** 68 points (iBUG order: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67). */
  landmarks: [number, number][];
}

/** A face as face finding reports it: detected, or the whole picture taken as a face crop. */
export interface FoundFace extends Face {
  /** False when no detector found it: the whole picture taken as the face (no landmarks). */
  detected: boolean;
}

export interface AlignOptions {
  /** Extra border on each side, as a fraction of the landmarks' extent (default 0.25: the 68
   *  points stop at the brows, so this brings in the forehead like FER-style crops). */
  margin?: number;
  /** 1 = grey, 3 = RGB (default: the source's). */
  channels?: 1 | 3;
}

/** Eye centres (image left, image right) from the 68 landmarks. */
export function eyeCentres(face: Face): [[number, number], [number, number]] {
  const mean = (from: number, to: number): [number, number] => {
    let x = 0;
    let y = 0;
    for (let i = from; i < to; i++) {
      x += face.landmarks[i][0];
      y += face.landmarks[i][1];
    }
    return [x / (to - from), y / (to - from)];
  };
  return [mean(36, 42), mean(42, 48)];
}

/** The similarity that maps source points to the aligned crop: p' = s·R(−θ)(p − c) + size/2. */
export interface Alignment {
  angle: number; // radians, the eye line's tilt in the source
  scale: number; // output pixels per source pixel
  centre: [number, number]; // source point that lands at the crop centre
  size: number;
}

export function alignmentFor(face: Face, size: number, margin = 0.25): Alignment {
  if (face.landmarks.length !== 68) throw new Error(`alignment needs 68 landmarks, got ${face.landmarks.length}`);
  const [l, r] = eyeCentres(face);
  const angle = Math.atan2(r[1] - l[1], r[0] - l[0]);
  const cos = Math.cos(-angle);
  const sin = Math.sin(-angle);
  // Landmarks in the de-rotated frame: their bounding square, widened by the margin.
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of face.landmarks) {
    const u = cos * x - sin * y;
    const v = sin * x + cos * y;
    minX = Math.min(minX, u);
    maxX = Math.max(maxX, u);
    minY = Math.min(minY, v);
    maxY = Math.max(maxY, v);
  }
  const side = Math.max(maxX - minX, maxY - minY) * (1 + 2 * margin);
  const cu = (minX + maxX) / 2;
  const cv = (minY + maxY) / 2;
  // Back to source coordinates: rotate the centre by +angle.
  const centre: [number, number] = [Math.cos(angle) * cu - Math.sin(angle) * cv, Math.sin(angle) * cu + Math.cos(angle) * cv];
  return { angle, scale: size / side, centre, size };
}

/** Where a source point lands in the aligned crop. */
export function mapToAligned(a: Alignment, p: [number, number]): [number, number] {
  const dx = p[0] - a.centre[0];
  const dy = p[1] - a.centre[1];
  const c = Math.cos(-a.angle);
  const s = Math.sin(-a.angle);
  return [a.scale * (c * dx - s * dy) + a.size / 2, a.scale * (s * dx + c * dy) + a.size / 2];
}

/** How much warpAligned shrinks the source first (antialiased) so the bilinear warp does not alias. */
export function alignPrescale(a: Alignment): number {
  return a.scale < 0.5 ? Math.floor(1 / a.scale) : 1;
}

/** Warps the source into the size×size crop of `a` (bilinear, black outside the image). */
function warpAligned(raster: Raster, a: Alignment): Raster {
  const k = alignPrescale(a);
  // Shrinking by more than 2x: pre-scale with the antialiasing resize so the warp does not alias.
  const src = k > 1 ? resizeBilinear(raster, Math.max(1, Math.round(raster.width / k)), Math.max(1, Math.round(raster.height / k))) : raster;
  return warpPrescaled(src, raster.width, raster.height, a);
}

/** The bilinear warp of warpAligned on `src`, a (possibly shrunk) copy of a width×height source. */
export function warpPrescaled(src: Raster, width: number, height: number, a: Alignment): Raster {
  const kx = src.width / width;
  const ky = src.height / height;
  const { size } = a;
  const c = src.channels;
  const sw = src.width;
  const sh = src.height;
  const data = src.data;
  const out = new Uint8Array(size * size * c);
  const cos = Math.cos(a.angle);
  const sin = Math.sin(a.angle);
  const inv = 1 / a.scale;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Inverse map of the pixel centre, in source pixel-centre coordinates.
      const u = (x + 0.5 - size / 2) * inv;
      const v = (y + 0.5 - size / 2) * inv;
      const sx = (cos * u - sin * v + a.centre[0]) * kx - 0.5;
      const sy = (sin * u + cos * v + a.centre[1]) * ky - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * size + x) * c;
      // The four taps in a fixed order, those outside the image left out (black).
      const in00 = x0 >= 0 && y0 >= 0;
      const in10 = x0 + 1 < sw && y0 >= 0;
      const in01 = x0 >= 0 && y0 + 1 < sh;
      const in11 = x0 + 1 < sw && y0 + 1 < sh;
      const p00 = (y0 * sw + x0) * c;
      const p01 = p00 + sw * c;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        if (in00) acc += (1 - fx) * (1 - fy) * data[p00 + ch];
        if (in10) acc += fx * (1 - fy) * data[p00 + c + ch];
        if (in01) acc += (1 - fx) * fy * data[p01 + ch];
        if (in11) acc += fx * fy * data[p01 + c + ch];
        out[o + ch] = Math.round(acc);
      }
    }
  }
  return { width: size, height: size, channels: c, data: out };
}

/** Rotates so the eyes are level, scales and crops a size×size square around the landmarks. */
export function alignFace(raster: Raster, face: Face, size: number, opts: AlignOptions = {}): Raster {
  const out = warpAligned(raster, alignmentFor(face, size, opts.margin ?? 0.25));
  return opts.channels === undefined ? out : opts.channels === 1 ? toGrey(out) : toRgb(out);
}

/** The aligned size×size crop of one face, warping only a region around it (the aligned square
 *  fits well inside it) rather than the whole picture. */
export function alignedCrop(raster: Raster, face: Face, size: number, opts: AlignOptions = {}): Raster {
  const [bx, by, bw, bh] = face.box;
  // A face without landmarks (a picture read whole as a face crop) is its box resized, as FER-style crops are.
  if (face.landmarks.length !== 68) {
    const r = resizeBilinear(raster, size, size, face.box);
    return opts.channels === undefined ? r : opts.channels === 1 ? toGrey(r) : toRgb(r);
  }
  const pad = Math.max(bw, bh);
  const x0 = Math.max(0, Math.floor(bx - pad));
  const y0 = Math.max(0, Math.floor(by - pad));
  const x1 = Math.min(raster.width, Math.ceil(bx + bw + pad));
  const y1 = Math.min(raster.height, Math.ceil(by + bh + pad));
  const region = x1 - x0 < 2 || y1 - y0 < 2 ? raster : crop(raster, x0, y0, x1 - x0, y1 - y0);
  const [ox, oy] = region === raster ? [0, 0] : [x0, y0];
  const local: Face = { ...face, box: [bx - ox, by - oy, bw, bh], landmarks: face.landmarks.map(([x, y]) => [x - ox, y - oy]) };
  return alignFace(region, local, size, opts);
}
