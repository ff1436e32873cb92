// Where faces are in a picture, pure (no Node APIs; the browser build shares it): tiles over a big
// picture, merging the detections of overlapping passes, boxes clipped to the picture, and the
// reading order faces are numbered in.
import type { Face } from './align.js';

/** At most this many faces per picture or frame unless told otherwise; results count the rest. */
export const DEFAULT_MAX_FACES = 100;

/** Start offsets of n tiles of `tile` px covering `length` with at least `overlap` px shared. */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const n = Math.ceil((length - tile) / (tile - overlap)) + 1;
  return Array.from({ length: n }, (_, i) => Math.round(((length - tile) * i) / (n - 1)));
}

export const area = (b: Face['box']) => Math.max(0, b[2]) * Math.max(0, b[3]);
function overlap(a: Face['box'], b: Face['box']): { iou: number; ofSmaller: number } {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = area(a) + area(b) - inter;
  return { iou: union > 0 ? inter / union : 0, ofSmaller: inter / Math.max(1e-9, Math.min(area(a), area(b))) };
}

/** Greedy non-maximum suppression over detections of several passes: by rank (score, lowered for
 *  boxes cut by a tile's inner edge), a face is dropped when it overlaps a kept one (IoU > 0.3) or
 *  lies mostly inside it (a part of the same face seen at a tile edge). */
export function mergeDetections(cands: readonly { face: Face; rank: number }[]): Face[] {
  const kept: Face[] = [];
  for (const c of [...cands].sort((a, b) => b.rank - a.rank)) {
    if (kept.some((k) => {
      const o = overlap(k.box, c.face.box);
      return o.iou > 0.3 || o.ofSmaller > 0.6;
    })) continue;
    kept.push(c.face);
  }
  return kept.sort((a, b) => b.score - a.score);
}

/** [x, y, w, h] clipped to the picture. */
export function clipBox(b: Face['box'], width: number, height: number): Face['box'] {
  const x0 = Math.min(Math.max(0, b[0]), width);
  const y0 = Math.min(Math.max(0, b[1]), height);
  const x1 = Math.min(Math.max(0, b[0] + b[2]), width);
  const y1 = Math.min(Math.max(0, b[1] + b[3]), height);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Rows top to bottom, each left to right: the order a person numbers faces in. A face joins the
 *  current row when its vertical extent overlaps the row's (mean centre and height) by at least 30%
 *  of the smaller height, so people standing a little higher or lower stay in one row. */
export function readingOrder<T extends { box: Face['box'] }>(faces: readonly T[]): T[] {
  const cy = (f: T) => f.box[1] + f.box[3] / 2;
  const rows: { faces: T[]; cy: number; h: number }[] = [];
  for (const f of [...faces].sort((a, b) => cy(a) - cy(b))) {
    const row = rows[rows.length - 1];
    const shared = row ? Math.min(row.cy + row.h / 2, f.box[1] + f.box[3]) - Math.max(row.cy - row.h / 2, f.box[1]) : 0;
    if (row && shared >= 0.3 * Math.min(row.h, f.box[3])) {
      row.faces.push(f);
      row.cy += (cy(f) - row.cy) / row.faces.length;
      row.h += (f.box[3] - row.h) / row.faces.length;
    } else rows.push({ faces: [f], cy: cy(f), h: f.box[3] });
  }
  return rows.flatMap((r) => r.faces.sort((a, b) => a.box[0] + a.box[2] / 2 - (b.box[0] + b.box[2] / 2)));
}
