// Face boxes in pictures, without Node APIs (shared with the browser build): clipping to the
// picture and the reading order faces are numbered in.
import type { Face } from '../data/align.js';

/** [x, y, w, h] clipped to a width×height picture. */
export function clipBox(b: Face['box'], width: number, height: number): Face['box'] {
  const x0 = Math.min(Math.max(0, b[0]), width);
  const y0 = Math.min(Math.max(0, b[1]), height);
  const x1 = Math.min(Math.max(0, b[0] + b[2]), width);
  const y1 = Math.min(Math.max(0, b[1] + b[3]), height);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Rows top to bottom (a face joins a row when its centre is within 0.6 face heights of the
 *  row's), each row left to right: the order a person numbers faces in. */
export function readingOrder<T extends { box: Face['box'] }>(faces: readonly T[]): T[] {
  const cy = (f: T) => f.box[1] + f.box[3] / 2;
  const rows: { faces: T[]; cy: number; h: number }[] = [];
  for (const f of [...faces].sort((a, b) => cy(a) - cy(b))) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(cy(f) - row.cy) < 0.6 * row.h) {
      row.faces.push(f);
      row.cy += (cy(f) - row.cy) / row.faces.length;
      row.h += (f.box[3] - row.h) / row.faces.length;
    } else rows.push({ faces: [f], cy: cy(f), h: f.box[3] });
  }
  return rows.flatMap((r) => r.faces.sort((a, b) => a.box[0] + a.box[2] / 2 - (b.box[0] + b.box[2] / 2)));
}

