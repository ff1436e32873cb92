// Finding the faces a person sees in a picture, around one low-level detector call (FaceDetector:
// a raster in, boxes + 68 landmarks out; face-api's SSD by default, swappable). The detector sees a
// small square (SSD: 512x512), so one pass over a big picture misses small faces: pictures whose
// longer side is above `tileAbove`, or whose first pass finds small faces (a crowd, a grid), are
// also cut into overlapping tiles, each detected at a scale that shows such faces well, and the
// detections merged (non-maximum suppression). Face crops (a close-up, a 48x48 FER
// face) give the detector no context: in 'auto' mode a picture shaped like a crop is retried on
// padded copies, and when that finds nothing either but the picture is a face crop, the whole
// picture stands for one face, flagged `detected: false`. Boxes are clipped to the picture; the
// faces come back in reading order (rows top to bottom, left to right), after keeping the
// `maxFaces` best, and the count of faces dropped by that cap is reported.
import { crop as cropRaster, resizeRaster, type Raster } from '../data/image.js';
import type { Face, FoundFace } from './align.js';
import { fromPrepared, prepareForDetection } from './face-api.js';
import { area, clipBox, DEFAULT_MAX_FACES, mergeDetections, readingOrder, tileStarts } from './face-layout.js';

/** The low-level detector: faces of a raster in its own pixels, best first. */
export type FaceDetector = (raster: Raster, opts: { minConfidence: number; maxResults: number }) => Promise<Face[]>;

/** detect: the detector only; whole: the picture is the face (no detection); auto: detect, then
 *  the face-crop fallbacks. */
export type FaceMode = 'detect' | 'whole' | 'auto';
export const FACE_MODES: readonly FaceMode[] = ['detect', 'whole', 'auto'];

export interface FindOptions {
  mode?: FaceMode;
  /** Minimum detector score (default 0.5). */
  minConfidence?: number;
  /** At most this many faces, best first (default 100); the rest are counted in `dropped`. */
  maxFaces?: number;
  /** Each detector pass runs on a copy scaled down to this longer side (default 1024; 0 = full
   *  size). SSD sees 512x512 whatever it is given, so this loses little and saves time. */
  detectMaxSide?: number;
  /** Pictures with a longer side above this are also detected in tiles (default 2560; 0 = never). */
  tileAbove?: number;
  /** Tile side in source pixels (default 1920, the scale at which a group photo's faces are found). */
  tileSide?: number;
}

export interface FoundFaces {
  faces: FoundFace[];
  /** Faces found beyond maxFaces and left out. */
  dropped: number;
}

/** A face-crop-shaped picture: not too elongated, not bigger than a close-up usually is. */
const cropShaped = (r: Raster) => Math.max(r.width, r.height) <= 1024 && Math.max(r.width, r.height) <= 2 * Math.min(r.width, r.height) && Math.min(r.width, r.height) >= MIN_CROP_SIDE;
/** Pictures this small cannot show a scene: a face crop (FER2013's 48x48) or nothing; below the
 *  smaller size not even a face crop. */
const TINY_SIDE = 128;
const MIN_CROP_SIDE = 24;
/** Padded retries for crops: fraction of the side added on each side, then upscaled to minSide. */
const CROP_RETRIES = [
  { pad: 0.5, minSide: 320 },
  { pad: 1, minSide: 320 },
];
/** Score a crop's retry accepts (the picture is expected to hold a face), and the weaker score that
 *  still counts as evidence that it is a face crop when the box fills a good part of the picture. */
const RETRY_SCORE = 0.3;
const EVIDENCE_SCORE = 0.1;
const EVIDENCE_AREA = 0.2;

const mapFace = (f: Face, sx: number, sy: number, ox: number, oy: number): Face => ({
  ...f,
  box: [f.box[0] * sx + ox, f.box[1] * sy + oy, f.box[2] * sx, f.box[3] * sy],
  landmarks: f.landmarks.map(([x, y]) => [x * sx + ox, y * sy + oy]),
});

/** One detector pass on a copy scaled to at most maxSide, in the raster's pixels. Too thin a
 *  picture (under 16 px after scaling) holds no face the detector could find. */
async function scaledPass(raster: Raster, detector: FaceDetector, maxSide: number, minConfidence: number, maxResults: number): Promise<Face[]> {
  const side = Math.max(raster.width, raster.height);
  const k = maxSide > 0 && side > maxSide ? side / maxSide : 1;
  const w = Math.max(1, Math.round(raster.width / k));
  const h = Math.max(1, Math.round(raster.height / k));
  if (Math.min(w, h) < 16) return [];
  const small = k === 1 ? raster : await resizeRaster(raster, w, h);
  const found = await detector(small, { minConfidence, maxResults });
  return k === 1 ? found : found.map((f) => mapFace(f, raster.width / w, raster.height / h, 0, 0));
}

/** SSD pads a picture to a square and scales it to this side. */
const SSD_SIDE = 512;
/** Faces below this many pixels in the detector's input are found unreliably: when the whole
 *  picture's pass finds one that small, there are likely smaller ones it missed (a crowd, a grid
 *  of faces), and tiles sized to show them at TILE_FACE pixels are detected too. */
const SMALL_FACE = 32;
const TILE_FACE = 48;
const MAX_TILES = 36;

/** Detections over the whole picture, plus tiles when it is big or shows small faces. */
async function detectAll(raster: Raster, detector: FaceDetector, o: Required<Omit<FindOptions, 'mode'>>): Promise<Face[]> {
  const maxResults = Math.max(DEFAULT_MAX_FACES, o.maxFaces);
  const whole = await scaledPass(raster, detector, o.detectMaxSide, o.minConfidence, maxResults);
  const side = Math.max(raster.width, raster.height);
  const smallest = Math.min(...whole.map((f) => Math.min(f.box[2], f.box[3])));
  const small = o.tileAbove > 0 && (smallest * SSD_SIDE) / side < SMALL_FACE;
  if (!(o.tileAbove > 0 && (side > o.tileAbove || small))) return whole;
  let t = small ? Math.max(SSD_SIDE, Math.min(o.tileSide, Math.round((smallest * SSD_SIDE) / TILE_FACE))) : o.tileSide;
  // Bound the work: larger tiles when a huge picture would need too many.
  while (tileStarts(raster.width, Math.min(t, raster.width), t / 5).length * tileStarts(raster.height, Math.min(t, raster.height), t / 5).length > MAX_TILES) t = Math.round(t * 1.25);
  const cands = whole.map((face) => ({ face, rank: face.score }));
  const tw = Math.min(t, raster.width);
  const th = Math.min(t, raster.height);
  for (const y0 of tileStarts(raster.height, th, Math.round(th / 5))) {
    for (const x0 of tileStarts(raster.width, tw, Math.round(tw / 5))) {
      const tile = cropRaster(raster, x0, y0, tw, th);
      for (const f of await scaledPass(tile, detector, o.detectMaxSide, o.minConfidence, maxResults)) {
        const face = mapFace(f, 1, 1, x0, y0);
        const [bx, by, bw, bh] = f.box;
        const edge = 2;
        const cut = (bx < edge && x0 > 0) || (by < edge && y0 > 0) || (bx + bw > tw - edge && x0 + tw < raster.width) || (by + bh > th - edge && y0 + th < raster.height);
        cands.push({ face, rank: cut ? f.score / 2 : f.score });
      }
    }
  }
  return mergeDetections(cands);
}

/** Padded, upscaled copies of a crop-shaped picture; also says whether a weak detection filling
 *  much of the picture suggests it is a face crop. */
async function retryCrop(raster: Raster, detector: FaceDetector, minConfidence: number, maxResults: number): Promise<{ faces: Face[]; evidence: boolean }> {
  let evidence = false;
  const accept = Math.min(minConfidence, RETRY_SCORE);
  for (const { pad, minSide } of CROP_RETRIES) {
    const prep = prepareForDetection(raster, pad, minSide);
    const found = (await detector(prep.img, { minConfidence: Math.min(accept, EVIDENCE_SCORE), maxResults })).map((f) => fromPrepared(f, prep));
    const faces = found.filter((f) => f.score >= accept);
    if (faces.length) return { faces, evidence: true };
    evidence ||= found.some((f) => area(clipBox(f.box, raster.width, raster.height)) > EVIDENCE_AREA * raster.width * raster.height);
  }
  return { faces: [], evidence };
}

/** The whole picture as one undetected face. */
const wholeFace = (r: Raster): FoundFace => ({ box: [0, 0, r.width, r.height], score: 0, landmarks: [], detected: false });

/** The faces of a picture (see the file comment), in reading order, boxes clipped to it. */
export async function findFaces(raster: Raster, detector: FaceDetector, opts: FindOptions = {}): Promise<FoundFaces> {
  const o = {
    minConfidence: opts.minConfidence ?? 0.5,
    maxFaces: opts.maxFaces ?? DEFAULT_MAX_FACES,
    detectMaxSide: opts.detectMaxSide ?? 1024,
    tileAbove: opts.tileAbove ?? 2560,
    tileSide: opts.tileSide ?? 1920,
  };
  if (!(Number.isInteger(o.maxFaces) && o.maxFaces >= 1)) throw new Error(`maxFaces must be a positive integer, got ${opts.maxFaces}`);
  const mode = opts.mode ?? 'auto';
  if (!FACE_MODES.includes(mode)) throw new Error(`faces mode must be ${FACE_MODES.join(', ')}, got "${mode}"`);
  if (mode === 'whole') return { faces: [wholeFace(raster)], dropped: 0 };
  let found = await detectAll(raster, detector, o);
  let evidence = false;
  if (found.length === 0 && mode === 'auto' && cropShaped(raster)) {
    const retry = await retryCrop(raster, detector, o.minConfidence, Math.max(DEFAULT_MAX_FACES, o.maxFaces));
    found = retry.faces;
    evidence = retry.evidence;
  }
  if (found.length === 0 && mode === 'auto' && cropShaped(raster) && (evidence || Math.max(raster.width, raster.height) <= TINY_SIDE)) {
    return { faces: [wholeFace(raster)], dropped: 0 };
  }
  const kept = found.slice(0, o.maxFaces).map((f): FoundFace => ({ ...f, box: clipBox(f.box, raster.width, raster.height), detected: true }));
  return { faces: readingOrder(kept.filter((f) => f.box[2] > 0 && f.box[3] > 0)), dropped: Math.max(0, found.length - o.maxFaces) };
}
